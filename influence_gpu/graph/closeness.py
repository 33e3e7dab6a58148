"""Influence-based closeness (ICC, paper D) and plain closeness as node rankings.

Paper D ranks the candidate seeds of a community by how much influence flows out of them along
likely paths. Its formulas were lost in the text copy; DESIGN.md section 7.4 fixes our reading:

* **Path products.** With the threshold-model weights ``b(u, v)`` in ``graph.edge_prob``, the
  influence of ``u`` on ``v`` along a path is the product of the weights on it (under the
  minimum and multiplication models a node reached once activates with probability ``b`` and is
  blocked otherwise). ``pp(u, v)`` is the largest such product, found by Dijkstra on the arc
  lengths ``-log b(u, v)`` (arcs of weight 0 are dropped; ``pp(u, u) = 1``). ``parent(v)`` is the
  predecessor of ``v`` on that best path.
* **Scope.** Only the nodes with ``pp(u, v) >= lambda`` count (``lambda = 0.005`` by default, the
  paper's value): the Dijkstra search is cut at the length ``-log lambda``.
* **ICC.** Over those nodes ``v``, ``ICC_active(u) = sum_v pp(u, v)`` (``u`` itself included
  with ``pp = 1``, as the simulators count seeds) and
  ``ICC_blocked(u) = sum_{v != u} pp(u, parent(v)) * (1 - b(parent(v), v))``: ``v`` is reached
  through its parent and fails that arc's test. The ranking score is ``active - blocked`` for
  the non-submodular models and ``active`` for LT (:func:`icc_score`).

All sources are searched at once by ``scipy.sparse.csgraph.dijkstra`` with a ``limit``, in blocks
of ``block_size`` source rows, so the dense ``[block, n]`` distance block bounds the memory.
:func:`closeness_centrality` is the plain (hop-count) Wasserman-Faust closeness over outward
distances that paper D compares ICC with (the degree ranking is ``graph.out_degree()``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "DEFAULT_THRESHOLD",
    "max_influence_paths",
    "influence_closeness",
    "icc_score",
    "closeness_centrality",
]

#: Paper D's ``lambda``: paths whose product falls below it are outside a node's scope.
DEFAULT_THRESHOLD: float = 0.005


def _check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"threshold must be a number in (0, 1], got {threshold!r}")
    t = float(threshold)
    if not 0.0 < t <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    return t


def _check_block(block_size: Any) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    return block_size


def _length_matrix(graph: DiffusionGraph, partition: torch.Tensor | None) -> tuple[Any, ...]:
    """CSR matrix of arc lengths ``-log b`` (arcs of weight 0, or across parts, dropped).

    Returns ``(matrix, keys, prob)``: the sorted arc keys ``src * n + dst`` of the kept arcs and
    their weights, for looking up ``b(parent, v)``.
    """
    import scipy.sparse as sp

    n = graph.num_nodes
    b = graph.require_prob().detach().cpu().double().numpy()
    src = graph.src.cpu().numpy()
    dst = graph.col.cpu().numpy()
    keep = b > 0
    if partition is not None:
        part = torch.as_tensor(partition).cpu().long().numpy()
        if part.shape != (n,):
            raise ValueError(f"partition must have shape [num_nodes] = [{n}], got {part.shape}")
        keep &= part[src] == part[dst]
    src, dst, b = src[keep], dst[keep], b[keep]
    # explicit zeros (b = 1) are arcs of length 0 for csgraph; sum_duplicates never sees any
    # duplicates because the CSR has distinct arcs
    mat = sp.csr_matrix((-np.log(b), (src, dst)), shape=(n, n))
    keys = src.astype(np.int64) * n + dst  # CSR order: already sorted
    return mat, keys, b


def _blocks(graph: DiffusionGraph, sources: Any, block_size: int) -> tuple[np.ndarray, list]:
    n = graph.num_nodes
    if sources is None:
        src = np.arange(n, dtype=np.int64)
    else:
        src = torch.as_tensor(sources).reshape(-1).cpu()
        if src.is_floating_point() or src.dtype == torch.bool:
            raise TypeError(f"sources must hold integer node ids, got dtype {src.dtype}")
        src = src.long().numpy()
        if src.size and (src.min() < 0 or src.max() >= n):
            raise ValueError(f"sources has a node id out of range for num_nodes={n}")
    return src, [src[a : a + block_size] for a in range(0, src.size, block_size)]


def _dijkstra(mat: Any, rows: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(pp [B, n], parent [B, n])`` from the sources ``rows``; pp is 0 outside the scope."""
    from scipy.sparse.csgraph import dijkstra

    limit = -math.log(threshold)
    dist, pred = dijkstra(mat, directed=True, indices=rows, return_predecessors=True,
                          limit=limit * (1 + 1e-12) + 1e-12)
    dist = np.atleast_2d(dist)
    pred = np.atleast_2d(pred).astype(np.int64)
    pp = np.exp(-dist)  # exp(-inf) = 0 for the nodes beyond the limit
    pp[pp < threshold * (1 - 1e-12)] = 0.0
    pred[pp == 0.0] = -1
    pred[pred < 0] = -1  # scipy marks "no predecessor" with -9999
    return pp, pred


