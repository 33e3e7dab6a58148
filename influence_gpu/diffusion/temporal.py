"""Batched independent cascade on temporal graphs (ICT; Wu et al., used by paper E, KT / KTIM).

Every arc ``(u, v)`` carries a sorted list of contact times. Seeds are active from ``start_time``
(default: the earliest contact time of the graph). A node ``u`` active since ``tau_u`` gets exactly
one try on each inactive out-neighbour ``v``, at the first contact time ``t >= tau_u`` of the arc
(``t > tau_u`` with ``strict=True``); the try succeeds with ``edge_prob[e]`` and then
``tau_v = t``. Without such a contact there is no try.

Why a relaxation gives the same outcome as the event-by-event definition. Draw the coin of every
arc up front (an arc is tried at most once per run, so this changes nothing) and call the arc
*live* when its coin succeeds. Let ``f_e(tau)`` be the first contact of arc ``e`` at or after
``tau`` (``+inf`` if none). ``f_e`` is non-decreasing and ``f_e(tau) >= tau`` (the FIFO property
of earliest-arrival problems). In the event-driven process each active ``u`` makes its single
try on ``v`` at ``f_e(tau_u)``, and a try on a node that is already active changes nothing, so

    ``tau_v = min over live arcs (u, v) with u active of f_e(tau_u)``,  ``tau_seed = start_time``.

Every finite ``tau_v`` is therefore the arrival time of a time-respecting walk of live arcs from a
seed (follow the successful tries back), so it is at least the earliest arrival ``EA_v``;
conversely, along an earliest time-respecting live path ``s = x_0, ..., x_k = v`` induction with
the monotone ``f_e`` gives ``tau_{x_i} <= EA_{x_i}``. Hence ``tau_v = EA_v``: the process computes
earliest arrival over live arcs, the least solution of the equation above. Bellman-Ford style
relaxation from ``+inf`` (seeds ``start_time``) only lowers values, never below that least
solution, and after ``h`` rounds is exact for every node whose earliest path has at most ``h`` arcs;
it stops when no value changes. The spread is the number of nodes with a finite ``tau``.

Implementation. All times are mapped to ranks among the distinct contact times (and
``start_time``), and each (run, node) holds the integer key ``rank(tau) * (n + 1) + hops``:
relaxation minimises (arrival time, number of hops) lexicographically, which leaves the arrival
times as above. Provenance is then rebuilt from those times (:func:`_activation_tree`): the hops
of the activation chain (fewest hops over the arcs that fire at their target's arrival time,
then the lowest parent id; the event-driven reference orders its events the same way), not the
hop part of the relaxed keys, which can come from a walk through a node's non-earliest arrival.
One relaxation round expands the (run, node) pairs whose key dropped in the previous round over
their out-arcs, checks each arc's coin (counter-based ``hash_uniform(key, run, edge)`` or the
injected ``edge_uniforms``), finds ``f_e(tau_u)`` with one ``torch.searchsorted`` over all contacts
keyed by ``edge * (T + 1) + rank``, and scatters the candidate keys with ``amin``; the rounds stop
when no key changes (at most one round more than the largest hop count). The arcs' coins are
recomputed from the hash when needed, so no ``[R, E]`` tensor is stored. Native backend. On a CPU
graph ``backend="auto"`` runs the C++/OpenMP kernel of ``_native/temporal_kernel.cpp`` instead: one
earliest-arrival search per run (Dijkstra over the arrival ranks with an indexed heap; a node's
rank is final when it leaves the heap because the arc maps are monotone and never lower a time),
runs spread over :func:`~influence_gpu.kernels.native.native_threads` threads, the same hash coins
compared in the same float32 values, ``f_e`` by binary search in the arc's sorted contact ranks. It
returns the same spreads and node counts bit for bit. It computes no provenance: calls with
``return_provenance=True`` use the torch path. :func:`estimate_temporal_ic_sets` evaluates many
seed sets in one kernel call on common worlds (the sets as virtual runs).

Triton backend. On a CUDA graph ``backend="auto"`` (and ``"triton"`` anywhere it can run, CPU
tensors included under ``TRITON_INTERPRET=1``) keeps the rounds, chunks and expansion batches of
the torch path but relaxes each batch in one kernel (``_triton/temporal.py``): the coin test, the
first contact (a binary search in the arc's sorted contact ranks: the position
``searchsorted`` finds) and the candidate key are computed per lane, and the target's key is
lowered with an int64 ``atomic_min``. A minimum is exact in any order, so the keys of every
round, and the spreads, node counts and round counts, equal the torch path's bit for bit.
Provenance is rebuilt on torch, so ``return_provenance=True`` does not take this backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import (
    as_seed_tensor,
    charge_results,
    check_num_samples,
    draw_key,
    hash_uniform,
    iter_chunks,
    plan_chunks,
)
from influence_gpu.diffusion._runs import (
    check_devices,
    comm_device,
    common_key,
    is_split,
    resolve_shard,
    split_runs,
)
from influence_gpu.diffusion.results import SpreadResult, spread_result, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.backend import choose_backend

__all__ = ["simulate_temporal_ic", "estimate_temporal_ic_sets"]

#: Arc expansions processed together in one relaxation batch (bounds the temporaries).
EXPAND_BATCH = 1 << 21
_BYTES_PER_EXPANSION = 96


def _seed_ids(graph: DiffusionGraph, seeds: Any) -> torch.Tensor:
    """Return internal ids ``[k]``: tensors are taken as internal ids, anything else as labels."""
    if isinstance(seeds, torch.Tensor):
        return _v.check_node_ids(seeds, graph.num_nodes, "seeds", device=graph.device)
    return as_seed_tensor(graph, seeds, "seeds")


def _require_temporal(graph: DiffusionGraph) -> None:
    """Raise ``ValueError`` unless ``graph`` carries contact times."""
    if not graph.is_temporal:
        raise ValueError(
            "simulate_temporal_ic needs a temporal graph (contact times per arc), but "
            "graph.time_ptr is None; build it with DiffusionGraph.from_edge_index(..., "
            "edge_time=...) or load a temporal edge list"
        )


def _check_start_time(start_time: Any) -> torch.Tensor:
    """``start_time`` as a 0-d tensor; ``ValueError`` unless it is one finite real number."""
    st = torch.as_tensor(start_time)
    if st.numel() != 1 or st.dtype == torch.bool or st.is_complex():
        raise ValueError(f"start_time must be a single number, got {start_time!r}")
    if st.is_floating_point() and not bool(torch.isfinite(st).all()):
        raise ValueError(f"start_time must be finite, got {start_time!r}")
    return st


class _Timeline:
    """Contact times of a temporal graph in rank form (see the module docstring)."""

    def __init__(self, graph: DiffusionGraph, start_time: Any) -> None:
        _require_temporal(graph)
        device = graph.device
        tv = graph.time_values.reshape(-1)
        integral = not tv.is_floating_point()
        if start_time is not None:
            st = _check_start_time(start_time)
            if st.is_floating_point() and float(st) != float(st.round()):
                integral = False
        dtype = torch.long if integral else torch.float64
        tv = tv.to(dtype)
        if tv.is_floating_point() and tv.numel() and not bool(torch.isfinite(tv).all()):
            raise ValueError("graph.time_values contains NaN or infinite contact times")
        if start_time is None:
            start = tv.min() if tv.numel() else torch.zeros((), dtype=dtype, device=device)
        else:
            start = torch.as_tensor(start_time, dtype=dtype, device=device).reshape(())
        self.values = torch.unique(torch.cat([tv, start.reshape(1)]))  # sorted distinct times
        self.T = self.values.numel()
        self.contact_rank = torch.searchsorted(self.values, tv)
        self.start_rank = int(torch.searchsorted(self.values, start.reshape(1))[0])
        self.time_ptr = graph.time_ptr.to(device)
        E = graph.num_edges
        counts = self.time_ptr.diff()
        contact_edge = torch.repeat_interleave(torch.arange(E, device=device), counts)
        if (E + 1) * (self.T + 1) >= 2**62 or (self.T + 1) * (graph.num_nodes + 2) >= 2**62:
            raise ValueError("temporal graph too large for 64-bit (edge, time) keys")
        self.contact_key = contact_edge * (self.T + 1) + self.contact_rank
        self.num_contacts = tv.numel()

    def first_contact(self, edge: torch.Tensor, rank: torch.Tensor, strict: bool) -> torch.Tensor:
        """Rank of the first contact of ``edge`` at or after (after, if strict) ``rank``.

        Returns ``-1`` where the arc has no such contact.
        """
        query = edge * (self.T + 1) + rank + int(strict)
        pos = torch.searchsorted(self.contact_key, query)
        found = pos < self.time_ptr[edge + 1]
        if self.num_contacts == 0:
            return torch.full_like(edge, -1)
        arr = self.contact_rank[pos.clamp(max=self.num_contacts - 1)]
        return torch.where(found, arr, torch.full_like(arr, -1))


def _expansions(
    rowptr: torch.Tensor, flat: torch.Tensor, n: int
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Split the out-arcs of (run, node) pairs ``flat = run * n + node`` into batches.

    Returns a list of ``(run, node, edge)`` triples, each of at most about ``EXPAND_BATCH`` arcs.
    """
    u = flat % n
    r = torch.div(flat, n, rounding_mode="floor")
    deg = rowptr[u + 1] - rowptr[u]
    keep = deg > 0
    u, r, deg = u[keep], r[keep], deg[keep]
    out = []
    if u.numel() == 0:
        return out
    cs = torch.cumsum(deg, 0)
    total = int(cs[-1])
    marks = torch.tensor(list(range(EXPAND_BATCH, total, EXPAND_BATCH)), dtype=cs.dtype)
    bounds = torch.searchsorted(cs, marks.to(cs.device), right=True).tolist()
    starts = [0, *bounds]
    ends = [*bounds, u.numel()]
    for a, b in zip(starts, ends, strict=True):
        if b <= a:
            continue
        ub, rb, db = u[a:b], r[a:b], deg[a:b]
        owner = torch.repeat_interleave(torch.arange(ub.numel(), device=ub.device), db)
        offset = torch.arange(owner.numel(), device=ub.device) - torch.repeat_interleave(
            torch.cumsum(db, 0) - db, db
        )
        out.append((rb[owner], ub[owner], rowptr[ub][owner] + offset))
    return out


