"""Per-node statistics of a graph, computed once and cached on disk (paper B, NIE features).

The Neural Influence Estimator of paper B (Sec. IV-B2) describes a seed set by the out-neighbours,
the closeness centrality and the clustering coefficient of its nodes, and notes that these can be
precomputed offline once per network. :func:`compute_statistics` does that and stores the result
under ``<cache>/stats/<graph.content_hash()>.pt``, so a later call on the same graph (same
structure *and* same edge probabilities) reads it back and a modified graph misses the cache.

* **Closeness** is the Wasserman-Faust variant over the nodes reachable *from* ``u`` (outward
  distances: how fast ``u`` can spread), ``C(u) = (r - 1)^2 / ((n - 1) * sum_v d(u, v))`` with
  ``r`` the number of nodes reachable from ``u`` including itself, and ``0`` when nothing is
  reachable. This equals ``networkx.closeness_centrality(G.reverse(), wf_improved=True)``
  (networkx measures *incoming* distances on a DiGraph, hence the reverse). Exact, it needs a
  BFS from every node; they run 1,024 sources at a time as bit-parallel BFS (one bit per source
  in ``uint64`` words, frontiers OR-reduced over the arcs), about two seconds on p2p-Gnutella24
  on two CPU cores (``benchmarks/nie_statistics.py``). On large graphs (``closeness="auto"``
  above ``n * m = 5e10``, e.g. web-Stanford) it is estimated from BFS runs on the reverse graph
  from sampled targets (Eppstein and Wang 2004), with a standard error stated in
  :func:`compute_statistics` and stored per node.
* **Clustering** is the directed clustering coefficient of Fagiolo (2007), the definition of
  ``networkx.clustering`` on a DiGraph: ``c(u) = T(u) / (2 (d_tot (d_tot - 1) - 2 d_rec))`` with
  ``T(u) = ((A + A^T)^3)_{uu}``, ``d_tot`` the in- plus out-degree and ``d_rec`` the number of
  reciprocated arcs; computed exactly by degree-ordered triangle listing with sparse products
  (one to two seconds on web-Stanford).
* **Mean in-edge probability** ``c(v)`` (paper B, Alg. 1, line 2): the mean ``edge_prob`` over the
  in-arcs of ``v`` (0 when ``v`` has none).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike

__all__ = ["NodeStatistics", "compute_statistics", "stats_cache_dir", "stats_cache_key"]

#: Format version of the cached files; bump when the stored fields or definitions change.
#: Version 2 added the closeness method, its parameters and ``closeness_stderr``; version-1
#: files (all exact) are still read.
STATS_VERSION = 2

#: Values of ``compute_statistics(closeness=...)``.
CLOSENESS_METHODS = ("auto", "exact", "sampled")

#: ``closeness="auto"`` is exact when ``num_nodes * num_edges`` is at most this, sampled above.
AUTO_EXACT_MAX_WORK = 5 * 10**10

#: Sampled closeness: nodes with fewer sampled targets than this at distance >= 2 (so few
#: reachable nodes, about this many ``* n / s``) get their exact closeness by BFS instead.
SAMPLED_EXACT_HITS = 8

#: Default number of sampled targets of the sampled closeness (four bit-parallel BFS batches).
DEFAULT_CLOSENESS_SAMPLES = 4096

_TENSOR_FIELDS = (
    "rowptr",
    "col",
    "out_degree",
    "in_degree",
    "closeness",
    "reach",
    "distance_sum",
    "clustering",
    "in_prob_mean",
    "closeness_stderr",
)


def stats_cache_dir() -> Path:
    """Default cache folder: ``$INFLUENCE_GPU_CACHE/stats`` or ``~/.cache/influence_gpu/stats``."""
    root = os.environ.get("INFLUENCE_GPU_CACHE") or Path.home() / ".cache" / "influence_gpu"
    return Path(root) / "stats"


@dataclass
class NodeStatistics:
    """Per-node statistics of one graph (paper B, Sec. IV-B2 and Alg. 1).

    Attributes:
        num_nodes: ``n``.
        graph_hash: ``content_hash()`` of the graph they were computed on.
        rowptr: ``[n + 1]`` int64 out-neighbour CSR offsets (the graph's own CSR).
        col: ``[E]`` int64 out-neighbours, sorted within each row.
        out_degree: ``[n]`` int64 number of out-arcs.
        in_degree: ``[n]`` int64 number of in-arcs.
        closeness: ``[n]`` float64 Wasserman-Faust closeness over nodes reachable from ``u``
            (an estimate when ``closeness_method == "sampled"``).
        reach: ``[n]`` int64 number of nodes reachable from ``u``, ``u`` included (sampled:
            the estimate, rounded).
        distance_sum: ``[n]`` int64 sum of hop distances from ``u`` to the nodes it reaches
            (sampled: the estimate, rounded).
        clustering: ``[n]`` float64 directed clustering coefficient (networkx definition).
        in_prob_mean: ``[n]`` float64 mean in-edge probability ``c(v)`` (0 without in-arcs).
        closeness_stderr: ``[n]`` float64 standard error of ``closeness`` (zeros when exact;
            see :func:`compute_statistics`).
        closeness_method: ``"exact"`` or ``"sampled"``.
        closeness_samples: number of targets the closeness used (``n`` when exact).
        closeness_seed: seed of the target sample (``None`` when exact).
        seconds: wall time of each part (``closeness``, ``clustering``, ``in_prob_mean``,
            ``total``) when computed.
        from_cache: whether this object was read from the disk cache.

    Shapes:
        ``n = num_nodes``, ``E`` = number of arcs; as listed above.
    """

    num_nodes: int
    graph_hash: str
    rowptr: torch.Tensor
    col: torch.Tensor
    out_degree: torch.Tensor
    in_degree: torch.Tensor
    closeness: torch.Tensor
    reach: torch.Tensor
    distance_sum: torch.Tensor
    clustering: torch.Tensor
    in_prob_mean: torch.Tensor
    closeness_stderr: torch.Tensor | None = None
    closeness_method: str = "exact"
    closeness_samples: int | None = None
    closeness_seed: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    from_cache: bool = False

    def __post_init__(self) -> None:
        if self.closeness_stderr is None:
            self.closeness_stderr = torch.zeros_like(self.closeness)
        if self.closeness_samples is None:
            self.closeness_samples = self.num_nodes

    @property
    def device(self) -> torch.device:
        """Device of the tensors."""
        return self.col.device

    def to(self, device: DeviceLike) -> NodeStatistics:
        """Return a copy with every tensor on ``device`` (``self`` if already there)."""
        if device is None or torch.device(device) == self.device:
            return self
        kw = {name: getattr(self, name).to(device) for name in _TENSOR_FIELDS}
        return NodeStatistics(
            num_nodes=self.num_nodes,
            graph_hash=self.graph_hash,
            seconds=dict(self.seconds),
            from_cache=self.from_cache,
            **self._meta(),
            **kw,
        )

    def _meta(self) -> dict[str, Any]:
        return {
            "closeness_method": self.closeness_method,
            "closeness_samples": self.closeness_samples,
            "closeness_seed": self.closeness_seed,
        }

    def state_dict(self) -> dict[str, Any]:
        """Plain dict (tensors on CPU, strings, numbers) as stored in the cache file."""
        out: dict[str, Any] = {name: getattr(self, name).cpu() for name in _TENSOR_FIELDS}
        out.update(
            version=STATS_VERSION,
            num_nodes=self.num_nodes,
            graph_hash=self.graph_hash,
            seconds=dict(self.seconds),
            **self._meta(),
        )
        return out

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], source: str = "state") -> NodeStatistics:
        """Inverse of :meth:`state_dict`; also reads version-1 files (exact closeness).

        Raises:
            ValueError: a missing field or an unknown format version.
        """
        version = state.get("version")
        if version not in (1, STATS_VERSION):
            raise ValueError(
                f"{source}: statistics format version {version!r}, expected {STATS_VERSION}"
            )
        fields = _TENSOR_FIELDS if version == STATS_VERSION else _TENSOR_FIELDS[:-1]
        meta = ("closeness_method", "closeness_samples") if version == STATS_VERSION else ()
        missing = [k for k in (*fields, *meta, "num_nodes", "graph_hash") if k not in state]
        if missing:
            raise ValueError(f"{source}: statistics file lacks {missing}")
        seed = state.get("closeness_seed")
        return cls(
            num_nodes=int(state["num_nodes"]),
            graph_hash=str(state["graph_hash"]),
            seconds=dict(state.get("seconds", {})),
            closeness_method=str(state.get("closeness_method", "exact")),
            closeness_samples=int(state.get("closeness_samples", state["num_nodes"])),
            closeness_seed=None if seed is None else int(seed),
            **{name: state[name] for name in fields},
        )


# ------------------------------------------------------------------------------------ closeness
def _popcount_rows(words: np.ndarray) -> np.ndarray:
    """Number of set bits in each row of a ``[k, w]`` uint64 array, as int64 ``[k]``."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    return np.unpackbits(words.view(np.uint8), axis=1).sum(axis=1, dtype=np.int64)


def _bit_bfs(
    rowptr: np.ndarray,
    col: np.ndarray,
    in_src: np.ndarray,
    in_dst: np.ndarray,
    n: int,
    srcs: np.ndarray,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Bit-parallel BFS from ``srcs`` along the arcs ``rowptr``/``col``; yields each level.

    Bit ``j`` of a node's row marks that source ``srcs[j]`` has reached it. A level ORs the
    frontier rows of the in-neighbours of each node: when the frontier's out-arcs are few they
    are gathered from the CSR and sorted by head (cost proportional to the frontier, so the long
    thin tails of web graphs cost little); otherwise the in-arcs ``in_src -> in_dst`` (sorted by
    ``in_dst``) whose tail is in the frontier are OR-reduced in place.

    Yields:
        ``(level, nodes, bits)``: the nodes first reached at hop distance ``level >= 1`` by at
        least one source (sorted), and ``[len(nodes), ceil(len(srcs) / 64)]`` uint64 rows of
        which sources reached each one at that distance.
    """
    b = srcs.size
    words = (b + 63) // 64
    j = np.arange(b)
    one = np.uint64(1)
    visited = np.zeros((n, words), dtype=np.uint64)
    visited[srcs, j // 64] |= one << (j % 64).astype(np.uint64)  # srcs are distinct
    f_nodes = np.unique(srcs)
    f_bits = visited[f_nodes]
    m = col.size
    pos = np.full(n, -1, dtype=np.int64)
    level = 0
    while f_nodes.size:
        level += 1
        deg = rowptr[f_nodes + 1] - rowptr[f_nodes]
        total = int(deg.sum())
        if total == 0:
            return
        if 4 * total < m:  # sparse frontier: expand its out-arcs and group them by head
            owner = np.repeat(np.arange(f_nodes.size), deg)
            first = np.repeat(rowptr[f_nodes] - (np.cumsum(deg) - deg), deg)
            heads = col[np.arange(total) + first]
            order = np.argsort(heads, kind="stable")
            heads, owner = heads[order], owner[order]
        else:  # dense frontier: the in-arcs whose tail is in it, already grouped by head
            pos[f_nodes] = np.arange(f_nodes.size)
            live = pos[in_src] >= 0
            heads, owner = in_dst[live], pos[in_src[live]]
            pos[f_nodes] = -1
        starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
        tgt = heads[starts]
        new = np.bitwise_or.reduceat(f_bits[owner], starts, axis=0) & ~visited[tgt]
        keep = new.any(axis=1)
        f_nodes, f_bits = tgt[keep], new[keep]
        visited[f_nodes] |= f_bits
        if f_nodes.size:
            yield level, f_nodes, f_bits


def _in_arcs(rowptr: np.ndarray, col: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Arcs ``(tail, head)`` of a CSR sorted by head (tails ascending within a head)."""
    src = np.repeat(np.arange(n), np.diff(rowptr))
    order = np.argsort(col, kind="stable")
    return src[order], col[order]


def _bfs_distance_sums(
    rowptr: np.ndarray,
    col: np.ndarray,
    n: int,
    block: int = 1024,
    nodes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Reach counts and distance sums of every node by bit-parallel BFS over outward arcs.

    Sources are processed ``block`` at a time (:func:`_bit_bfs`); the per-source counts of newly
    reached nodes at each level come from unpacking the new bits. ``nodes`` (distinct ids)
    restricts the BFS to those sources, e.g. to check an estimate on a subset of a large
    graph; the other entries are then left at ``reach = 1, distance_sum = 0``.

    Returns:
        ``(reach [n] int64, distance_sum [n] int64)``.
    """
    in_src, in_dst = _in_arcs(rowptr, col, n)
    reach = np.ones(n, dtype=np.int64)
    dsum = np.zeros(n, dtype=np.int64)
    sources = np.flatnonzero(np.diff(rowptr) > 0)  # the others reach only themselves
    if nodes is not None:
        sources = np.intersect1d(sources, nodes)
    for a in range(0, sources.size, block):
        srcs = sources[a : a + block]
        b = srcs.size
        counts = np.zeros(b, dtype=np.int64)
        dists = np.zeros(b, dtype=np.int64)
        for level, _, new in _bit_bfs(rowptr, col, in_src, in_dst, n, srcs):
            bits = np.unpackbits(new.view(np.uint8), axis=1, bitorder="little")[:, :b]
            c = bits.sum(axis=0, dtype=np.int64)
            counts += c
            dists += level * c
        reach[srcs] += counts
        dsum[srcs] = dists
    return reach, dsum


def _closeness(reach: np.ndarray, dsum: np.ndarray, n: int) -> np.ndarray:
    """Wasserman-Faust closeness ``(r - 1)^2 / ((n - 1) * dsum)``, 0 when ``dsum == 0``."""
    out = np.zeros(n, dtype=np.float64)
    if n > 1:
        ok = dsum > 0
        r = reach[ok].astype(np.float64) - 1.0
        out[ok] = r * r / ((n - 1) * dsum[ok].astype(np.float64))
    return out


def _sampled_targets(n: int, samples: int, seed: int) -> np.ndarray:
    """``min(samples, n)`` distinct target nodes, uniform without replacement, sorted."""
    if samples >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))


def _sampled_closeness(
    rowptr: np.ndarray,
    col: np.ndarray,
    n: int,
    samples: int,
    seed: int,
    block: int = 1024,
    exact_hits: int = SAMPLED_EXACT_HITS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sampled-target closeness (Eppstein and Wang 2004, with the first hop exact).

    A BFS on the *reverse* graph from a target ``t`` gives ``d(u, t)`` for every ``u`` at once;
    ``s`` targets drawn uniformly without replacement (``block`` per bit-parallel BFS) give,
    for every ``u``, ``cnt`` (targets at distance >= 2), ``sum d`` and ``sum d^2`` over them.
    Distance-1 nodes are the out-neighbours, known exactly, so only the rest is estimated
    (Horvitz-Thompson, each ``t != u`` sampled with probability ``pi = s / n``)::

        r - 1 ~ d_out + cnt / pi,     sum_v d(u, v) ~ d_out + (sum d) / pi.

    Nodes with ``0 < d_out`` and ``cnt < exact_hits`` reach few nodes (about ``cnt / pi``), so
    an exact BFS from each of them is cheap; it replaces their estimate (stderr 0).

    Returns:
        ``(reach, distance_sum, closeness, stderr)`` float64 ``[n]``: the estimates, the
        Wasserman-Faust closeness from them, and its delta-method standard error (see
        :func:`compute_statistics`).
    """
    targets = _sampled_targets(n, samples, seed)
    s = targets.size
    # reverse graph: its CSR rows are the heads of the original arcs, its in-arcs the original
    # arcs grouped by tail (the original CSR order)
    r_src, r_dst = _in_arcs(rowptr, col, n)
    r_rowptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r_dst, minlength=n), out=r_rowptr[1:])
    tails = np.repeat(np.arange(n), np.diff(rowptr))
    cnt = np.zeros(n, dtype=np.int64)
    d1 = np.zeros(n, dtype=np.float64)
    d2 = np.zeros(n, dtype=np.float64)
    for a in range(0, s, block):
        for level, nodes, new in _bit_bfs(r_rowptr, r_src, col, tails, n, targets[a : a + block]):
            if level < 2:
                continue  # the out-neighbours are counted exactly
            c = _popcount_rows(new)
            cnt[nodes] += c
            d1[nodes] += level * c
            d2[nodes] += float(level * level) * c
    d_out = np.diff(rowptr).astype(np.float64)
    pi = s / n
    reach = 1.0 + d_out + cnt / pi
    dsum = d_out + d1 / pi
    close = np.zeros(n, dtype=np.float64)
    stderr = np.zeros(n, dtype=np.float64)
    if n > 1:
        ok = dsum > 0
        r1 = reach[ok] - 1.0
        close[ok] = r1 * r1 / ((n - 1) * dsum[ok])
        # delta method: C ~ R^2 / D, dC / C = 2 dR / R - dD / D with R = r - 1, D = sum d;
        # per target, Z_t = n (2 X_t / R - Y_t / D), X_t = [d(u, t) >= 2], Y_t = X_t d(u, t)
        mx, my, myy = cnt[ok] / s, d1[ok] / s, d2[ok] / s
        ez = 2.0 * mx / r1 - my / dsum[ok]
        ez2 = 4.0 * mx / r1**2 - 4.0 * my / (r1 * dsum[ok]) + myy / dsum[ok] ** 2
        fpc = (n - s) / (n - 1)  # finite-population correction of sampling without replacement
        var = np.maximum(ez2 - ez * ez, 0.0) * n * n / s * fpc
        stderr[ok] = close[ok] * np.sqrt(var)
    low = np.flatnonzero((cnt < exact_hits) & (d_out > 0)) if s < n else np.empty(0, np.int64)
    if low.size:
        r_low, d_low = _bfs_distance_sums(rowptr, col, n, block=block, nodes=low)
        reach[low], dsum[low] = r_low[low], d_low[low]
        close[low] = _closeness(r_low, d_low, n)[low]
        stderr[low] = 0.0
    return reach, dsum, close, stderr


# ----------------------------------------------------------------------------------- clustering
def _directed_clustering(
    rowptr: np.ndarray, col: np.ndarray, n: int, block: int = 16384
) -> np.ndarray:
    """Directed clustering (Fagiolo 2007; ``networkx.clustering`` on a DiGraph).

    ``T(u) = ((A + A^T)^3)_{uu}`` is twice the sum, over the undirected triangles ``{u, v, w}``
    of ``S = A + A^T``, of ``S_uv S_vw S_wu``. The triangles are listed once each by orienting
    ``S`` from lower to higher (degree, id) rank (``L``, the classic degree-ordering bound:
    no node has more than ``sqrt(2 |S|)`` higher-ranked neighbours, so hubs cost little):
    ``(L L) * L`` credits each triangle to its lowest and highest node, ``(L^T L) * L`` to its
    middle one. The products run in row blocks of ``block``.
    """
    import scipy.sparse as sp

    a = sp.csr_matrix((np.ones(col.size, dtype=np.float64), col, rowptr), shape=(n, n))
    s = (a + a.T).tocsr()  # 2 on reciprocated pairs, 1 on one-way arcs
    d_tot = np.asarray(s.sum(axis=1)).ravel()  # in-degree + out-degree
    d_rec = np.asarray((s == 2).sum(axis=1)).ravel()
    deg = np.diff(s.indptr)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), deg))] = np.arange(n)
    coo = s.tocoo()
    up = rank[coo.row] < rank[coo.col]
    low = sp.csr_matrix(
        (coo.data[up], (rank[coo.row[up]], rank[coo.col[up]])), shape=(n, n)
    )
    low_t = low.T.tocsr()
    tri_rank = np.zeros(n, dtype=np.float64)
    for a0 in range(0, n, block):
        rows = low[a0 : a0 + block]
        ends = (rows @ low).multiply(rows).tocsr()  # [u, w] = sum over middles v
        tri_rank[a0 : a0 + block] += np.asarray(ends.sum(axis=1)).ravel()
        tri_rank += np.bincount(ends.indices, weights=ends.data, minlength=n)
        mids = (low_t[a0 : a0 + block] @ low).multiply(rows).tocsr()  # [v, w] = sum over u
        tri_rank[a0 : a0 + block] += np.asarray(mids.sum(axis=1)).ravel()
    tri = 2.0 * tri_rank[rank]
    denom = 2.0 * (d_tot * (d_tot - 1.0) - 2.0 * d_rec)
    out = np.zeros(n, dtype=np.float64)
    ok = (tri > 0) & (denom > 0)
    out[ok] = tri[ok] / denom[ok]
    return out


