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
  (networkx measures *incoming* distances on a DiGraph, hence the reverse). It needs a BFS from
  every node; they run 1,024 sources at a time as bit-parallel BFS (one bit per source in
  ``uint64`` words, frontiers OR-reduced over the in-arcs), which takes about two seconds on
  p2p-Gnutella24 on two CPU cores (``benchmarks/nie_statistics.py``).
* **Clustering** is the directed clustering coefficient of Fagiolo (2007), the definition of
  ``networkx.clustering`` on a DiGraph: ``c(u) = T(u) / (2 (d_tot (d_tot - 1) - 2 d_rec))`` with
  ``T(u) = ((A + A^T)^3)_{uu}``, ``d_tot`` the in- plus out-degree and ``d_rec`` the number of
  reciprocated arcs; computed with sparse products in row blocks.
* **Mean in-edge probability** ``c(v)`` (paper B, Alg. 1, line 2): the mean ``edge_prob`` over the
  in-arcs of ``v`` (0 when ``v`` has none).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike

__all__ = ["NodeStatistics", "compute_statistics", "stats_cache_dir"]

#: Format version of the cached files; bump when the stored fields or definitions change.
STATS_VERSION = 1

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
        closeness: ``[n]`` float64 Wasserman-Faust closeness over nodes reachable from ``u``.
        reach: ``[n]`` int64 number of nodes reachable from ``u``, ``u`` included.
        distance_sum: ``[n]`` int64 sum of hop distances from ``u`` to the nodes it reaches.
        clustering: ``[n]`` float64 directed clustering coefficient (networkx definition).
        in_prob_mean: ``[n]`` float64 mean in-edge probability ``c(v)`` (0 without in-arcs).
        seconds: wall time of each part (``closeness``, ``clustering``, ``total``) when computed.
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
    seconds: dict[str, float] = field(default_factory=dict)
    from_cache: bool = False

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
            **kw,
        )

    def state_dict(self) -> dict[str, Any]:
        """Plain dict (tensors on CPU, strings, numbers) as stored in the cache file."""
        out: dict[str, Any] = {name: getattr(self, name).cpu() for name in _TENSOR_FIELDS}
        out.update(
            version=STATS_VERSION,
            num_nodes=self.num_nodes,
            graph_hash=self.graph_hash,
            seconds=dict(self.seconds),
        )
        return out

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], source: str = "state") -> NodeStatistics:
        """Inverse of :meth:`state_dict`.

        Raises:
            ValueError: a missing field or another format version.
        """
        if state.get("version") != STATS_VERSION:
            raise ValueError(
                f"{source}: statistics format version {state.get('version')!r}, "
                f"expected {STATS_VERSION}"
            )
        missing = [k for k in (*_TENSOR_FIELDS, "num_nodes", "graph_hash") if k not in state]
        if missing:
            raise ValueError(f"{source}: statistics file lacks {missing}")
        return cls(
            num_nodes=int(state["num_nodes"]),
            graph_hash=str(state["graph_hash"]),
            seconds=dict(state.get("seconds", {})),
            **{name: state[name] for name in _TENSOR_FIELDS},
        )


