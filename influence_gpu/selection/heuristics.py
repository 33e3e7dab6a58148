"""Simulation-free seed heuristics: highest degree, degree discount, k-shell, uniform random.

Each comes as a function returning the ids (``degree``, ``degree_discount``, ``kshell``,
``random_seeds``) and as a :class:`~influence_gpu.selection.base.SeedSelector` class
(``Degree``, ``DegreeDiscount``, ``KShell``, ``RandomSeeds``). Ties are broken
deterministically in favour of the lower node id.
"""

from __future__ import annotations

import heapq
import time

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import (
    SelectionResult,
    Selector,
    check_graph,
    check_k,
    make_result,
)

__all__ = [
    "degree",
    "degree_discount",
    "kshell",
    "core_numbers",
    "random_seeds",
    "Degree",
    "DegreeDiscount",
    "KShell",
    "RandomSeeds",
]


def _check(graph: DiffusionGraph, k: int) -> int:
    return check_k(k, check_graph(graph).num_nodes)


def _top_k(score: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest scores, ties to the lower index."""
    order = torch.argsort(-score, stable=True)
    return order[:k]


def degree(graph: DiffusionGraph, k: int) -> torch.Tensor:
    """The ``k`` nodes of largest out-degree (distinct out-arcs), ties to the lower id.

    Args:
        graph: the graph.
        k: number of seeds, ``1 <= k <= num_nodes``.

    Returns:
        ``[k]`` int64 internal ids, highest degree first.

    Raises:
        ValueError: ``k`` out of range.

    Shapes:
        output ``[k]``.
    """
    k = _check(graph, k)
    return _top_k(graph.out_degree().to(torch.float64), k)


def degree_discount(graph: DiffusionGraph, k: int, p: float = 0.01) -> torch.Tensor:
    """DegreeDiscountIC (Chen, Wang, Yang, KDD 2009).

    Start from ``dd_v = d_v`` (out-degree). After each pick ``u`` (largest ``dd``, ties to the
    lower id), every non-seed out-neighbour ``v`` of ``u`` gets ``t_v += 1`` and
    ``dd_v = d_v - 2 t_v - (d_v - t_v) t_v p``. On an undirected graph (both arcs stored) this is
    the paper's algorithm; on a directed graph ``t_v`` counts the seeds that can activate ``v``
    (its seed in-neighbours), our reading of the undirected derivation.

    Args:
        graph: the graph.
        k: number of seeds, ``1 <= k <= num_nodes``.
        p: the uniform propagation probability the discount assumes, in [0, 1].

    Returns:
        ``[k]`` int64 internal ids in the order chosen.

    Raises:
        ValueError: ``k`` out of range or ``p`` outside [0, 1].

    Shapes:
        output ``[k]``.
    """
    k = _check(graph, k)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    device = graph.device
    d = graph.out_degree().to(torch.float64).cpu().numpy()
    t = np.zeros_like(d)
    dd = d.copy()
    selected = np.zeros(graph.num_nodes, dtype=bool)
    rowptr, col = graph.rowptr.cpu().numpy(), graph.col.cpu().numpy()
    # lazy max-heap of (-dd, id): an entry is used only while it equals the node's current dd
    heap = [(-float(x), i) for i, x in enumerate(dd.tolist())]
    heapq.heapify(heap)
    out = []
    while len(out) < k:
        neg, u = heapq.heappop(heap)
        if selected[u] or -neg != dd[u]:
            continue  # stale: the node's discount changed after this entry was pushed
        out.append(u)
        selected[u] = True
        nbr = col[rowptr[u] : rowptr[u + 1]]
        nbr = nbr[~selected[nbr]]
        t[nbr] += 1
        dd[nbr] = d[nbr] - 2 * t[nbr] - (d[nbr] - t[nbr]) * t[nbr] * p
        for v in nbr.tolist():
            heapq.heappush(heap, (-float(dd[v]), v))
    return torch.tensor(out, dtype=torch.long, device=device)


def random_seeds(
    graph: DiffusionGraph, k: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``k`` distinct nodes drawn uniformly at random.

    Args:
        graph: the graph.
        k: number of seeds, ``1 <= k <= num_nodes``.
        generator: random generator (any device; the draw is made on its device).

    Returns:
        ``[k]`` int64 internal ids on the graph's device.

    Raises:
        ValueError: ``k`` out of range.

    Shapes:
        output ``[k]``.
    """
    k = _check(graph, k)
    dev = generator.device if generator is not None else torch.device("cpu")
    perm = torch.randperm(graph.num_nodes, generator=generator, device=dev)
    return perm[:k].to(graph.device)


def core_numbers(graph: DiffusionGraph) -> torch.Tensor:
    """k-shell index of every node (Batagelj and Zaversnik 2003, O(n + m)).

    Computed on the undirected simple view of the graph (an arc in either direction joins two
    nodes), as networkx's ``core_number`` does for undirected graphs.

    Returns:
        ``[n]`` int64 core numbers.

    Shapes:
        output ``[n]``.
    """
    n = graph.num_nodes
    src, dst = graph.src.cpu().numpy(), graph.col.cpu().numpy()
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    code = np.unique(a.astype(np.int64) * n + b)
    a, b = code // n, code % n
    ends = np.concatenate([a, b])
    nbrs = np.concatenate([b, a])
    order = np.argsort(ends, kind="stable")
    nbrs = nbrs[order]
    deg = np.bincount(ends, minlength=n).astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=ptr[1:])
    # bucket sort by degree: vert in degree order, pos = position of each node in vert
    md = int(deg.max()) if n else 0
    bin_start = np.zeros(md + 2, dtype=np.int64)
    np.cumsum(np.bincount(deg, minlength=md + 1), out=bin_start[1:])
    vert = np.argsort(deg, kind="stable")
    pos = np.empty(n, dtype=np.int64)
    pos[vert] = np.arange(n)
    bins = bin_start[:-1].copy()
    deg = deg.copy()
    vert_l, pos_l, deg_l, bins_l = vert.tolist(), pos.tolist(), deg.tolist(), bins.tolist()
    ptr_l, nbrs_l = ptr.tolist(), nbrs.tolist()
    for i in range(n):
        v = vert_l[i]
        dv = deg_l[v]
        for u in nbrs_l[ptr_l[v] : ptr_l[v + 1]]:
            du = deg_l[u]
            if du > dv:
                pu, pw = pos_l[u], bins_l[du]
                w = vert_l[pw]
                if u != w:
                    vert_l[pu], vert_l[pw] = w, u
                    pos_l[u], pos_l[w] = pw, pu
                bins_l[du] += 1
                deg_l[u] = du - 1
    return torch.tensor(deg_l, dtype=torch.long, device=graph.device)


