"""Simulation-free seed heuristics: highest degree, degree discount, uniform random.

Ties are broken deterministically in favour of the lower node id.
"""

from __future__ import annotations

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["degree", "degree_discount", "random_seeds"]


def _check(graph: DiffusionGraph, k: int) -> None:
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k < 1 or k > graph.num_nodes:
        raise ValueError(f"k must be between 1 and num_nodes={graph.num_nodes}, got {k}")


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
    _check(graph, k)
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
    _check(graph, k)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    d = graph.out_degree().to(torch.float64)
    t = torch.zeros_like(d)
    dd = d.clone()
    selected = torch.zeros(graph.num_nodes, dtype=torch.bool, device=d.device)
    rowptr, col = graph.rowptr, graph.col
    out = []
    for _ in range(k):
        score = dd.masked_fill(selected, float("-inf"))
        u = int(torch.argmax(score))  # first maximum: the lowest id among ties
        out.append(u)
        selected[u] = True
        nbr = col[int(rowptr[u]) : int(rowptr[u + 1])]
        nbr = nbr[~selected[nbr]]
        t[nbr] += 1
        dd[nbr] = d[nbr] - 2 * t[nbr] - (d[nbr] - t[nbr]) * t[nbr] * p
    return torch.tensor(out, dtype=torch.long, device=d.device)


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
    _check(graph, k)
    dev = generator.device if generator is not None else torch.device("cpu")
    perm = torch.randperm(graph.num_nodes, generator=generator, device=dev)
    return perm[:k].to(graph.device)