# ---------------------------------------------------------------------------------- public API
def _resolve_closeness(graph: DiffusionGraph, closeness: str, samples: int) -> tuple[str, int]:
    """``(method, samples)`` actually used: ``"auto"`` resolved, ``samples`` clamped to ``n``."""
    if closeness not in CLOSENESS_METHODS:
        raise ValueError(f"closeness must be one of {CLOSENESS_METHODS}, got {closeness!r}")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"closeness_samples must be a positive int, got {samples!r}")
    n = graph.num_nodes
    if closeness == "auto":
        closeness = "exact" if n * graph.num_edges <= AUTO_EXACT_MAX_WORK else "sampled"
    return closeness, (n if closeness == "exact" else min(int(samples), n))


def _compute(graph: DiffusionGraph, method: str, samples: int, seed: int) -> NodeStatistics:
    prob = graph.require_prob()
    n = graph.num_nodes
    rowptr = graph.rowptr.cpu()
    col = graph.col.cpu()
    rp, cl = rowptr.numpy(), col.numpy()
    t0 = time.perf_counter()
    if method == "exact":
        reach, dsum = _bfs_distance_sums(rp, cl, n)
        close = _closeness(reach, dsum, n)
        stderr = np.zeros(n, dtype=np.float64)
        extra: dict[str, Any] = {"closeness_seed": None}
    else:
        reach_f, dsum_f, close, stderr = _sampled_closeness(rp, cl, n, samples, seed)
        reach, dsum = np.rint(reach_f).astype(np.int64), np.rint(dsum_f).astype(np.int64)
        extra = {"closeness_seed": seed}
    t1 = time.perf_counter()
    clustering = _directed_clustering(rp, cl, n)
    t2 = time.perf_counter()
    in_deg = torch.bincount(col, minlength=n)
    psum = torch.zeros(n, dtype=torch.float64).index_add_(0, col, prob.cpu().double())
    in_prob_mean = torch.where(in_deg > 0, psum / in_deg.clamp(min=1), torch.zeros_like(psum))
    t3 = time.perf_counter()
    return NodeStatistics(
        num_nodes=n,
        graph_hash=graph.content_hash(),
        rowptr=rowptr.clone(),
        col=col.clone(),
        out_degree=rowptr.diff(),
        in_degree=in_deg,
        closeness=torch.from_numpy(close),
        reach=torch.from_numpy(reach),
        distance_sum=torch.from_numpy(dsum),
        clustering=torch.from_numpy(clustering),
        in_prob_mean=in_prob_mean,
        closeness_stderr=torch.from_numpy(stderr),
        closeness_method=method,
        closeness_samples=samples,
        seconds={
            "closeness": t1 - t0,
            "clustering": t2 - t1,
            "in_prob_mean": t3 - t2,
            "total": t3 - t0,
        },
        **extra,
    )