def kshell(graph: DiffusionGraph, k: int) -> torch.Tensor:
    """The ``k`` nodes of the highest k-shells (Kitsak et al. 2010), ties by degree then id.

    Args:
        graph: the graph.
        k: number of seeds, ``1 <= k <= num_nodes``.

    Returns:
        ``[k]`` int64 internal ids: largest core number first, then largest out-degree, then
        lowest id.

    Shapes:
        output ``[k]``.
    """
    k = _check(graph, k)
    core = core_numbers(graph).cpu().numpy()
    deg = graph.out_degree().cpu().numpy()
    order = np.lexsort((np.arange(graph.num_nodes), -deg, -core))
    return torch.as_tensor(order[:k].copy(), dtype=torch.long, device=graph.device)


class _Heuristic(Selector):
    """``select`` of the simulation-free heuristics (one score function each)."""

    def _ids(self, graph: DiffusionGraph, k: int, generator: torch.Generator | None):
        raise TypeError("use Degree, DegreeDiscount, KShell or RandomSeeds")  # pragma: no cover

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds (no objective estimate: ``prefix_objective`` is empty).

        Raises:
            ValueError: ``k`` out of range.
        """
        t0 = time.perf_counter()
        return make_result(graph, self.name, self._ids(graph, k, generator), t0)


class Degree(_Heuristic):
    """Highest out-degree first."""

    name = "degree"

    def _ids(self, graph, k, generator):
        return degree(graph, k)


class DegreeDiscount(_Heuristic):
    """DegreeDiscountIC (Chen, Wang, Yang, KDD 2009).

    Args:
        p: the uniform IC probability the discount assumes.
    """

    name = "degree_discount"

    def __init__(self, p: float = 0.01) -> None:
        self.p = p

    def _ids(self, graph, k, generator):
        return degree_discount(graph, k, p=self.p)


class KShell(_Heuristic):
    """Static k-shell decomposition (Batagelj-Zaversnik), highest shell first, ties by degree."""

    name = "kshell"

    def _ids(self, graph, k, generator):
        return kshell(graph, k)


class RandomSeeds(_Heuristic):
    """Uniformly random distinct seeds (drawn with the ``generator`` of ``select``)."""

    name = "random"

    def _ids(self, graph, k, generator):
        return random_seeds(graph, k, generator=generator)
