"""Temporal node statistics of paper E (KT / KTIM) and time windows on temporal graphs.

Paper E ("An influence maximization algorithm based on improved K-shell in temporal social
networks") ranks nodes by three statistics; its formulas did not survive, so these follow the
reading fixed in DESIGN 7.3:

* **temporal characteristic** ``TC(v) = sum over out-arcs (v, w) of n_vw``, the number of contacts
  on ``v``'s out-arcs (``edge_count``); ``direction="both"`` adds the in-arcs (undirected reading);
* **improved k-shell**: for ``k = 1, 2, ...`` repeatedly remove every node whose TC, recomputed
  over the *remaining* nodes only, is ``<= k``; the nodes removed at level ``k`` get ``Ks = k``.
  Levels at which nothing would be removed are skipped (``k`` jumps to the smallest remaining TC),
  which changes no ``Ks`` value. The layers are the distinct ``Ks`` values, the core the largest;
* **comprehensive degree** ``CD(v) = TC(v) + sum over out-neighbours w of TC(w)`` (direct plus
  indirect reach; full-graph TC); ``same_layer=True`` counts only neighbours in ``v``'s layer.

All three are vectorised (numpy): the k-shell loops over levels and, within a level, over peeling
rounds, each round removing every qualifying node at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "TemporalLayering",
    "temporal_characteristic",
    "improved_kshell",
    "comprehensive_degree",
    "temporal_layering",
    "time_window",
]

_DIRECTIONS = ("out", "both")


def _check_direction(direction: str) -> None:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")


def _arrays(graph: DiffusionGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(src, dst, contacts)`` per arc as int64 numpy arrays."""
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    src = graph.src.cpu().numpy().astype(np.int64)
    dst = graph.col.cpu().numpy().astype(np.int64)
    w = graph.edge_count.cpu().numpy().astype(np.int64)
    return src, dst, w


def temporal_characteristic(graph: DiffusionGraph, direction: str = "out") -> torch.Tensor:
    """Temporal characteristic ``TC(v)``: contacts on ``v``'s out-arcs (paper E; DESIGN 7.3).

    Args:
        graph: a graph; ``edge_count`` holds the contact counts (1 per arc on static graphs).
        direction: ``"out"`` (out-arcs only) or ``"both"`` (in- plus out-arcs).

    Returns:
        ``[n]`` int64 on the CPU.

    Raises:
        ValueError: unknown direction.

    Shapes:
        output ``[n]``.
    """
    _check_direction(direction)
    src, dst, w = _arrays(graph)
    n = graph.num_nodes
    tc = np.bincount(src, weights=w, minlength=n)
    if direction == "both":
        tc = tc + np.bincount(dst, weights=w, minlength=n)
    return torch.from_numpy(np.rint(tc).astype(np.int64))