def stats_cache_key(
    graph: DiffusionGraph,
    *,
    closeness: str = "auto",
    closeness_samples: int = DEFAULT_CLOSENESS_SAMPLES,
    seed: int = 0,
) -> str:
    """File stem of the cache entry for these arguments.

    ``<graph.content_hash()>`` for exact closeness (the name exact files have always had) and
    ``<graph.content_hash()>-sampled-s<samples>-seed<seed>`` for the sampled estimator, so a
    sampled file is never returned for an exact request, nor one of other parameters.
    """
    method, samples = _resolve_closeness(graph, closeness, closeness_samples)
    key = graph.content_hash()
    return key if method == "exact" else f"{key}-sampled-s{samples}-seed{int(seed)}"


def compute_statistics(
    graph: DiffusionGraph,
    cache_dir: str | os.PathLike | None = None,
    *,
    use_cache: bool = True,
    closeness: str = "auto",
    closeness_samples: int = DEFAULT_CLOSENESS_SAMPLES,
    seed: int = 0,
) -> NodeStatistics:
    """Per-node statistics of ``graph`` (paper B's precomputed data), cached on disk.

    **Closeness.** ``"exact"`` runs a BFS from every node (``O(n m)``). ``"sampled"`` is the
    estimator of Eppstein and Wang (2004, "Fast approximation of centrality") with the first
    hop exact: ``s = closeness_samples`` targets ``t`` are drawn uniformly without replacement
    (``numpy`` generator seeded by ``seed``), one BFS on the reverse graph per target (1,024 at a
    time, bit-parallel) gives ``d(u, t)`` for every ``u``, and with ``pi = s / n``::

        r(u) - 1 ~ d_out(u) + #{sampled t: d(u, t) >= 2} / pi
        sum_v d(u, v) ~ d_out(u) + sum{d(u, t): sampled t, 2 <= d(u, t) < inf} / pi

    (unbiased Horvitz-Thompson sums; out-neighbours are known exactly), then the same
    Wasserman-Faust formula. Cost ``O(s m)`` instead of ``O(n m)``; ``s >= n`` gives the exact
    values. ``"auto"`` is exact when ``n * m <= AUTO_EXACT_MAX_WORK`` (``5e10``: up to
    soc-Epinions1's size, about a minute on two cores) and sampled above (web-Stanford).

    **Stated error of the sampled closeness.** With ``R = r - 1``, ``D = sum_v d(u, v)``,
    ``X_t = [2 <= d(u, t) < inf]``, ``Y_t = X_t d(u, t)``, the delta method gives
    ``C^ / C - 1 ~ 2 dR / R - dD / D``, hence the standard error::

        se(C^(u)) = C(u) * n * sqrt(Var_t(2 X_t / R - Y_t / D) / s * (n - s) / (n - 1))

    (population variance over the targets ``t``; the last factor is the finite-population
    correction, 0 at ``s = n``). For a node that reaches a fraction ``q`` of the graph, none
    of it at distance 1, with distances of coefficient of variation ``cv``, this is
    ``C * sqrt(((1 + cv^2) / q - 1) / s)``: a relative error ``~ 1 / sqrt(s)`` for the nodes
    that reach much of the graph (e.g. ``q = 0.5, cv = 0.3``: ``1.04 / sqrt(s)``, 1.6 % at the
    default ``s = 4096``), and, since ``C <= q n / (n - 1)``, an absolute error
    ``<= sqrt(q (1 + cv^2) / s)`` for those that reach little. ``closeness_stderr`` holds this
    standard error per node, estimated from the sample moments (0 for exact values). The
    relative error is large only for nodes that reach little, whose sample holds few targets:
    those with fewer than ``SAMPLED_EXACT_HITS = 8`` sampled targets at distance >= 2 (hence
    about ``8 n / s`` reachable nodes or fewer) get exact values instead, by a BFS from each
    (cheap, as they reach little), so every estimated node rests on at least 8 hits. Measured
    on p2p-Gnutella24, email-Eu-core and 1,024 nodes of web-Stanford:
    ``benchmarks/RESULTS.md`` ("web-Stanford statistics").

    **Clustering** is exact at every size (degree-ordered triangle listing, see
    :func:`_directed_clustering`); so is the mean in-edge probability.

    **Cache.** The file is ``<cache_dir>/<stats_cache_key(...)>.pt``; the hash covers the
    structure and the edge probabilities, so any change to the graph misses the cache, and the
    key names the closeness method and (sampled) its ``s`` and ``seed``. Files are written
    atomically (temporary file, then rename), so concurrent callers never read half a file.
    Exact files of format version 1 (before sampling existed) are read as exact.

    Args:
        graph: the graph, with ``edge_prob`` set (the mean in-edge probability needs it).
        cache_dir: cache folder (default :func:`stats_cache_dir`, i.e.
            ``$INFLUENCE_GPU_CACHE/stats`` or ``~/.cache/influence_gpu/stats``).
        use_cache: ``False`` computes afresh and neither reads nor writes the cache.
        closeness: ``"auto"``, ``"exact"`` or ``"sampled"`` (above).
        closeness_samples: number of sampled targets ``s`` (clamped to ``n``; ignored when
            exact).
        seed: seed of the target sample (ignored when exact).

    Returns:
        :class:`NodeStatistics` on the CPU (``.to(device)`` moves it); ``from_cache`` tells
        whether it was read back, ``seconds`` how long each part took.

    Raises:
        ValueError: the graph has no ``edge_prob``, an unknown ``closeness`` or a
            non-positive ``closeness_samples``. (A cache file of another format version, or an
            unreadable one, is not an error: it is recomputed and overwritten.)

    Shapes:
        see :class:`NodeStatistics`.
    """
    graph.require_prob()
    method, samples = _resolve_closeness(graph, closeness, closeness_samples)
    seed = int(seed)
    if not use_cache:
        return _compute(graph, method, samples, seed)
    folder = Path(cache_dir) if cache_dir is not None else stats_cache_dir()
    key = graph.content_hash()
    stem = stats_cache_key(graph, closeness=method, closeness_samples=samples, seed=seed)
    path = folder / f"{stem}.pt"
    if path.exists():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            stats = NodeStatistics.from_state_dict(state, source=str(path))
            if (
                stats.graph_hash == key
                and stats.num_nodes == graph.num_nodes
                and stats.closeness_method == method
                and stats.closeness_samples == samples
                and (method == "exact" or stats.closeness_seed == seed)
            ):
                stats.from_cache = True
                return stats
        except Exception:  # noqa: BLE001 - unreadable or stale file: recompute, overwrite
            pass
    stats = _compute(graph, method, samples, seed)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(stats.state_dict(), tmp)
    os.replace(tmp, path)
    return stats