def max_influence_paths(
    graph: DiffusionGraph,
    sources: Any = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    partition: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest path products ``pp(u, v)`` and best-path parents from each source ``u``.

    Args:
        graph: graph whose ``edge_prob`` holds the weights ``b(u, v)`` in ``[0, 1]``.
        sources: ``[S]`` internal ids (default: every node).
        threshold: ``lambda``; products below it are reported as 0 (outside the scope).
        partition: optional ``[n]`` part labels; paths then stay inside the source's part
            (arcs between parts are ignored).

    Returns:
        ``(pp [S, n] float64, parent [S, n] int64)``: ``pp[i, v]`` is the best product from
        ``sources[i]`` to ``v`` (1 on the source itself, 0 outside the scope) and
        ``parent[i, v]`` the predecessor of ``v`` on that path (-1 for the source and for nodes
        outside the scope). Ties between equally good paths follow scipy's Dijkstra.

    Raises:
        ValueError: no ``edge_prob``, ``threshold`` outside ``(0, 1]``, bad ids or partition.

    Shapes:
        sources ``[S]``; outputs ``[S, n]``.
    """
    threshold = _check_threshold(threshold)
    mat, _, _ = _length_matrix(graph, partition)
    src, _ = _blocks(graph, sources, max(graph.num_nodes, 1))
    n = graph.num_nodes
    if src.size == 0:
        return torch.zeros(0, n, dtype=torch.float64), torch.zeros(0, n, dtype=torch.long)
    pp, pred = _dijkstra(mat, src, threshold)
    return torch.from_numpy(pp), torch.from_numpy(pred)


def influence_closeness(
    graph: DiffusionGraph,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    partition: torch.Tensor | None = None,
    sources: Any = None,
    block_size: int = 1024,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Influence-based closeness of every source: ``(ICC_active, ICC_blocked)`` (paper D).

    See the module docstring for the definitions (DESIGN 7.4).

    Args:
        graph: graph whose ``edge_prob`` holds the weights ``b(u, v)``.
        threshold: ``lambda`` (paper D: 0.005).
        partition: optional ``[n]`` part labels (e.g. communities): count only paths inside
            the source's part, paper D's "in the extent of the community" reading.
        sources: ``[S]`` internal ids (default: all nodes).
        block_size: sources per Dijkstra call (memory ``~ 16 * block_size * n`` bytes).

    Returns:
        ``(active [S], blocked [S])`` float64 CPU tensors.

    Raises:
        ValueError: as :func:`max_influence_paths`; ``block_size < 1``.

    Shapes:
        sources ``[S]`` (default ``S = n``); outputs ``[S]``.
    """
    threshold = _check_threshold(threshold)
    block_size = _check_block(block_size)
    mat, keys, prob = _length_matrix(graph, partition)
    src, blocks = _blocks(graph, sources, block_size)
    n = graph.num_nodes
    active = np.zeros(src.size, dtype=np.float64)
    blocked = np.zeros(src.size, dtype=np.float64)
    at = 0
    for rows in blocks:
        pp, pred = _dijkstra(mat, rows, threshold)
        active[at : at + rows.size] = pp.sum(axis=1)
        r, v = np.nonzero(pred >= 0)  # reached non-sources: each has a parent on its best path
        par = pred[r, v]
        if keys.size and r.size:
            b = prob[np.searchsorted(keys, par * n + v)]
            blocked[at : at + rows.size] = np.bincount(
                r, weights=pp[r, par] * (1.0 - b), minlength=rows.size
            )
        at += rows.size
    return torch.from_numpy(active), torch.from_numpy(blocked)


def icc_score(
    graph: DiffusionGraph,
    *,
    blocked_weight: float = 1.0,
    threshold: float = DEFAULT_THRESHOLD,
    partition: torch.Tensor | None = None,
    block_size: int = 1024,
) -> torch.Tensor:
    """Paper D's ranking score of every node: ``ICC_active - blocked_weight * ICC_blocked``.

    DESIGN 7.4: ``blocked_weight = 1`` (``active - blocked``) for the minimum / multiplication
    threshold models, where a failed test blocks a node, and 0 (``active``) for LT, which has no
    blocked state.

    Args:
        graph: graph with the weights ``b(u, v)`` in ``edge_prob``.
        blocked_weight: weight of ``ICC_blocked`` (>= 0).
        threshold: ``lambda``.
        partition: optional ``[n]`` part labels (paths inside each node's part only).
        block_size: sources per Dijkstra call.

    Returns:
        ``[n]`` float64 scores on the CPU.

    Raises:
        ValueError: a negative ``blocked_weight`` (and as :func:`influence_closeness`).

    Shapes:
        output ``[n]``.
    """
    w = float(blocked_weight)
    if not w >= 0:
        raise ValueError(f"blocked_weight must be >= 0, got {blocked_weight!r}")
    act, blk = influence_closeness(graph, threshold=threshold, partition=partition,
                                   block_size=block_size)
    return act - w * blk if w else act


def closeness_centrality(graph: DiffusionGraph) -> torch.Tensor:
    """Plain closeness of every node over outward hop distances (Wasserman-Faust).

    ``C(u) = (r - 1)^2 / ((n - 1) * sum_v d(u, v))`` over the ``r`` nodes reachable from ``u``
    (itself included), 0 when nothing is reachable; equal to
    ``networkx.closeness_centrality(G.reverse(), wf_improved=True)`` (networkx measures incoming
    distances on a DiGraph). The same bit-parallel BFS as
    :func:`influence_gpu.graph.statistics.compute_statistics`, without its cache.

    Returns:
        ``[n]`` float64 CPU tensor.

    Shapes:
        output ``[n]``.
    """
    from influence_gpu.graph.statistics import _bfs_distance_sums, _closeness

    n = graph.num_nodes
    reach, dsum = _bfs_distance_sums(graph.rowptr.cpu().numpy(), graph.col.cpu().numpy(), n)
    return torch.from_numpy(_closeness(reach, dsum, n))