def _incidence(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int, direction: str):
    """CSR ``node -> (other end, weight)`` of the arcs whose removal lowers the other end's TC.

    When node ``r`` is removed, every remaining ``u`` with an arc ``(u, r)`` loses ``n_ur``
    (and, for ``"both"``, every ``u`` with an arc ``(r, u)`` loses ``n_ru``).
    """
    if direction == "out":
        key, other, weight = dst, src, w
    else:
        key = np.concatenate([dst, src])
        other = np.concatenate([src, dst])
        weight = np.concatenate([w, w])
    order = np.argsort(key, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
    return ptr, other[order], weight[order]


def _gather(ptr: np.ndarray, idx: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions ``ptr[v] .. ptr[v+1]-1`` of every ``v`` in ``nodes`` (concatenated)."""
    starts, ends = ptr[nodes], ptr[nodes + 1]
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(starts - np.cumsum(lens) + lens, lens)
    return offs + np.arange(total, dtype=np.int64)


def improved_kshell(graph: DiffusionGraph, direction: str = "out") -> torch.Tensor:
    """Kernel value ``Ks`` of every node by the improved (temporal) k-shell of paper E.

    For ``k = 1, 2, ...``: repeatedly remove every node whose TC over the remaining nodes is
    ``<= k`` (all such nodes of a round at once); nodes removed at level ``k`` get ``Ks = k``.

    Args:
        graph: a graph with contact counts in ``edge_count``.
        direction: ``"out"`` or ``"both"``, as :func:`temporal_characteristic`.

    Returns:
        ``[n]`` int64 ``Ks`` (>= 1) on the CPU.

    Shapes:
        output ``[n]``.
    """
    _check_direction(direction)
    src, dst, w = _arrays(graph)
    n = graph.num_nodes
    tc = temporal_characteristic(graph, direction).numpy().copy()
    ptr, other, weight = _incidence(src, dst, w, n, direction)
    ks = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    k = 1
    left = n
    while left:
        k = max(k, int(tc[alive].min()))  # skip levels that would remove nothing
        while True:
            out = np.flatnonzero(alive & (tc <= k))
            if out.size == 0:
                break
            ks[out] = k
            alive[out] = False
            left -= out.size
            pos = _gather(ptr, other, out)
            if pos.size:
                np.subtract.at(tc, other[pos], weight[pos])
        k += 1
    return torch.from_numpy(ks)


def comprehensive_degree(
    graph: DiffusionGraph,
    tc: torch.Tensor | None = None,
    *,
    ks: torch.Tensor | None = None,
    same_layer: bool = False,
    direction: str = "out",
) -> torch.Tensor:
    """Comprehensive degree ``CD(v) = TC(v) + sum over out-neighbours w of TC(w)`` (paper E).

    Args:
        graph: the graph.
        tc: ``[n]`` temporal characteristic (default: :func:`temporal_characteristic`).
        ks: ``[n]`` kernel values; needed with ``same_layer``.
        same_layer: count only out-neighbours ``w`` with ``Ks(w) == Ks(v)``.
        direction: used when ``tc`` is computed here.

    Returns:
        ``[n]`` int64 on the CPU.

    Raises:
        ValueError: ``same_layer`` without ``ks``.

    Shapes:
        tc, ks, output ``[n]``.
    """
    src, dst, _ = _arrays(graph)
    n = graph.num_nodes
    tcn = (temporal_characteristic(graph, direction) if tc is None else tc).cpu().numpy()
    tcn = tcn.astype(np.int64)
    keep = np.ones(src.size, dtype=bool)
    if same_layer:
        if ks is None:
            raise ValueError("same_layer=True needs the kernel values ks")
        k = ks.cpu().numpy()
        keep = k[src] == k[dst]
    cd = tcn + np.bincount(src[keep], weights=tcn[dst[keep]], minlength=n).astype(np.int64)
    return torch.from_numpy(cd)


@dataclass
class TemporalLayering:
    """TC, Ks and CD of every node, and the seconds the layering took (offline work).

    Attributes:
        tc: ``[n]`` temporal characteristic.
        ks: ``[n]`` kernel values of the improved k-shell.
        cd: ``[n]`` comprehensive degree.
        seconds: wall-clock time of computing the three.
    """

    tc: torch.Tensor
    ks: torch.Tensor
    cd: torch.Tensor
    seconds: float

    @property
    def layers(self) -> list[int]:
        """The distinct ``Ks`` values, core (largest) first."""
        return sorted(set(self.ks.tolist()), reverse=True)


def temporal_layering(
    graph: DiffusionGraph, *, direction: str = "out", same_layer: bool = False
) -> TemporalLayering:
    """TC, improved k-shell and comprehensive degree in one call, timed (cached on the graph).

    Args:
        graph: the graph.
        direction: ``"out"`` or ``"both"`` (TC and the k-shell).
        same_layer: the CD option of :func:`comprehensive_degree`.

    Returns:
        :class:`TemporalLayering`; ``seconds`` is the time of the first (uncached) computation.
    """
    cache_key = f"temporal_layering:{direction}:{bool(same_layer)}"
    if cache_key not in graph._cache:
        t0 = time.perf_counter()
        tc = temporal_characteristic(graph, direction)
        ks = improved_kshell(graph, direction)
        cd = comprehensive_degree(graph, tc, ks=ks, same_layer=same_layer)
        graph._cache[cache_key] = TemporalLayering(tc, ks, cd, time.perf_counter() - t0)
    return graph._cache[cache_key]


def time_window(
    graph: DiffusionGraph,
    t0: float | None = None,
    t1: float | None = None,
    *,
    prob_scheme: str | None = "contact_count",
    **scheme_kwargs,
) -> DiffusionGraph:
    """The temporal graph restricted to contacts with ``t0 <= t <= t1`` (a new graph).

    Nodes (and labels) are kept; arcs without a contact in the window are dropped and
    ``edge_count`` becomes the number of contacts left.

    Args:
        graph: a temporal graph.
        t0: first time kept (``None``: no lower bound).
        t1: last time kept (``None``: no upper bound).
        prob_scheme: scheme of :func:`~influence_gpu.graph.probabilities.assign_probabilities`
            recomputed on the window (counts changed), or ``None`` to keep each surviving arc's
            old ``edge_prob``.
        **scheme_kwargs: options of the scheme (``beta`` for ``"contact_beta"``).

    Returns:
        A temporal :class:`DiffusionGraph` on the same device.

    Raises:
        ValueError: not a temporal graph, or ``t0 > t1``.
    """
    if not isinstance(graph, DiffusionGraph) or not graph.is_temporal:
        raise ValueError("time_window needs a temporal graph (time_ptr / time_values set)")
    if t0 is not None and t1 is not None and t0 > t1:
        raise ValueError(f"t0 must be <= t1, got t0={t0}, t1={t1}")
    dev = graph.device
    tv = graph.time_values
    keep = torch.ones(tv.numel(), dtype=torch.bool, device=dev)
    if t0 is not None:
        keep &= tv >= t0
    if t1 is not None:
        keep &= tv <= t1
    counts_all = graph.time_ptr.diff()
    contact_edge = torch.repeat_interleave(torch.arange(graph.num_edges, device=dev), counts_all)
    counts = torch.bincount(contact_edge[keep], minlength=graph.num_edges)
    arc = counts > 0
    n = graph.num_nodes
    rowptr = torch.zeros(n + 1, dtype=torch.long, device=dev)
    rowptr[1:] = torch.cumsum(torch.bincount(graph.src[arc], minlength=n), 0)
    time_ptr = torch.zeros(int(arc.sum()) + 1, dtype=torch.long, device=dev)
    time_ptr[1:] = torch.cumsum(counts[arc], 0)
    old_prob = graph.edge_prob
    out = DiffusionGraph(
        rowptr,
        graph.col[arc],
        edge_prob=None if (old_prob is None or prob_scheme is not None) else old_prob[arc],
        edge_count=counts[arc],
        edge_sign=None if graph.edge_sign is None else graph.edge_sign[arc],
        edge_delay=None if graph.edge_delay is None else graph.edge_delay[arc],
        time_ptr=time_ptr,
        time_values=tv[keep],
        node_labels=graph.node_labels,
        directed=graph.directed,
    )
    if prob_scheme is not None:
        from influence_gpu.graph.probabilities import assign_probabilities

        out = assign_probabilities(out, prob_scheme, **scheme_kwargs)
    return out
