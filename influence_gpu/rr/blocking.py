"""Reverse-reachable (RR) sketches of blocked influence under competitive IC (paper B's peer).

In a live-edge world of the competitive IC model (F wins ties, see
:mod:`influence_gpu.diffusion.competitive`) a node ``v`` ends F-active without a truth cascade iff
``d(S_F, v) < inf``, and it is *saved* by a truth set ``S_T`` iff ``d(S_T, v) < d(S_F, v) < inf``,
where ``d`` are hop distances over live edges. Hence the blocked influence is

    f(S_T | S_F) = sum_v P[d(S_T, v) < d(S_F, v) < inf] = n * P_{v, world}[S_T ∩ R(v) != {}],

with ``v`` uniform over the nodes and ``R(v) = {u : d(u, v) < d(S_F, v)}`` if ``d(S_F, v) < inf``,
else ``{}``. One *blocking RR set* samples a root ``v`` and a world, runs a reverse BFS from ``v``
level by level (coins drawn lazily on the in-arcs it touches) and stops at the first level that
contains a node of ``S_F``; the nodes of the earlier levels form ``R(v)``. For ``theta`` sets,

    f_hat(S_T) = n / theta * #{i : S_T ∩ R_i != {}}

is an unbiased estimate of ``f(S_T | S_F)`` (the indicator's expectation is exactly the
probability above), and it is a coverage function, so greedy / CELF over it is the classic
RR-sketch approach to influence blocking (Tong and Du's HMP and the sketch peers of paper B,
Section II). ``tests/selection/test_blocking.py`` checks it against exact enumeration of all
live-edge worlds on a tiny graph.

*World-rooted sketch* (:func:`sample_blocking_world_sketch`, not in paper B): when ``f`` is a tiny
share of ``n`` (web-Stanford: ``f / n`` about ``1e-5``), uniform roots almost never meet the false
cascade. Instead, sample ``W`` worlds, run the false cascade forward in each (``d(S_F, .)``), and
take as sets the ``R_w(v)`` of *every* node ``v`` it reaches; then

    f_hat(S_T) = 1 / W * #{(w, v) : S_T ∩ R_w(v) != {}}

is again unbiased (it counts the saved nodes of each world exactly) and a coverage function. Its
sets are strongly correlated within a world (one hub saves many of them at once), so it has the
variance of ``W`` Monte Carlo worlds. ``roots_per_world=r`` samples ``r`` of the ``m_w`` reached
nodes instead (uniformly, with replacement), each set weighted ``m_w / r``: an importance-sampled
blocking RR sketch whose roots are drawn where the false cascade actually goes, with many more
independent worlds for the same work.

All ``theta`` reverse searches of a chunk run together (frontiers are ``(sample, node)`` pairs);
the coin of in-arc ``e`` in sample ``i`` is ``hash_uniform(key, i, e)``. The native C++ kernel
(``rr_sample_blocking`` in ``rr/_native/rr_kernel.cpp``, chosen by ``backend="auto"`` on CPU)
runs one search per sample with the same roots and coins and gives the same sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ctypes

import torch

from influence_gpu.diffusion._common import _shr, draw_key, hash_uniform, make_generator
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.backend import choose_backend
from influence_gpu.kernels.native import native_threads
from influence_gpu.rr.samplers import _hash64

__all__ = ["BlockingRRSketch", "sample_blocking_rr_sets", "sample_blocking_world_sketch"]

# visited bitmap entries (bytes) allowed per chunk of reverse searches
_VISITED_BUDGET = 1 << 25


@dataclass
class BlockingRRSketch:
    """``theta`` blocking RR sets, stored as CSR (sample ``i`` holds ``nodes[ptr[i]:ptr[i+1]]``).

    Attributes:
        num_nodes: number of nodes ``n`` of the graph.
        num_sets: number of sampled sets ``theta`` (empty ones included).
        ptr: ``[theta + 1]`` int64 offsets.
        nodes: ``[P]`` int64 node ids (the savers of each sampled root).
        key: hash key of the sampled worlds.
        scale: the estimate is ``scale * (covered weight)``; ``None`` means ``n / theta``
            (uniform roots); a world-rooted sketch of ``W`` worlds has ``1 / W``.
        set_weights: ``[theta]`` float64 weight of each set (``None``: all 1); the world-rooted
            sketch with ``r`` sampled roots per world gives a set of world ``w`` the weight
            ``m_w / r``.
    """

    num_nodes: int
    num_sets: int
    ptr: torch.Tensor
    nodes: torch.Tensor
    key: int
    scale: float | None = None
    set_weights: torch.Tensor | None = None

    @property
    def weight(self) -> float:
        """Blocked influence per unit of covered set weight (``scale``, or ``n / theta``)."""
        if self.scale is not None:
            return float(self.scale)
        return self.num_nodes / max(self.num_sets, 1)

    @property
    def set_of_entry(self) -> torch.Tensor:
        """``[P]`` sample index of each entry of ``nodes``."""
        sizes = self.ptr[1:] - self.ptr[:-1]
        return torch.arange(self.num_sets, device=self.ptr.device).repeat_interleave(sizes)

    def covered(self, true_seeds: Any) -> torch.Tensor:
        """``[theta]`` bool: which sets ``S_T`` hits."""
        t = torch.as_tensor(true_seeds, dtype=torch.long, device=self.nodes.device).reshape(-1)
        mark = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.nodes.device)
        mark[t] = True
        hit = torch.zeros(self.num_sets, dtype=torch.bool, device=self.nodes.device)
        hit[self.set_of_entry[mark[self.nodes]]] = True
        return hit

    def estimate(self, true_seeds: Any) -> float:
        """Unbiased estimate ``weight * #covered`` of ``f(S_T | S_F)``.

        Args:
            true_seeds: internal ids of ``S_T``.

        Returns:
            The estimated blocked influence.
        """
        hit = self.covered(true_seeds)
        if self.set_weights is None:
            return self.weight * float(hit.sum())
        return self.weight * float(self.set_weights[hit].sum())


def _native_kernel():
    from influence_gpu.rr._native import load_rr_kernel

    return load_rr_kernel("rr_sample_blocking")


def _native_sketch_arrays(graph: DiffusionGraph) -> tuple[torch.Tensor, ...]:
    """In-CSR arrays of the native blocking kernels (cached on the graph)."""
    cache = graph._cache.get("blocking_rr_native")
    if cache is None:
        in_ptr, in_src, in_eid = graph.in_csr()
        cache = (in_ptr.contiguous(), in_src.to(torch.int32).contiguous(),
                 in_eid.contiguous(), graph.require_prob().to(torch.float64).contiguous())
        graph._cache["blocking_rr_native"] = cache
    return cache


def _native_sketch(graph: DiffusionGraph, is_false: torch.Tensor, roots: torch.Tensor,
                   key: int) -> BlockingRRSketch:
    """The sketch from the native kernel (same roots and coins as the torch path)."""
    from influence_gpu.rr._native import load_rr_kernel

    n, num_sets = graph.num_nodes, roots.numel()
    in_ptr, in_src32, in_eid, prob = _native_sketch_arrays(graph)
    flags = is_false.to(torch.uint8).contiguous()
    roots = roots.contiguous()
    threads = max(1, min(native_threads(), num_sets // 512))
    total = ctypes.c_int64(0)
    handle = _native_kernel()(
        n, in_ptr.data_ptr(), in_src32.data_ptr(), in_eid.data_ptr(), prob.data_ptr(),
        flags.data_ptr(), roots.data_ptr(), num_sets, 0, int(key), threads,
        ctypes.addressof(total),
    )
    if not handle:
        raise RuntimeError("the native blocking RR kernel failed")
    nodes32 = torch.empty(total.value, dtype=torch.int32)
    ends = torch.empty(num_sets, dtype=torch.long)
    load_rr_kernel("rr_collect")(handle, nodes32.data_ptr(), ends.data_ptr(), 0, threads)
    ptr = torch.zeros(num_sets + 1, dtype=torch.long)
    ptr[1:] = ends
    return BlockingRRSketch(num_nodes=n, num_sets=num_sets, ptr=ptr, nodes=nodes32.long(),
                            key=key)


def _false_and_key(graph: DiffusionGraph, false_seeds: Any, generator: Any, key: int | None
                   ) -> tuple[torch.Tensor, torch.Generator, int]:
    """Checked ``S_F`` ids, the generator, and the hash key (drawn from it when ``None``)."""
    n, device = graph.num_nodes, graph.device
    f = torch.as_tensor(false_seeds, dtype=torch.long, device=device).reshape(-1)
    if f.numel() == 0:
        raise ValueError("false_seeds must contain at least one node")
    if int(f.min()) < 0 or int(f.max()) >= n:
        raise ValueError(f"false_seeds has a node id out of range for num_nodes={n}")
    gen = generator if isinstance(generator, torch.Generator) else make_generator(generator, device)
    return f, gen, draw_key(gen) if key is None else int(key)


def _check_positive(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return x


def sample_blocking_rr_sets(
    graph: DiffusionGraph,
    false_seeds: Any,
    num_sets: int,
    *,
    generator: torch.Generator | int | None = None,
    key: int | None = None,
    chunk_size: int | None = None,
    backend: str = "auto",
) -> BlockingRRSketch:
    """Sample ``num_sets`` blocking RR sets of ``S_F`` (see the module docstring).

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F`` (non-empty).
        num_sets: number ``theta`` of roots sampled.
        generator: torch generator or seed for the roots and the hash key.
        key: hash key of the live-edge coins (drawn from ``generator`` when ``None``).
        chunk_size: reverse searches run together on the torch path (default: from a 32 MiB
            visited bitmap).
        backend: ``"auto"`` (native C++ on CPU, else torch), ``"native"`` or ``"torch"``; all
            give the same sets.

    Returns:
        :class:`BlockingRRSketch`.

    Raises:
        ValueError: empty or out-of-range ``false_seeds``, ``num_sets < 1``, no ``edge_prob``.

    Shapes:
        ``false_seeds [k_F]``; ``ptr [theta + 1]``, ``nodes [P]``.
    """
    num_sets = _check_positive(num_sets, "num_sets")
    prob = graph.require_prob()
    n, device = graph.num_nodes, graph.device
    f, gen, key = _false_and_key(graph, false_seeds, generator, key)
    if chunk_size is None:
        chunk_size = max(1, _VISITED_BUDGET // max(n, 1))
    chunk_size = _check_positive(chunk_size, "chunk_size")
    is_false = torch.zeros(n, dtype=torch.bool, device=device)
    is_false[f] = True
    in_ptr, in_src, in_eid = graph.in_csr()
    in_deg = in_ptr[1:] - in_ptr[:-1]
    roots = torch.randint(0, n, (num_sets,), generator=gen, device=device)
    chosen = choose_backend("blocking RR", backend, device, native=_native_kernel)
    if chosen == "native":
        return _native_sketch(graph, is_false, roots, key)

    sizes = torch.zeros(num_sets, dtype=torch.long, device=device)
    pieces: list[torch.Tensor] = []  # (global sample, node) pairs, savers
    for start in range(0, num_sets, chunk_size):
        c = min(chunk_size, num_sets - start)
        visited = torch.zeros(c * n, dtype=torch.bool, device=device)
        fs = torch.arange(c, device=device)  # frontier: local sample, node
        fv = roots[start : start + c]
        visited[fs * n + fv] = True
        levels_s: list[torch.Tensor] = []
        levels_v: list[torch.Tensor] = []
        while fs.numel() > 0:
            # samples whose frontier reaches S_F stop here: this level is not saved (F wins ties)
            hit = torch.zeros(c, dtype=torch.bool, device=device)
            hit[fs[is_false[fv]]] = True
            keep = ~hit[fs]
            # the levels recorded so far are savers of the samples that stop now
            if bool(hit.any()):
                new_s, new_v = [], []
                for ls, lv in zip(levels_s, levels_v, strict=True):
                    m = hit[ls]
                    pieces.append(torch.stack([ls[m] + start, lv[m]]))
                    new_s.append(ls[~m])  # the others stay pending
                    new_v.append(lv[~m])
                levels_s, levels_v = new_s, new_v
            fs, fv = fs[keep], fv[keep]
            if fs.numel() == 0:
                break
            levels_s.append(fs)
            levels_v.append(fv)
            # expand in-arcs of the frontier with lazily drawn coins
            deg = in_deg[fv]
            owner = torch.arange(fs.numel(), device=device).repeat_interleave(deg)
            pos = in_ptr[fv].repeat_interleave(deg) + (
                torch.arange(owner.numel(), device=device) - (torch.cumsum(deg, 0) - deg)[owner]
            )
            eid = in_eid[pos]
            s = fs[owner]
            live = hash_uniform(key, s + start, eid) < prob[eid]
            s, u = s[live], in_src[pos[live]]
            code = torch.unique(s * n + u)
            code = code[~visited[code]]
            visited[code] = True
            fs, fv = code // n, code % n
        # samples that never met S_F (d(S_F, v) = inf) save nothing: pending levels are dropped
    if pieces:
        pairs = torch.cat(pieces, 1)
        order = torch.argsort(pairs[0] * n + pairs[1])
        pairs = pairs[:, order]
        sizes = torch.bincount(pairs[0], minlength=num_sets)
        nodes = pairs[1]
    else:
        nodes = torch.zeros(0, dtype=torch.long, device=device)
    ptr = torch.zeros(num_sets + 1, dtype=torch.long, device=device)
    ptr[1:] = torch.cumsum(sizes, 0)
    return BlockingRRSketch(num_nodes=n, num_sets=num_sets, ptr=ptr, nodes=nodes, key=key)


def sample_blocking_world_sketch(
    graph: DiffusionGraph,
    false_seeds: Any,
    num_worlds: int,
    *,
    generator: torch.Generator | int | None = None,
    key: int | None = None,
    roots_per_world: int = 0,
    backend: str = "auto",
) -> BlockingRRSketch:
    """The world-rooted blocking sketch of ``S_F`` over ``num_worlds`` worlds (module docstring).

    World ``w`` has the coins ``hash_uniform(key, w, e)``; with ``roots_per_world=0`` its sets
    are ``R_w(v)`` for every node ``v`` outside ``S_F`` that the false cascade reaches, in
    increasing ``v``; with ``r > 0`` they are ``r`` roots drawn with replacement, root ``j``
    being the ``(hash64(key, w, -1 - j) >> 1) mod m_w``-th reached node in increasing id, each
    set weighted ``m_w / r``. Every set is in increasing node id; ``scale = 1 / num_worlds``.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F`` (non-empty).
        num_worlds: ``W``.
        generator: torch generator or seed for the hash key.
        roots_per_world: ``0`` (every reached node) or ``r`` sampled roots per world.
        key: hash key of the worlds (drawn from ``generator`` when ``None``).
        backend: ``"auto"`` (native C++ on CPU, else torch), ``"native"`` or ``"torch"``; all
            give the same sketch.

    Returns:
        :class:`BlockingRRSketch` with ``num_sets`` = the number of (world, reached node)
        pairs.

    Raises:
        ValueError: empty or out-of-range ``false_seeds``, ``num_worlds < 1``,
            ``roots_per_world < 0``, no ``edge_prob``.
    """
    num_worlds = _check_positive(num_worlds, "num_worlds")
    if isinstance(roots_per_world, bool) or not isinstance(roots_per_world, int) or (
        roots_per_world < 0
    ):
        raise ValueError(f"roots_per_world must be an integer >= 0, got {roots_per_world!r}")
    prob = graph.require_prob()
    device = graph.device
    f, _, key = _false_and_key(graph, false_seeds, generator, key)
    chosen = choose_backend("blocking world sketch", backend, device, native=_native_world_kernel)
    if chosen == "native":
        return _native_world_sketch(graph, torch.unique(f), num_worlds, roots_per_world, key)
    return _torch_world_sketch(graph, prob, torch.unique(f), num_worlds, roots_per_world, key)


def _native_world_kernel():
    from influence_gpu.rr._native import load_rr_kernel

    return load_rr_kernel("rr_world_sketch")


def _native_world_sketch(graph: DiffusionGraph, f: torch.Tensor, num_worlds: int,
                         roots_per_world: int, key: int) -> BlockingRRSketch:
    from influence_gpu.rr._native import load_rr_kernel

    _native_sketch_arrays(graph)
    in_ptr, in_src32, in_eid, prob = graph._cache["blocking_rr_native"]
    rowptr, col = graph.rowptr.contiguous(), graph.col.contiguous()
    f = f.contiguous()
    threads = max(1, min(native_threads(), num_worlds // 4))
    num_sets, total = ctypes.c_int64(0), ctypes.c_int64(0)
    handle = _native_world_kernel()(
        graph.num_nodes, rowptr.data_ptr(), col.data_ptr(), in_ptr.data_ptr(),
        in_src32.data_ptr(), in_eid.data_ptr(), prob.data_ptr(), f.data_ptr(), f.numel(),
        num_worlds, roots_per_world, 0, int(key), threads, ctypes.addressof(num_sets),
        ctypes.addressof(total),
    )
    if not handle:
        raise RuntimeError("the native blocking world-sketch kernel failed")
    ends = torch.empty(num_sets.value, dtype=torch.long)
    nodes32 = torch.empty(total.value, dtype=torch.int32)
    world = torch.empty(num_sets.value, dtype=torch.long)
    root = torch.empty(num_sets.value, dtype=torch.long)
    weight = torch.empty(num_sets.value, dtype=torch.float64)
    load_rr_kernel("rr_world_collect")(handle, ends.data_ptr(), nodes32.data_ptr(),
                                       world.data_ptr(), root.data_ptr(), weight.data_ptr(), 0)
    ptr = torch.zeros(num_sets.value + 1, dtype=torch.long)
    ptr[1:] = ends
    return BlockingRRSketch(num_nodes=graph.num_nodes, num_sets=num_sets.value, ptr=ptr,
                            nodes=nodes32.long(), key=key, scale=1.0 / num_worlds,
                            set_weights=weight if roots_per_world else None)


def _torch_world_sketch(graph: DiffusionGraph, prob: torch.Tensor, f: torch.Tensor,
                        num_worlds: int, roots_per_world: int, key: int) -> BlockingRRSketch:
    """Reference path: all worlds' forward searches, then all reverse searches, batched."""
    n, dev = graph.num_nodes, graph.device
    rowptr, col = graph.rowptr, graph.col
    out_deg = rowptr[1:] - rowptr[:-1]
    dist = torch.full((num_worlds * n,), -1, dtype=torch.long, device=dev)
    fw = torch.arange(num_worlds, device=dev).repeat_interleave(f.numel())
    fv = f.repeat(num_worlds)
    dist[fw * n + fv] = 0
    level = 0
    while fw.numel():
        deg = out_deg[fv]
        owner = torch.arange(fw.numel(), device=dev).repeat_interleave(deg)
        pos = rowptr[fv].repeat_interleave(deg) + (
            torch.arange(owner.numel(), device=dev) - (torch.cumsum(deg, 0) - deg)[owner]
        )
        w = fw[owner]
        live = hash_uniform(key, w, pos) < prob[pos]
        code = torch.unique(w[live] * n + col[pos[live]])
        code = code[dist[code] < 0]
        level += 1
        dist[code] = level
        fw, fv = code // n, code % n
    code = torch.nonzero(dist > 0).reshape(-1)  # (world, reached node) pairs, sorted
    weights = None
    if roots_per_world:
        m = torch.bincount(code // n, minlength=num_worlds)  # reached nodes per world
        first = torch.cumsum(m, 0) - m
        w = torch.nonzero(m > 0).reshape(-1).repeat_interleave(roots_per_world)
        j = torch.arange(roots_per_world, device=dev).repeat(w.numel() // roots_per_world)
        h = _shr(_hash64(key, w, -1 - j), 1) % m[w]
        code = code[first[w] + h]
        weights = m[w].double() / roots_per_world
    set_world, set_root = code // n, code % n
    limit = dist[code] - 1
    num_sets = code.numel()
    in_ptr, in_src, in_eid = graph.in_csr()
    in_deg = in_ptr[1:] - in_ptr[:-1]
    pieces: list[torch.Tensor] = []
    chunk = max(1, _VISITED_BUDGET // max(n, 1))
    for start in range(0, num_sets, chunk):
        c = min(chunk, num_sets - start)
        visited = torch.zeros(c * n, dtype=torch.bool, device=dev)
        fs = torch.arange(c, device=dev)
        fv = set_root[start : start + c]
        visited[fs * n + fv] = True
        lim = limit[start : start + c]
        worlds = set_world[start : start + c]
        depth = 0
        while fs.numel():
            keep = lim[fs] > depth  # expand only levels below the limit
            fs, fv = fs[keep], fv[keep]
            if fs.numel() == 0:
                break
            deg = in_deg[fv]
            owner = torch.arange(fs.numel(), device=dev).repeat_interleave(deg)
            pos = in_ptr[fv].repeat_interleave(deg) + (
                torch.arange(owner.numel(), device=dev) - (torch.cumsum(deg, 0) - deg)[owner]
            )
            eid = in_eid[pos]
            s = fs[owner]
            live = hash_uniform(key, worlds[s], eid) < prob[eid]
            code2 = torch.unique(s[live] * n + in_src[pos[live]])
            code2 = code2[~visited[code2]]
            visited[code2] = True
            fs, fv = code2 // n, code2 % n
            depth += 1
        hit = torch.nonzero(visited).reshape(-1)  # sorted: by set, then node
        pieces.append(torch.stack([hit // n + start, hit % n]))
    if pieces:
        pairs = torch.cat(pieces, 1)
        sizes = torch.bincount(pairs[0], minlength=num_sets)
        nodes = pairs[1]
    else:
        sizes = torch.zeros(num_sets, dtype=torch.long, device=dev)
        nodes = torch.zeros(0, dtype=torch.long, device=dev)
    ptr = torch.zeros(num_sets + 1, dtype=torch.long, device=dev)
    ptr[1:] = torch.cumsum(sizes, 0)
    return BlockingRRSketch(num_nodes=n, num_sets=num_sets, ptr=ptr, nodes=nodes, key=key,
                            scale=1.0 / num_worlds, set_weights=weights)