def _relax(
    graph: DiffusionGraph,
    tl: _Timeline,
    keys: torch.Tensor,
    flat: torch.Tensor,
    coin: Any,
    prob: torch.Tensor,
    strict: bool,
):
    """Yield ``(run, node u, target v, candidate key)`` over live arcs out of ``flat`` pairs."""
    n = graph.num_nodes
    H = n + 1  # hops of a candidate are at most n
    for r, u, e in _expansions(graph.rowptr, flat, n):
        live = coin(r, e).double() < prob[e]
        r, u, e = r[live], u[live], e[live]
        k = keys[r * n + u]
        arr = tl.first_contact(e, torch.div(k, H, rounding_mode="floor"), strict)
        ok = arr >= 0
        r, u, e, k, arr = r[ok], u[ok], e[ok], k[ok], arr[ok]
        yield r, u, graph.col[e], arr * H + k % H + 1


def _run_chunk(
    graph: DiffusionGraph,
    tl: _Timeline,
    seeds: torch.Tensor,
    size: int,
    coin: Any,
    prob: torch.Tensor,
    strict: bool,
    provenance: bool,
    fused: Any = None,
) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """Relax ``size`` runs to convergence; return keys ``[size, n]``, parents and rounds.

    ``fused``: a :class:`_TritonRelax` that relaxes each round instead of :func:`_relax` (no
    provenance).
    """
    n = graph.num_nodes
    device = graph.device
    inf_key = tl.T * (n + 1)
    keys = torch.full((size * n,), inf_key, dtype=torch.long, device=device)
    seed_flat = (
        torch.arange(size, device=device).unsqueeze(1) * n + seeds.unsqueeze(0)
    ).reshape(-1)
    keys[seed_flat] = tl.start_rank * (n + 1)
    frontier = seed_flat
    rounds = 0
    while frontier.numel():
        rounds += 1
        new = keys.clone()
        if fused is not None:
            fused(keys, new, frontier)
        else:
            for r, _, v, cand in _relax(graph, tl, keys, frontier, coin, prob, strict):
                new.scatter_reduce_(0, r * n + v, cand, reduce="amin")
        frontier = torch.nonzero(new < keys).reshape(-1)
        keys = new
    parent = None
    if provenance:
        keys, parent = _activation_tree(graph, tl, keys, seed_flat, coin, prob, strict, inf_key)
    return keys.view(size, n), None if parent is None else parent.view(size, n), rounds


