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
times as above and gives well-defined provenance (fewest hops among earliest arrivals, then the
lowest parent id; the event-driven reference orders its events the same way). One relaxation round
expands the (run, node) pairs whose key dropped in the previous round over their out-arcs, checks
each arc's coin (counter-based ``hash_uniform(key, run, edge)`` or the injected ``edge_uniforms``),
finds ``f_e(tau_u)`` with one ``torch.searchsorted`` over all contacts keyed by ``edge * (T + 1) +
rank``, and scatters the candidate keys with ``amin``; the rounds stop when no key changes (at most
one round more than the largest hop count). The arcs' coins are recomputed from the hash when
needed, so no ``[R, E]`` tensor is stored.
"""

from __future__ import annotations

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
from influence_gpu.diffusion.results import SpreadResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["simulate_temporal_ic"]

#: Arc expansions processed together in one relaxation batch (bounds the temporaries).
EXPAND_BATCH = 1 << 21
_BYTES_PER_EXPANSION = 96


def _seed_ids(graph: DiffusionGraph, seeds: Any) -> torch.Tensor:
    """Return internal ids ``[k]``: tensors are taken as internal ids, anything else as labels."""
    if isinstance(seeds, torch.Tensor):
        return _v.check_node_ids(seeds, graph.num_nodes, "seeds", device=graph.device)
    return as_seed_tensor(graph, seeds, "seeds")


class _Timeline:
    """Contact times of a temporal graph in rank form (see the module docstring)."""

    def __init__(self, graph: DiffusionGraph, start_time: Any) -> None:
        if not graph.is_temporal:
            raise ValueError(
                "simulate_temporal_ic needs a temporal graph (contact times per arc), but "
                "graph.time_ptr is None; build it with DiffusionGraph.from_edge_index(..., "
                "edge_time=...) or load a temporal edge list"
            )
        device = graph.device
        tv = graph.time_values.reshape(-1)
        integral = not tv.is_floating_point()
        if start_time is not None:
            st = torch.as_tensor(start_time)
            if st.numel() != 1 or st.dtype == torch.bool or st.is_complex():
                raise ValueError(f"start_time must be a single number, got {start_time!r}")
            if st.is_floating_point() and not bool(torch.isfinite(st).all()):
                raise ValueError(f"start_time must be finite, got {start_time!r}")
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
) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """Relax ``size`` runs to convergence; return keys ``[size, n]``, parents and rounds."""
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
        for r, _, v, cand in _relax(graph, tl, keys, frontier, coin, prob, strict):
            new.scatter_reduce_(0, r * n + v, cand, reduce="amin")
        frontier = torch.nonzero(new < keys).reshape(-1)
        keys = new
    parent = None
    if provenance:
        parent = torch.full((size * n,), -1, dtype=torch.long, device=device)
        reached = torch.nonzero(keys < inf_key).reshape(-1)
        big = torch.full_like(parent, n)
        for r, u, v, cand in _relax(graph, tl, keys, reached, coin, prob, strict):
            slot = r * n + v
            tight = cand == keys[slot]
            big.scatter_reduce_(0, slot[tight], u[tight], reduce="amin")
        parent = torch.where(big < n, big, parent)
    return keys.view(size, n), None if parent is None else parent.view(size, n), rounds


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

    Returns:
        :class:`SpreadResult` with ``model="temporal_ic"``. With provenance, ``activation_step``
        ``[R, n]`` int32 is the number of hops from a seed (0 for seeds, -1 never; among paths of
        earliest arrival the fewest hops), ``parent`` ``[R, n]`` int64 the lowest-numbered node
        whose try achieves that (-1 for seeds and inactive nodes), and
        ``extra["activation_time"]`` ``[R, n]`` float64 the activation time (``inf`` never).
        ``extra["rounds"]`` is the largest number of relaxation rounds of a chunk.

    Raises:
        ValueError: the graph is not temporal, has no ``edge_prob``, bad ``start_time``,
            ``edge_uniforms`` of the wrong shape, seeds out of range.
        MemoryError: a single run does not fit in ``memory_budget``.

    Shapes:
        seeds ``[k]``, edge_uniforms ``[R, E]``, node_prob ``[n]``, spreads ``[R]``,
        activation_step / parent / activation_time ``[R, n]``.

    """
    num_samples = check_num_samples(num_samples)
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {strict!r}")
    cache_key = f"temporal_timeline:{type(start_time).__name__}:{start_time!r}"
    tl = graph._cache.get(cache_key)
    if tl is None:
        tl = graph._cache[cache_key] = _Timeline(graph, start_time)
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
    # the result arrays: spreads and node counts (the [R, n] provenance outputs are charged
    # per run, with the chunk that makes them)
    fixed += charge_results(num_samples * 8 + n * 16)
    chunk = plan_chunks(num_samples, per_run, memory_budget, fixed_bytes=fixed, what="temporal IC")

    spreads = torch.empty(num_samples, dtype=torch.long, device=device)
    counts = torch.zeros(n, dtype=torch.long, device=device)
    steps, parents, times = [], [], []
    max_rounds = 0
    inf_key = tl.T * (n + 1)
    for start, size in iter_chunks(num_samples, chunk):
        if edge_uniforms is not None:
            block = edge_uniforms[start : start + size]

            def coin(r: torch.Tensor, e: torch.Tensor, block: torch.Tensor = block) -> torch.Tensor:
                return block[r, e]
        else:

            def coin(r: torch.Tensor, e: torch.Tensor, start: int = start) -> torch.Tensor:
                return hash_uniform(key, r + start, e)

        keys, parent, rounds = _run_chunk(
            graph, tl, seeds, size, coin, prob64, strict, return_provenance
        )
        max_rounds = max(max_rounds, rounds)
        active = keys < inf_key
        spreads[start : start + size] = active.sum(1)
        counts += active.sum(0)
        if return_provenance:
            hops = torch.where(active, keys % (n + 1), torch.full_like(keys, -1)).to(torch.int32)
            rank = torch.div(keys, n + 1, rounding_mode="floor").clamp(max=tl.T - 1)
            t = tl.values.to(torch.float64)[rank]
            times.append(torch.where(active, t, torch.full_like(t, float("inf"))))
            steps.append(hops)
            parents.append(parent)

    mean, stderr = summarize(spreads)
    result = SpreadResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=counts.to(torch.float32) / num_samples,
        spreads=spreads,
        model="temporal_ic",
        extra={"rounds": max_rounds, "start_time": tl.values[tl.start_rank].item()},
    )
    if return_provenance:
        result.activation_step = torch.cat(steps)
        result.parent = torch.cat(parents)
        result.extra["activation_time"] = torch.cat(times)
    return result
