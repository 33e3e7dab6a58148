"""Seeded random-graph generators returning :class:`~influence_gpu.graph.DiffusionGraph`.

All generators are vectorised with numpy (no Python loop over nodes or edges) and take an integer
``seed`` (``None``: fresh randomness); the same seed always gives the same graph. Undirected graphs
are stored as both arcs and have ``directed=False``. No probabilities are set: use
:func:`~influence_gpu.graph.assign_probabilities`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike

__all__ = ["erdos_renyi", "barabasi_albert", "watts_strogatz", "power_law"]


def _check_int(x: Any, name: str, lo: int) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < lo:
        raise ValueError(f"{name} must be at least {lo}, got {x}")
    return int(x)


def _check_p(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {x!r}")
    if not 0.0 <= float(x) <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {x!r}")
    return float(x)


def _rng(seed: Any) -> np.random.Generator:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return np.random.default_rng(seed)


def _build(src: np.ndarray, dst: np.ndarray, n: int, directed: bool, device: DeviceLike,
           name: str) -> DiffusionGraph:
    """CSR straight from a simple edge list (distinct pairs, no self-loops)."""
    src, dst = src.astype(np.int64), dst.astype(np.int64)
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    key = np.sort(src * n + dst)
    if key.size and (np.any(np.diff(key) == 0) or np.any(key // n == key % n)):
        raise AssertionError(f"{name}: generator produced a loop or a repeated edge")
    rowptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // n, minlength=n), out=rowptr[1:])
    g = DiffusionGraph(torch.from_numpy(rowptr), torch.from_numpy(key % n), directed=directed)
    return g.to(device) if device is not None else g


def erdos_renyi(
    n: int, p: float, seed: int | None = None, directed: bool = False, *, device: DeviceLike = None
) -> DiffusionGraph:
    """G(n, p) random graph: each (ordered, if ``directed``) pair is an edge with probability ``p``.

    The edge count is drawn from its binomial law and the edges are sampled without replacement,
    so the cost is proportional to the number of edges, not to ``n ** 2``.

    Args:
        n: number of nodes (>= 1).
        p: edge probability in [0, 1].
        seed: random seed.
        directed: sample arcs (``u -> v`` and ``v -> u`` independently) instead of edges.
        device: where to put the graph (default CPU).

    Returns:
        The graph (undirected: both arcs of every edge).

    Raises:
        ValueError / TypeError: bad ``n``, ``p`` or ``seed``.

    """
    n = _check_int(n, "n", 1)
    p = _check_p(p, "p")
    rng = _rng(seed)
    pairs = n * (n - 1) if directed else n * (n - 1) // 2
    m = int(rng.binomial(pairs, p)) if pairs else 0
    k = rng.choice(pairs, size=m, replace=False) if m else np.zeros(0, dtype=np.int64)
    k = np.sort(k.astype(np.int64))
    if directed:
        i = k // (n - 1)
        r = k - i * (n - 1)
        j = r + (r >= i)
    else:  # row-major upper triangle: row i holds pairs (i, i+1..n-1)
        i = np.floor(((2 * n - 1) - np.sqrt((2.0 * n - 1) ** 2 - 8.0 * k)) / 2).astype(np.int64)
        start = i * (2 * n - i - 1) // 2
        i = np.where(start > k, i - 1, i)  # fix float rounding
        start = i * (2 * n - i - 1) // 2
        nxt = (i + 1) * (2 * n - i - 2) // 2
        i = np.where(k >= nxt, i + 1, i)
        start = i * (2 * n - i - 1) // 2
        j = k - start + i + 1
    return _build(i, j, n, directed, device, f"erdos_renyi(n={n}, p={p})")


#: Rows of the Barabasi-Albert process settled together (see ``_ba_targets``).
_BA_BLOCK = 256


def _ba_targets(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Targets ``[n - m - 1, m]`` of the Barabasi-Albert process, as in networkx.

    The process starts from a star on ``m + 1`` nodes; node ``t`` attaches to ``m`` distinct
    nodes drawn from the list of edge endpoints (probability proportional to degree), drawing
    again on a repeat. That list has a fixed layout: the star's endpoints, then for each new node
    its ``m`` targets followed by ``m`` copies of itself. So every draw is a uniform slot index,
    drawn for all nodes at once; a slot holding a target refers to an earlier node's draws. Each
    node keeps the first ``m`` distinct values of its stream of draws. A first guess resolves the
    slot references by pointer jumping (exact when no repeat occurs); then, block by block of
    ``_BA_BLOCK`` rows in order, the rows whose references changed are recomputed until nothing
    changes. Rows depend only on earlier rows, so the fixed point is unique and equals the
    sequential process draw for draw.
    """
    T, M2 = n - m - 1, 2 * m
    length = M2 * (np.arange(T, dtype=np.int64) + 1)  # slots that exist when row r draws
    node = m + 1 + np.arange(T, dtype=np.int64)
    init = np.concatenate([np.zeros(m, dtype=np.int64), np.arange(1, m + 1)])

    def draw(rows: np.ndarray, k: int) -> np.ndarray:
        return np.floor(rng.random((rows.size, k)) * length[rows, None]).astype(np.int64)

    cand = draw(np.arange(T), M2)

    # first guess: row r's o-th target is its o-th draw, resolved through the slot chain
    val = np.empty(M2 + M2 * T, dtype=np.int64)
    val[:M2] = init
    val[M2:].reshape(T, M2)[:, m:] = node[:, None]
    ptr = np.arange(val.size, dtype=np.int64)
    ptr[M2:].reshape(T, M2)[:, :m] = cand[:, :m]
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    tgt = val[ptr[M2:].reshape(T, M2)[:, :m]]

    def refs(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = c - M2
        r = np.where(s >= 0, s // M2, 0)
        return r, (s >= 0) & (s - r * M2 < m)  # referenced row, and whether a target slot

    def resolve(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = cand[rows]
        s = c - M2
        r = np.where(s >= 0, s // M2, 0)
        o = np.where(s >= 0, s - r * M2, 0)
        vals = np.where(
            s < 0,
            init[np.clip(c, 0, M2 - 1)],
            np.where(o >= m, node[r], tgt[r, np.minimum(o, m - 1)]),
        )
        vals[c < 0] = -1  # padding of extended streams
        order = np.argsort(vals, axis=1, kind="stable")
        sv = np.take_along_axis(vals, order, axis=1)
        first_sorted = np.ones(sv.shape, dtype=bool)
        first_sorted[:, 1:] = sv[:, 1:] != sv[:, :-1]
        first = np.zeros_like(first_sorted)
        np.put_along_axis(first, order, first_sorted, axis=1)
        first &= vals >= 0
        rank = np.cumsum(first, axis=1)
        keep = first & (rank <= m)
        new = np.full((rows.size, m), -1, dtype=np.int64)
        ri, ci = np.nonzero(keep)  # rows short of m distinct values keep -1 in the gaps
        new[ri, rank[ri, ci] - 1] = vals[ri, ci]
        return new, keep.sum(axis=1)

    short = np.zeros(T, dtype=bool)

    def settle(first: int) -> None:
        # Rows depend only on earlier rows, so blocks are settled in order, each to its own
        # fixed point with every earlier row final. Iterating over all rows at once instead
        # needs as many passes as the longest chain of changes (about m log n), each over
        # every row: minutes for m = 37, n = 42,000.
        for a in range(first, T, _BA_BLOCK):
            block = np.arange(a, min(a + _BA_BLOCK, T))
            rows = block
            while rows.size:
                new, count = resolve(rows)
                short[rows] = count < m
                moved = (new != tgt[rows]).any(axis=1)
                tgt[rows] = new
                if not moved.any():
                    break
                changed = np.zeros(T, dtype=bool)
                changed[rows[moved]] = True
                rows = block[(ref_tgt[block] & changed[ref_row[block]]).any(axis=1)]

    ref_row, ref_tgt = refs(cand)
    settle(0)
    while short.any():
        grow = np.flatnonzero(short)  # extend the streams of rows still short of m
        extra = np.full((T, m), -1, dtype=np.int64)
        extra[grow] = draw(grow, m)
        cand = np.concatenate([cand, extra], axis=1)
        ref_row, ref_tgt = refs(cand)
        settle(int(grow[0]))
    return tgt


def barabasi_albert(
    n: int, m: int, seed: int | None = None, *, device: DeviceLike = None
) -> DiffusionGraph:
    """Barabasi-Albert preferential-attachment graph (undirected), the process of ``networkx``.

    Starts from a star on ``m + 1`` nodes; each new node attaches to ``m`` distinct existing
    nodes chosen with probability proportional to their degree. Vectorised (see
    ``_ba_targets``): ``barabasi_albert(100_000, 5)`` takes well under a second.

    Args:
        n: number of nodes (> m).
        m: edges added with each new node (>= 1).
        seed: random seed.
        device: where to put the graph (default CPU).

    Returns:
        The graph: ``m * (n - m)`` edges stored as both arcs, every degree >= ``m``.

    Raises:
        ValueError / TypeError: bad ``n``, ``m`` or ``seed``.

    """
    m = _check_int(m, "m", 1)
    n = _check_int(n, "n", 1)
    if m >= n:
        raise ValueError(f"barabasi_albert needs m < n, got m={m}, n={n}")
    rng = _rng(seed)
    star_src = np.zeros(m, dtype=np.int64)
    star_dst = np.arange(1, m + 1, dtype=np.int64)
    if n > m + 1:
        tgt = _ba_targets(n, m, rng)
        new = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)
        src = np.concatenate([star_src, new])
        dst = np.concatenate([star_dst, tgt.reshape(-1)])
    else:
        src, dst = star_src, star_dst
    return _build(src, dst, n, False, device, f"barabasi_albert(n={n}, m={m})")


def watts_strogatz(
    n: int, k: int, p: float, seed: int | None = None, *, device: DeviceLike = None
) -> DiffusionGraph:
    """Watts-Strogatz small-world graph (undirected; Watts & Strogatz, Nature 1998).

    A ring where every node is joined to its ``k // 2`` nearest neighbours on each side; then each
    lattice edge ``(u, u + j)`` is rewired with probability ``p`` to ``(u, w)``, ``w`` uniform
    among the nodes that are neither ``u`` nor already its neighbours. Rewiring is drawn for all
    edges at once; clashes (a new edge equal to an existing one or to another new one) are drawn
    again (after 64 rounds, one edge at a time), so the edge count is ``n * (k // 2)`` as in
    networkx, except in near-complete graphs (``k`` close to ``n`` with large ``p``) where a node
    may end up joined to every other node and one of its edges has nowhere to go.

    Args:
        n: number of nodes.
        k: lattice degree (``2 <= k < n``; odd ``k`` acts as ``k - 1``).
        p: rewiring probability in [0, 1].
        seed: random seed.
        device: where to put the graph (default CPU).

    Returns:
        The graph, stored as both arcs.

    Raises:
        ValueError / TypeError: bad ``n``, ``k``, ``p`` or ``seed``.

    """
    n = _check_int(n, "n", 3)
    k = _check_int(k, "k", 2)
    if k >= n:
        raise ValueError(f"watts_strogatz needs k < n, got k={k}, n={n}")
    p = _check_p(p, "p")
    rng = _rng(seed)
    half = k // 2
    u = np.tile(np.arange(n, dtype=np.int64), half)
    v = (u + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n

    def key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b) * n + np.maximum(a, b)

    pending = np.flatnonzero(rng.random(u.size) < p)
    settled = np.ones(u.size, dtype=bool)
    settled[pending] = False
    for _ in range(64):
        if pending.size == 0:
            break
        w = rng.integers(0, n, size=pending.size)
        taken = np.sort(key(u[settled], v[settled]))
        kk = key(u[pending], w)
        pos = np.searchsorted(taken, kk).clip(max=max(taken.size - 1, 0))
        clash = (w == u[pending]) | ((taken[pos] == kk) if taken.size else False)
        _, first = np.unique(kk, return_index=True)
        dup = np.ones(kk.size, dtype=bool)
        dup[first] = False
        ok = ~(clash | dup)
        v[pending[ok]] = w[ok]
        settled[pending[ok]] = True
        pending = pending[~ok]
    if pending.size:  # dense corner cases: finish one edge at a time with explicit sets
        nbr: list[set[int]] = [set() for _ in range(n)]
        for x, y in zip(u[settled].tolist(), v[settled].tolist(), strict=True):
            nbr[x].add(y)
            nbr[y].add(x)
        for e in pending.tolist():
            x = int(u[e])
            free = [w for w in range(n) if w != x and w not in nbr[x]]
            if not free:
                continue  # x is joined to every node: the edge has nowhere to go
            w = free[int(rng.integers(len(free)))]
            v[e] = w
            settled[e] = True
            nbr[x].add(w)
            nbr[w].add(x)
    return _build(u[settled], v[settled], n, False, device, f"watts_strogatz(n={n}, k={k}, p={p})")


def power_law(
    n: int,
    m: int = 1,
    p: float = 0.0,
    seed: int | None = None,
    *,
    exponent: float | None = None,
    device: DeviceLike = None,
) -> DiffusionGraph:
    """Power-law (scale-free) undirected graph.

    * ``exponent=None`` (default): Holme-Kim growth (``networkx.powerlaw_cluster_graph``):
      preferential attachment with ``m`` edges per new node, each followed by a triangle-closing
      step with probability ``p``. ``power_law(768, 1, seed=s)`` gives a 768-node tree-like
      power-law graph with 767 edges (1,534 arcs), the size of paper B's "power-law graph"
      benchmark (768 nodes, 1,532 edges).
    * ``exponent=gamma``: erased configuration model over a degree sequence drawn from a
      power law ``P(d) ~ d ** -gamma`` with minimum degree ``m`` (capped at ``n - 1``);
      self-loops and parallel edges of the stub matching are removed. Vectorised, for large ``n``.

    Args:
        n: number of nodes.
        m: edges per new node (Holme-Kim) or minimum degree (configuration model), >= 1.
        p: triangle-closing probability (Holme-Kim only).
        seed: random seed.
        exponent: power-law exponent ``gamma > 1`` of the configuration model, or ``None``.
        device: where to put the graph (default CPU).

    Returns:
        The graph, stored as both arcs.

    Raises:
        ValueError / TypeError: bad arguments.

    """
    n = _check_int(n, "n", 2)
    m = _check_int(m, "m", 1)
    if m >= n:
        raise ValueError(f"power_law needs m < n, got m={m}, n={n}")
    p = _check_p(p, "p")
    rng = _rng(seed)
    name = f"power_law(n={n}, m={m})"
    if exponent is None:
        import networkx as nx

        G = nx.powerlaw_cluster_graph(n, m, p, seed=int(rng.integers(2**31)))
        e = np.asarray(list(G.edges()), dtype=np.int64).reshape(-1, 2)
        return _build(e[:, 0], e[:, 1], n, False, device, name)
    if p:
        raise ValueError("p (triangle closing) is only used when exponent is None")
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float)) or exponent <= 1:
        raise ValueError(f"exponent must be a number > 1, got {exponent!r}")
    deg = np.floor(m * (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0)))
    deg = np.minimum(deg, n - 1).astype(np.int64)
    if deg.sum() % 2:  # (all degrees n - 1 would give an even sum)
        low = np.flatnonzero(deg < n - 1)
        deg[low[int(rng.integers(low.size))]] += 1
    stubs = rng.permutation(np.repeat(np.arange(n, dtype=np.int64), deg))
    a, b = stubs[0::2], stubs[1::2]
    keep = a != b
    a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    k = np.unique(a * n + b)
    if k.size == 0:
        raise ValueError(f"power_law drew no edges for n={n}, m={m}; use a larger n or m")
    return _build(k // n, k % n, n, False, device, name)