# ------------------------------------------------------------------------------------ closeness
def _bfs_distance_sums(
    rowptr: np.ndarray, col: np.ndarray, n: int, block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Reach counts and distance sums of every node by bit-parallel BFS over outward arcs.

    Sources are processed ``block`` at a time; bit ``j`` of row ``v`` marks that source ``j``
    has reached ``v``. One BFS level ORs the frontier words of the in-neighbours of each node
    (``np.bitwise_or.reduceat`` over the in-arcs whose source is in the frontier), and the
    per-source counts of newly reached nodes come from unpacking the new bits.

    Returns:
        ``(reach [n] int64, distance_sum [n] int64)``.
    """
    out_deg = np.diff(rowptr)
    src = np.repeat(np.arange(n), out_deg)
    order = np.argsort(col, kind="stable")
    in_src, in_dst = src[order], col[order]
    reach = np.ones(n, dtype=np.int64)
    dsum = np.zeros(n, dtype=np.int64)
    sources = np.flatnonzero(out_deg > 0)  # the others reach only themselves
    one = np.uint64(1)
    for a in range(0, sources.size, block):
        srcs = sources[a : a + block]
        b = srcs.size
        words = (b + 63) // 64
        j = np.arange(b)
        frontier = np.zeros((n, words), dtype=np.uint64)
        frontier[srcs, j // 64] |= one << (j % 64).astype(np.uint64)
        visited = frontier.copy()
        counts = np.zeros(b, dtype=np.int64)
        dists = np.zeros(b, dtype=np.int64)
        level = 0
        while True:
            level += 1
            live = frontier.any(axis=1)[in_src]
            es, ed = in_src[live], in_dst[live]
            if es.size == 0:
                break
            starts = np.flatnonzero(np.r_[True, ed[1:] != ed[:-1]])
            tgt = ed[starts]
            new = np.bitwise_or.reduceat(frontier[es], starts, axis=0) & ~visited[tgt]
            keep = new.any(axis=1)
            if not keep.any():
                break
            tgt, new = tgt[keep], new[keep]
            visited[tgt] |= new
            frontier = np.zeros_like(frontier)
            frontier[tgt] = new
            bits = np.unpackbits(new.view(np.uint8), axis=1, bitorder="little")[:, :b]
            c = bits.sum(axis=0, dtype=np.int32).astype(np.int64)
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


# ----------------------------------------------------------------------------------- clustering
def _directed_clustering(
    rowptr: np.ndarray, col: np.ndarray, n: int, block: int = 4096
) -> np.ndarray:
    """Directed clustering (Fagiolo 2007; ``networkx.clustering`` on a DiGraph)."""
    import scipy.sparse as sp

    a = sp.csr_matrix(
        (np.ones(col.size, dtype=np.float64), col, rowptr), shape=(n, n)
    )
    s = (a + a.T).tocsr()  # 2 on reciprocated pairs, 1 on one-way arcs
    d_tot = np.asarray(s.sum(axis=1)).ravel()  # in-degree + out-degree
    d_rec = np.asarray((s == 2).sum(axis=1)).ravel()
    tri = np.zeros(n, dtype=np.float64)
    for a0 in range(0, n, block):
        rows = s[a0 : a0 + block]
        tri[a0 : a0 + block] = np.asarray((rows @ s).multiply(rows).sum(axis=1)).ravel()
    denom = 2.0 * (d_tot * (d_tot - 1.0) - 2.0 * d_rec)
    out = np.zeros(n, dtype=np.float64)
    ok = (tri > 0) & (denom > 0)
    out[ok] = tri[ok] / denom[ok]
    return out


# ---------------------------------------------------------------------------------- public API
def _compute(graph: DiffusionGraph) -> NodeStatistics:
    prob = graph.require_prob()
    n = graph.num_nodes
    rowptr = graph.rowptr.cpu()
    col = graph.col.cpu()
    t0 = time.perf_counter()
    reach, dsum = _bfs_distance_sums(rowptr.numpy(), col.numpy(), n)
    closeness = _closeness(reach, dsum, n)
    t1 = time.perf_counter()
    clustering = _directed_clustering(rowptr.numpy(), col.numpy(), n)
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
        closeness=torch.from_numpy(closeness),
        reach=torch.from_numpy(reach),
        distance_sum=torch.from_numpy(dsum),
        clustering=torch.from_numpy(clustering),
        in_prob_mean=in_prob_mean,
        seconds={"closeness": t1 - t0, "clustering": t2 - t1, "total": t3 - t0},
    )


def compute_statistics(
    graph: DiffusionGraph,
    cache_dir: str | os.PathLike | None = None,
    *,
    use_cache: bool = True,
) -> NodeStatistics:
    """Per-node statistics of ``graph`` (paper B's precomputed data), cached on disk.

    The cache file is ``<cache_dir>/<graph.content_hash()>.pt``; the hash covers the structure and
    the edge probabilities, so any change to the graph misses the cache. Files are written
    atomically (temporary file, then rename), so concurrent callers never read half a file.

    Args:
        graph: the graph, with ``edge_prob`` set (the mean in-edge probability needs it).
        cache_dir: cache folder (default :func:`stats_cache_dir`, i.e.
            ``$INFLUENCE_GPU_CACHE/stats`` or ``~/.cache/influence_gpu/stats``).
        use_cache: ``False`` computes afresh and neither reads nor writes the cache.

    Returns:
        :class:`NodeStatistics` on the CPU (``.to(device)`` moves it); ``from_cache`` tells
        whether it was read back, ``seconds`` how long the computation took.

    Raises:
        ValueError: the graph has no ``edge_prob``. (A cache file of another format version,
            or an unreadable one, is not an error: it is recomputed and overwritten.)

    Shapes:
        see :class:`NodeStatistics`.
    """
    graph.require_prob()
    if not use_cache:
        return _compute(graph)
    folder = Path(cache_dir) if cache_dir is not None else stats_cache_dir()
    key = graph.content_hash()
    path = folder / f"{key}.pt"
    if path.exists():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            stats = NodeStatistics.from_state_dict(state, source=str(path))
            if stats.graph_hash == key and stats.num_nodes == graph.num_nodes:
                stats.from_cache = True
                return stats
        except Exception:  # noqa: BLE001 - unreadable or stale file: recompute, overwrite
            pass
    stats = _compute(graph)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(stats.state_dict(), tmp)
    os.replace(tmp, path)
    return stats