class _TritonRelax:
    """One relaxation round of a chunk on the Triton kernel (see the module docstring)."""

    def __init__(
        self,
        graph: DiffusionGraph,
        tl: _Timeline,
        prob: torch.Tensor,
        uniforms: torch.Tensor | None,
        run_base: int,
        key: int | None,
        strict: bool,
    ) -> None:
        self.graph, self.tl, self.prob, self.uniforms = graph, tl, prob.contiguous(), uniforms
        self.run_base, self.key, self.strict = run_base, 0 if key is None else key, strict
        self.max_contacts = _max_contacts(tl)

    def __call__(self, keys: torch.Tensor, new: torch.Tensor, flat: torch.Tensor) -> None:
        from influence_gpu.diffusion._triton.temporal import relax_arcs

        g, tl = self.graph, self.tl
        for r, u, e in _expansions(g.rowptr, flat, g.num_nodes):
            relax_arcs(
                r, u, e, g.col, self.prob, self.uniforms, tl.time_ptr, tl.contact_rank, keys,
                new, g.num_nodes, self.run_base, self.key, self.strict, self.max_contacts,
            )


def _max_contacts(tl: _Timeline) -> int:
    """The most contacts of one arc (bounds the Triton binary search), kept on the timeline."""
    most = getattr(tl, "max_contacts", None)
    if most is None:
        counts = tl.time_ptr.diff()
        most = tl.max_contacts = int(counts.max()) if counts.numel() else 0
    return most


def _activation_tree(
    graph: DiffusionGraph,
    tl: _Timeline,
    keys: torch.Tensor,
    seed_flat: torch.Tensor,
    coin: Any,
    prob: torch.Tensor,
    strict: bool,
    inf_key: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hops and parents of the event-driven process, given converged arrival times.

    The relaxation's arrival times are exact, but its hop part is not the activation chain: a
    node's later, shorter arrival can leave a target with hops of a walk the process never takes.
    In the process, ``v`` is activated at ``tau_v`` by a *tight* in-arc: a live ``(u, v)`` with
    ``u`` active and ``f_e(tau_u) = tau_v``; among those it takes the fewest hops, then the lowest
    ``u``. So the hops are shortest paths from the seeds over the tight arcs (Bellman-Ford rounds,
    streaming the arcs each round so no ``[runs, arcs]`` list is kept), and the parent is the
    lowest tight in-neighbour with ``hops(u) + 1 = hops(v)``.

    Returns:
        ``keys`` rebuilt as ``rank(tau) * (n + 1) + hops`` and ``parent [size * n]`` (-1 for seeds
        and unreached nodes).
    """
    n = graph.num_nodes
    H = n + 1
    times = torch.div(keys, H, rounding_mode="floor")
    reached = torch.nonzero(keys < inf_key).reshape(-1)
    hops = torch.full_like(keys, H)  # H: not reached over tight arcs yet
    hops[seed_flat] = 0

    def tight_arcs():
        for r, u, v, cand in _relax(graph, tl, times * H, reached, coin, prob, strict):
            slot = r * n + v
            ok = torch.div(cand, H, rounding_mode="floor") == times[slot]
            yield r[ok] * n + u[ok], slot[ok], u[ok]

    while True:
        new = hops.clone()
        for src, dst, _ in tight_arcs():
            new.scatter_reduce_(0, dst, (hops[src] + 1).clamp(max=H), reduce="amin")
        if torch.equal(new, hops):
            break
        hops = new
    big = torch.full_like(keys, n)
    for src, dst, u in tight_arcs():
        first = hops[src] + 1 == hops[dst]
        big.scatter_reduce_(0, dst[first], u[first], reduce="amin")
    parent = torch.where(big < n, big, torch.full_like(big, -1))
    active = keys < inf_key
    return torch.where(active, times * H + hops, keys), parent


def simulate_temporal_ic(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    edge_uniforms: torch.Tensor | None = None,
    start_time: float | int | None = None,
    strict: bool = False,
    key: int | None = None,
    return_provenance: bool = False,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> SpreadResult:
    """Simulate ``num_samples`` runs of the temporal independent cascade (ICT) at once.

    The model of Wu et al. as used by paper E (KT / KTIM, "improved k-shell influence
    maximization in temporal networks"): seeds are active from ``start_time``; a node active
    since ``tau_u`` tries each inactive out-neighbour once, at the first contact ``t >= tau_u`` of
    the arc, with success probability ``edge_prob``, which activates the neighbour at ``t``. The
    runs are computed as earliest arrival over the live arcs; the module docstring explains why
    this equals the event-by-event process.

    Args:
        graph: temporal graph (``time_ptr`` / ``time_values`` set) with ``edge_prob``.
        seeds: ``[k]`` int64 internal node ids (distinct); other inputs are read as node labels.
        num_samples: number of runs ``R``.
        generator: random generator on the graph's device; it draws the hash key of the coins.
        memory_budget: bytes the call may allocate (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); runs are split into
            chunks that fit, and a run that cannot fit is refused before any work.
        edge_uniforms: ``[R, E]`` injected coins in CSR edge order: arc ``e`` is live in run
            ``r`` iff ``edge_uniforms[r, e] < edge_prob[e]``.
        start_time: time from which seeds are active (default: the earliest contact time).
            Contacts before it are never used.
        strict: ``False`` (the model's definition, DESIGN section 4): a node may pass the cascade on
            at a contact at its own activation time, so several hops can happen at one time
            stamp. ``True``: only at contacts strictly later than its activation time.
        key: hash key of the coins ``hash_uniform(key, run, edge)`` (default: drawn from
            ``generator``); the same key gives the same worlds whatever the chunking.
        return_provenance: also return, per run, the hop count of each activation
            (``activation_step``), the activating node (``parent``) and the activation time
            (``extra["activation_time"]``).
        backend: ``"auto"`` (without provenance: the native kernel on a CPU graph when it
            builds, the Triton kernel on a CUDA graph when triton imports; else torch),
            ``"torch"`` (always the tensor path), ``"native"`` (require the native kernel) or
            ``"triton"`` (require the Triton kernel: CUDA, or CPU under ``TRITON_INTERPRET=1``).
            All give the same spreads and node counts for the same coins (``key`` or
            ``edge_uniforms``).
        shard: ``None`` (one process), ``"auto"`` or ``(rank, world)``: split the runs across
            the ranks of the ``torch.distributed`` process group and gather them, so every rank
            returns what one process computes (a collective call; the coins are hashed from
            ``(key, run, edge)``, and injected ``edge_uniforms`` are cut by run, so every rank
            passes all ``R`` rows). See :mod:`influence_gpu.diffusion._runs`.
        devices: split this process's runs across these devices (e.g. ``["cuda:0",
            "cuda:1"]``), one contiguous piece each, run one after another; the result equals
            one device's. ``None``: the graph's device. Neither ``shard`` nor ``devices`` takes
            ``return_provenance``.

    Returns:
        :class:`SpreadResult` with ``model="temporal_ic"``. With provenance, ``activation_step``
        ``[R, n]`` int32 is the number of hops from a seed (0 for seeds, -1 never; among paths of
        earliest arrival the fewest hops), ``parent`` ``[R, n]`` int64 the lowest-numbered node
        whose try achieves that (-1 for seeds and inactive nodes), and
        ``extra["activation_time"]`` ``[R, n]`` float64 the activation time (``inf`` never).
        ``extra["rounds"]`` is the largest number of relaxation rounds of a chunk (torch path);
        ``extra["backend"]`` names the backend that ran.

    Raises:
        ValueError: the graph is not temporal, has no ``edge_prob``, bad ``start_time``,
            ``edge_uniforms`` of the wrong shape, seeds out of range, ``backend="native"``
            or ``"triton"`` for a call it cannot run (native: a CUDA graph; triton: no triton,
            or a CPU graph without ``TRITON_INTERPRET=1``; either: ``return_provenance=True``),
            bad ``shard`` or ``devices``, or provenance with either.
        MemoryError: a single run does not fit in ``memory_budget``.
        RuntimeError: ``backend="native"`` and the native kernel failed to build.

    Shapes:
        seeds ``[k]``, edge_uniforms ``[R, E]``, node_prob ``[n]``, spreads ``[R]``,
        activation_step / parent / activation_time ``[R, n]``.

    """
    num_samples = check_num_samples(num_samples)
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {strict!r}")
    if key is not None:
        key = _v.check_int(key, "key")  # any int64; the coins hash it as one
    rank, world = resolve_shard(shard)
    devs = check_devices(devices)
    if is_split(world, devs, graph.device):
        if return_provenance:
            raise ValueError(
                "return_provenance cannot be combined with runs split across ranks or devices"
            )
        return _simulate_split(
            graph, [seeds], num_samples, rank, world, devs or [graph.device], generator=generator,
            memory_budget=memory_budget, edge_uniforms=edge_uniforms, start_time=start_time,
            strict=strict, key=key, backend=backend, many=False,
        )[0]
    chosen = _choose_temporal_backend(graph, backend, provenance=bool(return_provenance))
    if chosen == "native":
        from influence_gpu.diffusion._native.temporal import load_temporal_kernel

        return _simulate_native(
            load_temporal_kernel(),
            graph,
            seeds,
            num_samples,
            generator=generator,
            memory_budget=memory_budget,
            edge_uniforms=edge_uniforms,
            start_time=start_time,
            strict=strict,
            key=key,
        )
    return _simulate_torch(
        graph,
        seeds,
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        edge_uniforms=edge_uniforms,
        start_time=start_time,
        strict=strict,
        key=key,
        return_provenance=return_provenance,
        triton=chosen == "triton",
    )


def _simulate_torch(
    graph: DiffusionGraph,
    seeds: Any,
    num_samples: int,
    *,
    generator: torch.Generator | None,
    memory_budget: int | None,
    edge_uniforms: Any,
    start_time: Any,
    strict: bool,
    key: int | None,
    return_provenance: bool = False,
    run_offset: int = 0,
    triton: bool = False,
) -> SpreadResult:
    """The torch path of :func:`simulate_temporal_ic`, over the global runs ``run_offset ..``.

    Injected ``edge_uniforms`` hold the rows of exactly these runs. ``triton``: relax on the
    Triton kernel (:class:`_TritonRelax`; no provenance). It allocates nothing beyond the torch
    path's key arrays (it reads the timeline, ``col`` and the float64 probabilities in place),
    so both are planned alike.
    """
    tl = _timeline(graph, start_time)
    prob = graph.require_prob()
    prob64 = prob.double()  # coins compared in float64, exactly as the reference does
    seeds = _seed_ids(graph, seeds)
    n, E = graph.num_nodes, graph.num_edges
    device = graph.device

    if edge_uniforms is not None:
        edge_uniforms = torch.as_tensor(edge_uniforms, device=device)
        if tuple(edge_uniforms.shape) != (num_samples, E):
            raise ValueError(
                f"edge_uniforms must have shape [num_samples, num_edges] = [{num_samples}, {E}], "
                f"got {list(edge_uniforms.shape)}"
            )
    elif key is None:
        if generator is None:
            generator = torch.Generator(device=device)
            generator.seed()
        key = draw_key(generator)

    per_run = n * (8 * 3 + 1) + (n * (8 * 3 + 4 + 8) if return_provenance else 0)
    fixed = tl.num_contacts * 24 + E * 16 + EXPAND_BATCH * _BYTES_PER_EXPANSION
    # the result arrays: spreads and node counts, and with provenance the [R, n] outputs (int32
    # hops, int64 parents, float64 times: 20 B per run and node), allocated before the first
    # chunk so that everything the call keeps is charged up front
    fixed += charge_results(num_samples * 8 + n * 16)
    if return_provenance:
        fixed += num_samples * n * 20
    chunk = plan_chunks(num_samples, per_run, memory_budget, fixed_bytes=fixed, what="temporal IC")

    spreads = torch.empty(num_samples, dtype=torch.long, device=device)
    counts = torch.zeros(n, dtype=torch.long, device=device)
    if return_provenance:
        steps = torch.empty(num_samples, n, dtype=torch.int32, device=device)
        parents = torch.empty(num_samples, n, dtype=torch.long, device=device)
        times = torch.empty(num_samples, n, dtype=torch.float64, device=device)
    max_rounds = 0
    inf_key = tl.T * (n + 1)
    for start, size in iter_chunks(num_samples, chunk):
        if edge_uniforms is not None:
            block = edge_uniforms[start : start + size]

            def coin(r: torch.Tensor, e: torch.Tensor, block: torch.Tensor = block) -> torch.Tensor:
                return block[r, e]
        else:

            def coin(
                r: torch.Tensor, e: torch.Tensor, at: int = run_offset + start
            ) -> torch.Tensor:
                return hash_uniform(key, r + at, e)

        fused = None
        if triton:
            fused = _TritonRelax(
                graph, tl, prob64, None if edge_uniforms is None else block,
                run_offset + start, key, strict,
            )
        keys, parent, rounds = _run_chunk(
            graph, tl, seeds, size, coin, prob64, strict, return_provenance, fused
        )
        max_rounds = max(max_rounds, rounds)
        active = keys < inf_key
        spreads[start : start + size] = active.sum(1)
        counts += active.sum(0)
        if return_provenance:
            hops = torch.where(active, keys % (n + 1), torch.full_like(keys, -1)).to(torch.int32)
            rank = torch.div(keys, n + 1, rounding_mode="floor").clamp(max=tl.T - 1)
            t = tl.values.to(torch.float64)[rank]
            times[start : start + size] = torch.where(active, t, torch.full_like(t, float("inf")))
            steps[start : start + size] = hops
            parents[start : start + size] = parent

    mean, stderr = summarize(spreads)
    result = SpreadResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=counts.to(torch.float32) / num_samples,
        spreads=spreads,
        model="temporal_ic",
        extra={
            "rounds": max_rounds,
            "start_time": tl.values[tl.start_rank].item(),
            "backend": "triton" if triton else "torch",
            "node_count": counts,
        },
    )
    if return_provenance:
        result.activation_step = steps
        result.parent = parents
        result.extra["activation_time"] = times
    return result


def estimate_temporal_ic_sets(
    graph: DiffusionGraph,
    seed_sets: Sequence[Any],
    num_samples: int,
    *,
    key: int | None = None,
    generator: torch.Generator | None = None,
    start_time: float | int | None = None,
    strict: bool = False,
    memory_budget: int | None = None,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected temporal IC spread of many seed sets, on common random numbers.

    Run ``r`` of every set uses the coins ``hash_uniform(key, r, e)``, so differences between
    candidate sets are not masked by sampling noise (the oracle of greedy / CELF on ICT). The
    native kernel evaluates all ``S x num_samples`` (set, run) pairs in one call, the sets as
    virtual runs; the torch path simulates the sets one after the other. Set ``s`` gets exactly
    the mean and standard error of ``simulate_temporal_ic(graph, seed_sets[s], num_samples,
    key=key, ...)``.

    Args:
        graph: temporal graph with ``edge_prob``.
        seed_sets: ``S`` seed sets, each as :func:`simulate_temporal_ic` takes its ``seeds``
            (an int64 tensor of internal ids, or node labels).
        num_samples: runs ``R`` per set.
        key: hash key of the coins (default: drawn from ``generator``, or from a fresh one).
        generator: random generator that draws ``key`` when it is not given.
        start_time: time from which seeds are active (default: the earliest contact time).
        strict: only contacts strictly after a node's activation pass the cascade on.
        memory_budget: bytes the call may allocate; refused before any work if too small.
        backend: ``"auto"``, ``"torch"``, ``"native"`` or ``"triton"`` as in
            :func:`simulate_temporal_ic`.
        shard: split the runs across the ranks of the process group, as in
            :func:`simulate_temporal_ic`; every rank returns the one-process means and stderrs.
        devices: split this process's runs across these devices, as in
            :func:`simulate_temporal_ic`.

    Returns:
        ``(means [S], stderrs [S])`` float64 tensors on the CPU.

    Raises:
        ValueError: as :func:`simulate_temporal_ic`.
        MemoryError: the call does not fit in ``memory_budget``.

    Shapes:
        means ``[S]``, stderrs ``[S]``.
    """
    num_samples = check_num_samples(num_samples)
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {strict!r}")
    seed_sets = list(seed_sets)
    if key is not None:
        key = _v.check_int(key, "key")
    rank, world = resolve_shard(shard)
    devs = check_devices(devices)
    if key is None:
        if generator is None:
            generator = torch.Generator(device=graph.device)
            generator.seed()
        key = draw_key(generator)
    if is_split(world, devs, graph.device):
        results = _simulate_split(
            graph, seed_sets, num_samples, rank, world, devs or [graph.device], generator=None,
            memory_budget=memory_budget, edge_uniforms=None, start_time=start_time,
            strict=strict, key=key, backend=backend, many=True,
        )
    else:
        results = _temporal_sets(
            graph, seed_sets, num_samples, many=True, backend=backend,
            memory_budget=memory_budget, edge_uniforms=None, start_time=start_time,
            strict=strict, key=key,
        )
    means = [res.mean for res in results]
    stderrs = [res.stderr for res in results]
    return torch.tensor(means, dtype=torch.float64), torch.tensor(stderrs, dtype=torch.float64)


def _temporal_sets(
    graph: DiffusionGraph,
    seed_sets: list[Any],
    num_samples: int,
    *,
    many: bool,
    backend: str,
    run_offset: int = 0,
    **kwargs: Any,
) -> list[SpreadResult]:
    """The runs ``run_offset ..`` of every set on the backend chosen for ``graph``.

    ``many=False``: one set, with node counts (``extra["node_count"]``); ``many=True``: spreads
    only. ``kwargs``: ``memory_budget``, ``edge_uniforms`` (the rows of these runs),
    ``start_time``, ``strict`` and ``key``.
    """
    chosen = _choose_temporal_backend(graph, backend, provenance=False)
    if chosen == "native":
        from influence_gpu.diffusion._native.temporal import load_temporal_kernel

        res = _simulate_native(
            load_temporal_kernel(), graph, seed_sets if many else seed_sets[0], num_samples,
            generator=None, many=many, run_offset=run_offset, **kwargs,
        )
        return res if many else [res]
    return [
        _simulate_torch(graph, seeds, num_samples, generator=None, run_offset=run_offset,
                        triton=chosen == "triton", **kwargs)
        for seeds in seed_sets
    ]


def _simulate_split(
    graph: DiffusionGraph,
    seed_sets: list[Any],
    num_samples: int,
    rank: int,
    world: int,
    devices: list[torch.device],
    *,
    generator: torch.Generator | None,
    edge_uniforms: Any,
    key: int | None,
    many: bool,
    **kwargs: Any,
) -> list[SpreadResult]:
    """Every set's runs split over ranks and ``devices`` by :func:`~._runs.split_runs`.

    The key is drawn once, before the split (rank 0's on every rank); each piece runs at its
    global run offset (injected ``edge_uniforms``: its rows), so every rank returns the spreads
    (and, for one set, node counts) one process on one device computes.
    """
    _require_temporal(graph)
    graph.require_prob()
    n, E = graph.num_nodes, graph.num_edges
    sets = [_seed_ids(graph, s) for s in seed_sets]
    S = len(sets)
    if edge_uniforms is not None:
        edge_uniforms = torch.as_tensor(edge_uniforms)
        if tuple(edge_uniforms.shape) != (num_samples, E):
            raise ValueError(
                f"edge_uniforms must have shape [num_samples, num_edges] = [{num_samples}, {E}], "
                f"got {list(edge_uniforms.shape)}"
            )
        key = None
    elif key is None:
        if generator is None:
            generator = torch.Generator(device=graph.device)
            generator.seed()
        key = draw_key(generator)
    comm = comm_device(graph.device)
    key = common_key(key, world, comm)
    info: dict[str, Any] = {}

    def piece(dev: torch.device, offset: int, count: int) -> dict[str, torch.Tensor]:
        local = _temporal_sets(
            graph.to(dev), [s.to(dev) for s in sets], count, many=many, run_offset=offset,
            edge_uniforms=None if edge_uniforms is None
            else edge_uniforms[offset : offset + count].to(dev),
            key=key, **kwargs,
        )
        info.update(local[0].extra)
        got = {"spreads": torch.stack([res.spreads for res in local], 1),  # [count, S]
               "rounds": torch.tensor(local[0].extra.get("rounds", 0))}
        if not many:
            got["node_count"] = local[0].extra["node_count"]
        return got

    got = split_runs(
        num_samples, rank, world, devices, piece,
        runs={"spreads": torch.zeros(0, S, dtype=torch.long)},
        sums={} if many else {"node_count": torch.zeros(n, dtype=torch.long)},
        maxes={"rounds": torch.tensor(0)}, comm=comm,
    )
    counts = None if many else got["node_count"]
    if "rounds" in info:  # the torch path's most relaxation rounds, over every piece and rank
        info["rounds"] = int(got["rounds"])
    info.update(node_count=counts, world_size=world, devices=[str(d) for d in devices])
    return [
        spread_result(
            got["spreads"][:, s].contiguous(), "temporal_ic",
            node_prob=None if counts is None else counts.to(torch.float32) / num_samples,
            extra=dict(info),
        )
        for s in range(S)
    ]


# ---------------------------------------------------------------------------- native backend

#: Peak bytes per contact and per arc of building a :class:`_Timeline` (sort scratch of the
#: distinct times, the int64 ranks, (edge, rank) keys and their temporaries; the kept part is
#: 24 B per contact). Measured: 67 B of process growth per contact on 4M contacts over 4M arcs.
_TIMELINE_BYTES_PER_CONTACT = 64
_TIMELINE_BYTES_PER_EDGE = 24
#: Bytes per node of one native worker thread: visit stamp (4), arrival rank (8), heap position
#: (4), heap (4), settled list (4) and node counts (8).
_NATIVE_NODE_BYTES = 32
#: Bytes of one native worker thread beyond its per-node arrays: the stack pages it touches and
#: the malloc arena a worker thread opens for its first allocation (measured: about 12 KiB of
#: process growth per extra thread on the first call; rounded up).
_NATIVE_THREAD_BYTES = 64 * 1024


def _timeline_key(start_time: Any) -> str:
    return f"temporal_timeline:{type(start_time).__name__}:{start_time!r}"


def _timeline(graph: DiffusionGraph, start_time: Any) -> _Timeline:
    """The graph's :class:`_Timeline` for ``start_time``, cached on the graph."""
    cache_key = _timeline_key(start_time)
    tl = graph._cache.get(cache_key)
    if tl is None:
        tl = graph._cache[cache_key] = _Timeline(graph, start_time)
    return tl


def _contact_rank32(tl: _Timeline) -> torch.Tensor:
    """The timeline's contact ranks as int32 (the native kernel's layout), kept on the timeline."""
    ranks = getattr(tl, "contact_rank32", None)
    if ranks is None:
        ranks = tl.contact_rank32 = tl.contact_rank.to(torch.int32).contiguous()
    return ranks


def _choose_temporal_backend(graph: DiffusionGraph, backend: str, *, provenance: bool) -> str:
    """``"native"``, ``"triton"`` or ``"torch"`` for this call (:func:`choose_backend`).

    The native kernel serves CPU graphs, the Triton kernel CUDA graphs (or CPU ones under
    ``TRITON_INTERPRET=1``); neither computes provenance, and both take fewer than ``2**31``
    nodes, arcs and contacts.
    """
    from influence_gpu.diffusion._native.temporal import load_temporal_kernel

    small = max(graph.num_nodes, graph.num_edges, _num_contacts(graph) + 1) < 2**31
    if backend == "triton" or (backend == "auto" and graph.device.type != "cpu"):
        why = (
            f"return_provenance={provenance}, {graph.num_nodes} nodes; the Triton kernel returns "
            "spreads and node counts only (provenance is rebuilt on torch: use backend='torch' "
            "or 'auto') and needs fewer than 2**31 nodes, arcs and contacts"
        )
    else:
        why = (
            f"device={graph.device}, return_provenance={provenance}; the native kernel returns "
            "spreads and node counts only (use backend='torch' or 'auto' for provenance) and "
            "needs fewer than 2**31 nodes, arcs and contacts"
        )
    return choose_backend(
        "temporal IC",
        backend,
        graph.device,
        native=load_temporal_kernel,
        triton=True,
        applicable=not provenance and small,
        why_not=why,
    )


def _num_contacts(graph: DiffusionGraph) -> int:
    return 0 if graph.time_values is None else graph.time_values.numel()


def _native_prep_bytes(graph: DiffusionGraph, start_time: Any) -> int:
    """Bytes the per-graph preparation of the native path still has to allocate (0 if cached).

    The timeline of ``start_time`` with its int32 contact ranks, and the ``[rowptr, col int32,
    prob float32]`` arrays of :func:`~influence_gpu.diffusion._native.native_csr`.
    """
    total = 0
    tl = graph._cache.get(_timeline_key(start_time))
    if tl is None:
        total += _num_contacts(graph) * _TIMELINE_BYTES_PER_CONTACT
        total += (graph.num_edges + 1) * _TIMELINE_BYTES_PER_EDGE
    if tl is None or getattr(tl, "contact_rank32", None) is None:
        total += _num_contacts(graph) * 4
    if "native_csr" not in graph._cache and graph.col.dtype != torch.int32:
        total += 4 * graph.num_edges  # the int32 copy of col (edge_prob is float32 already)
    return total


def _simulate_native(
    kernel: Any,
    graph: DiffusionGraph,
    seeds: Any,
    num_samples: int,
    *,
    generator: torch.Generator | None,
    memory_budget: int | None,
    edge_uniforms: Any,
    start_time: Any,
    strict: bool,
    key: int | None,
    many: bool = False,
    run_offset: int = 0,
) -> Any:
    """The native version of :func:`simulate_temporal_ic` (``many``: a list of seed sets).

    The runs are the global runs ``run_offset ..`` (a shard's); injected ``edge_uniforms`` hold
    their rows.

    Returns a :class:`SpreadResult`, or one per set when ``many`` (without per-node counts).
    """
    from influence_gpu.diffusion._native import native_csr
    from influence_gpu.kernels.native import native_threads

    _require_temporal(graph)
    if start_time is not None:
        _check_start_time(start_time)
    graph.require_prob()
    n, E = graph.num_nodes, graph.num_edges
    sets = [_seed_ids(graph, s) for s in seeds] if many else [_seed_ids(graph, seeds)]
    S = len(sets)
    if edge_uniforms is not None:
        edge_uniforms = torch.as_tensor(edge_uniforms, device=graph.device)  # the CPU
        if tuple(edge_uniforms.shape) != (num_samples, E):
            raise ValueError(
                f"edge_uniforms must have shape [num_samples, num_edges] = [{num_samples}, {E}], "
                f"got {list(edge_uniforms.shape)}"
            )
    elif key is None:
        if generator is None:
            generator = torch.Generator(device=graph.device)
            generator.seed()
        key = draw_key(generator)
    threads = native_threads()
    # everything the call allocates is charged up front, before any of it is built: the
    # per-graph preparation (timeline, int32 targets), the per-thread search state, the results
    # (spreads, node counts) and, with injected coins not already float64, their float64 copy
    fixed = _native_prep_bytes(graph, start_time)
    fixed += threads * (n * _NATIVE_NODE_BYTES + _NATIVE_THREAD_BYTES)
    fixed += charge_results(S * num_samples * 8 + n * 16)
    convert = edge_uniforms is not None and not (
        edge_uniforms.dtype == torch.float64 and edge_uniforms.is_contiguous()
    )
    per_run = E * 8 if convert else 1
    chunk = plan_chunks(
        num_samples, per_run, memory_budget, fixed_bytes=fixed, what="temporal IC (native)"
    )
    if edge_uniforms is None or not convert:
        chunk = num_samples

    tl = _timeline(graph, start_time)
    rowptr, col, prob = native_csr(graph)
    time_ptr = tl.time_ptr.contiguous()
    contact_rank = _contact_rank32(tl)
    seed_cat = torch.cat(sets).long().contiguous() if S else torch.empty(0, dtype=torch.long)
    seed_ptr = torch.zeros(S + 1, dtype=torch.long)
    if S:
        seed_ptr[1:] = torch.cumsum(torch.tensor([s.numel() for s in sets]), 0)
    spreads = torch.empty(S * num_samples, dtype=torch.long)
    counts = None if many else torch.zeros(n, dtype=torch.long)
    if S:
        for start, size in iter_chunks(num_samples, chunk):
            block = None
            if edge_uniforms is not None:
                block = edge_uniforms[start : start + size].to(torch.float64).contiguous()
            out = spreads if size == num_samples else torch.empty(S * size, dtype=torch.long)
            status = kernel(
                n,
                E,
                rowptr.data_ptr(),
                col.data_ptr(),
                prob.data_ptr(),
                time_ptr.data_ptr(),
                contact_rank.data_ptr(),
                tl.start_rank,
                int(strict),
                seed_cat.data_ptr(),
                seed_ptr.data_ptr(),
                S,
                size,
                run_offset + start,
                0 if key is None else int(key),
                None if block is None else block.data_ptr(),
                threads,
                out.data_ptr(),
                None if counts is None else counts.data_ptr(),
            )
            if status != 0:
                raise RuntimeError(f"native temporal IC kernel failed with status {status}")
            if out is not spreads:
                spreads.view(S, num_samples)[:, start : start + size] = out.view(S, size)
    start_value = tl.values[tl.start_rank].item()
    results = [
        spread_result(
            spreads[s * num_samples : (s + 1) * num_samples], "temporal_ic",
            node_prob=None if counts is None else counts.to(torch.float32) / num_samples,
            extra={"start_time": start_value, "backend": "native", "threads": threads,
                   "node_count": counts},
        )
        for s in range(S)
    ]
    return results if many else results[0]
