"""Batched independent cascade (Kempe, Kleinberg, Tardos 2003).

A node activated at step t tries each inactive out-neighbour once at step t + 1 and succeeds with
``edge_prob``. ``R`` runs proceed together: the state is one int32 array over (node, run) pairs
holding ``0`` (inactive) or ``1 + activation step``, and each step expands the newly activated
(node, run) pairs.

How an expansion finds the live out-edges of a newly active (u, run) pair (``sampler``):

* ``"skip"`` (default): u's out-edges are kept sorted by probability, largest first, and the live
  ones are found by geometric skipping with thinning: from position i, jump ``G ~ Geometric(p_i)``
  edges ahead to j, accept j with probability ``p_j / p_i`` (exact because ``p_j <= p_i``) and
  continue from j + 1. Each edge ends up live independently with its own probability, and the
  work per activation is about ``1 + (number of live edges)`` instead of ``outdeg(u)``.
* ``"hash"``: every out-edge gets the counter-based coin ``hash_uniform(key, run, edge)``; the
  same key gives the same live-edge worlds in every call (common random numbers).
* ``"given"``: coins injected as ``edge_uniforms [R, E]`` (edge e live in run r iff
  ``edge_uniforms[r, e] < edge_prob[e]``), for exact comparison with the pure-Python reference.

Newly reached (node, run) pairs are deduplicated by claiming their slot in the state array (each
candidate writes its own negative id, and the one whose id reads back wins), so a node is
activated once per run even when several parents reach it in the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import (
    charge_results,
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
from influence_gpu.kernels.backend import BACKENDS, choose_backend
from influence_gpu.kernels.native import native_threads

__all__ = ["simulate_ic", "simulate_ic_batch", "release_workspace", "SAMPLERS", "BACKENDS"]

SAMPLERS = ("skip", "hash", "given")

#: Frontier pairs expanded together; bounds the temporary tensors of one expansion.
CURSOR_BATCH = 1 << 22
_BYTES_PER_CURSOR = 64


def _prepare(graph: DiffusionGraph) -> dict[str, torch.Tensor]:
    """Out-edges sorted by probability inside each row, cached on the graph.

    Returns a dict with ``rowptr`` [n+1], ``dst`` [E] (int32 targets), ``prob`` [E] (float32),
    ``inv_rate`` [E] (-1 / log(1 - p)), ``eid`` [E] (original edge ids).
    """
    cache = graph._cache
    if "ic_prep" in cache:
        return cache["ic_prep"]
    p = graph.require_prob()
    src = graph.src
    # rows ascending, probabilities descending inside a row
    order = torch.argsort(src.double() * 2.0 - p.double(), stable=True)
    ps = p[order].contiguous()
    # skip = floor(Exp(1) * inv_rate) is Geometric(p) on {0, 1, ...}: P(skip >= k) = (1 - p)^k
    inv_rate = (-1.0 / torch.log1p(-ps.double().clamp(max=1.0))).float()
    inv_rate = torch.where(ps >= 1.0, torch.zeros_like(inv_rate), inv_rate)
    # p == 0: a huge finite rate (not inf: 0 * inf is nan); such edges are never accepted anyway
    inv_rate = torch.where(ps <= 0.0, torch.full_like(inv_rate, 1e30), inv_rate)
    idx = torch.int32 if graph.num_edges < 2**31 - 2**30 else torch.long
    prep = {
        "max_degree": int(graph.out_degree().max()),
        "rowptr": graph.rowptr.to(idx),
        "dst": graph.col[order].to(idx).contiguous(),
        "prob": ps,
        "inv_rate": inv_rate.contiguous(),
        "eid": order.to(idx),
    }
    cache["ic_prep"] = prep
    return prep


_WORKSPACE: dict[str, torch.Tensor] = {}


def release_workspace() -> None:
    """Free the state buffer that CPU simulations keep between calls."""
    _WORKSPACE.clear()


def _zeroed_state(numel: int, device: torch.device) -> torch.Tensor:
    """A zeroed int32 buffer of ``numel`` entries.

    On the CPU the buffer is kept and reused by the next call: a fresh allocation of a few hundred
    MB costs far more in page faults than zeroing it again (the CUDA caching allocator already
    does this on GPUs). :func:`release_workspace` frees it.
    """
    if device.type != "cpu":
        return torch.zeros(numel, dtype=torch.int32, device=device)
    buf = _WORKSPACE.get("state")
    if buf is None or buf.numel() < numel:
        _WORKSPACE.pop("state", None)
        buf = torch.zeros(numel, dtype=torch.int32)
        _WORKSPACE["state"] = buf
        return buf[:numel]
    out = buf[:numel]
    out.zero_()
    return out


class _Chunk:
    """State of ``R`` runs over ``n`` nodes, node-major: slot ``v * R + r``."""

    def __init__(self, n: int, R: int, device: torch.device, provenance: bool) -> None:
        self.n, self.R = n, R
        self.idx = torch.int32 if n * R < 2**31 else torch.long
        self.state = _zeroed_state(n * R, device)
        self.parent = (
            torch.full((n * R,), -1, dtype=self.idx, device=device) if provenance else None
        )

        self.run_count = torch.zeros(R, dtype=torch.long, device=device)
        self.node_count = torch.zeros(n, dtype=torch.long, device=device)

    def activate_seeds(self, nodes: torch.Tensor, runs: torch.Tensor) -> torch.Tensor:
        flat = nodes.to(self.idx) * self.R + runs.to(self.idx)
        self.state[flat] = 1
        self.count(flat)
        return flat

    def count(self, flat: torch.Tensor) -> None:
        """Add newly activated slots to the per-run and per-node activation counts."""
        if flat.numel():
            node = torch.div(flat, self.R, rounding_mode="floor")
            self.run_count += torch.bincount(flat - node * self.R, minlength=self.R)
            self.node_count += torch.bincount(node, minlength=self.n)

    def claim(self, cand: torch.Tensor, par: torch.Tensor | None, step: int) -> torch.Tensor:
        """Activate the distinct inactive slots among ``cand`` at ``step``; return them."""
        fresh = self.state[cand] == 0
        cand = cand[fresh]
        if cand.numel() == 0:
            return cand
        if par is not None:
            par = par[fresh]
        ids = -torch.arange(1, cand.numel() + 1, dtype=torch.int32, device=cand.device)
        self.state[cand] = ids
        win = self.state[cand] == ids
        cand = cand[win]
        self.state[cand] = step + 1
        if self.parent is not None and par is not None:
            self.parent[cand] = par[win].to(self.parent.dtype)
        return cand


def _cursor_dtype(prep: dict[str, Any], chunk: _Chunk) -> torch.dtype:
    return torch.long if torch.long in (prep["rowptr"].dtype, chunk.idx) else torch.int32


def _open_cursors(
    prep: dict[str, Any], chunk: _Chunk, slots: torch.Tensor, with_node: bool
) -> torch.Tensor:
    """Cursors ``[3 or 4, m]`` = (pos, end, run[, node]) over the out-rows of active slots."""
    idx = _cursor_dtype(prep, chunk)
    rowptr = prep["rowptr"]
    slots = slots.to(idx)
    u = torch.div(slots, chunk.R, rounding_mode="floor")
    rows = [rowptr[u].to(idx), rowptr[u + 1].to(idx), slots - u * chunk.R]
    if with_node:
        rows.append(u)
    cur = torch.stack(rows)
    return cur[:, cur[0] < cur[1]]


def _advance_cursors(
    prep: dict[str, Any], work: torch.Tensor, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move every cursor of ``work`` to its next landing (in place), thinning it.

    From ``pos`` the cursor jumps ``Geometric(p_pos)`` edges to ``j`` and the landing is kept
    with probability ``p_j / p_pos`` (exact, because rows are sorted by probability, largest
    first); afterwards ``pos = j + 1``.

    Returns:
        ``(landing [m], hit [h], alive [m])``: the landing edge positions (clamped into the row),
        the indices of the cursors whose landing is a live edge, and which cursors still have
        edges left.
    """
    prob, inv_rate = prep["prob"], prep["inv_rate"]
    pos, end = work[0], work[1]
    coins = torch.rand(2, pos.numel(), device=pos.device, generator=generator)
    # Exp(1) * inv_rate, floored, is Geometric(p_pos); capped so that it fits the index dtype
    skip = torch.log1p(coins[0].neg_()).neg_().mul_(inv_rate[pos])
    j = pos + skip.clamp_(max=float(prep["max_degree"] + 1)).to(pos.dtype)
    landing = torch.minimum(j, end - 1)
    live = (coins[1].mul_(prob[pos]) < prob[landing]).logical_and_(j < end)
    j += 1
    work[0] = j
    return landing, live.nonzero().squeeze(1), j < end


def _expand_skip(
    prep: dict[str, Any],
    chunk: _Chunk,
    frontier: torch.Tensor,
    step: int,
    generator: torch.Generator | None,
    want_parent: bool,
) -> torch.Tensor:
    """Activate live out-neighbours of ``frontier`` slots by geometric skipping (one BFS step).

    Every frontier slot becomes a cursor over its node's out-edges; cursors die after about
    ``1 + live edges`` iterations. Used with provenance, where steps must be BFS depths.
    """
    new: list[torch.Tensor] = []
    for start in range(0, frontier.numel(), CURSOR_BATCH):
        cur = _open_cursors(prep, chunk, frontier[start : start + CURSOR_BATCH], want_parent)
        while cur.shape[1]:
            landing, hit, alive = _advance_cursors(prep, cur, generator)
            if hit.numel():
                cand = prep["dst"][landing[hit]].to(chunk.idx) * chunk.R + cur[2][hit].to(chunk.idx)
                par = cur[3][hit] if want_parent else None
                new.append(chunk.claim(cand, par, step))
            cur = cur[:, alive]
    return torch.cat(new) if new else frontier[:0]


def _run_skip_queue(
    prep: dict[str, Any],
    chunk: _Chunk,
    frontier: torch.Tensor,
    generator: torch.Generator | None,
) -> int:
    """Spread from ``frontier`` by geometric skipping, without waiting for BFS steps.

    The final active set of IC is the set reachable from the seeds over live edges, whatever the
    order in which edges are tested, as long as each (edge, run) coin is drawn at most once and
    each activated node is expanded once. So instead of finishing step t before step t + 1, every
    iteration advances all open cursors at once, and the slots they activate open new cursors
    that join the next iteration. This needs far fewer (and fuller) tensor iterations than the
    step-synchronous loop on long, thin cascades. Activation steps are not BFS depths here, so
    provenance uses the step-synchronous loop.

    Returns:
        Number of iterations.
    """
    cur = _open_cursors(prep, chunk, frontier, with_node=False)
    it = 0
    while cur.shape[1]:
        it += 1
        work, rest = cur[:, :CURSOR_BATCH], cur[:, CURSOR_BATCH:]
        landing, hit, alive = _advance_cursors(prep, work, generator)
        parts = [work[:, alive]]
        if rest.shape[1]:
            parts.append(rest)
        if hit.numel():
            cand = prep["dst"][landing[hit]].to(chunk.idx) * chunk.R + work[2][hit].to(chunk.idx)
            fresh = chunk.claim(cand, None, it)
            if fresh.numel():
                chunk.count(fresh)
                parts.append(_open_cursors(prep, chunk, fresh, with_node=False))
        cur = parts[0] if len(parts) == 1 else torch.cat(parts, 1)
    return it


class _TritonClaim:
    """The hash coins of a chunk, tested and claimed by the Triton kernel in one pass."""

    def __init__(self, key: int, local_run: torch.Tensor) -> None:
        self.key, self.local_run = key, local_run.long().contiguous()

    def claim(
        self, graph: DiffusionGraph, chunk: _Chunk, e: torch.Tensor, r: torch.Tensor, step: int
    ) -> torch.Tensor:
        from influence_gpu.diffusion._triton.ic import claim_live_targets

        prep = graph._cache.setdefault(
            "triton_ic",
            {"col": graph.col.long().contiguous(), "prob": graph.edge_prob.float().contiguous()},
        )
        return claim_live_targets(
            e.contiguous(), r.contiguous(), self.local_run, prep["col"], prep["prob"],
            chunk.state, chunk.R, self.key, step,
        )


def _expand_coins(
    graph: DiffusionGraph,
    chunk: _Chunk,
    frontier: torch.Tensor,
    step: int,
    coin: Any,
    want_parent: bool,
) -> torch.Tensor:
    """Activate live out-neighbours of ``frontier`` testing one coin per out-edge."""
    R = chunk.R
    rowptr, col, prob = graph.rowptr, graph.col, graph.edge_prob
    new: list[torch.Tensor] = []
    for start in range(0, frontier.numel(), CURSOR_BATCH):
        fr = frontier[start : start + CURSOR_BATCH].long()
        u = torch.div(fr, R, rounding_mode="floor")
        r = fr - u * R
        deg = rowptr[u + 1] - rowptr[u]
        if int(deg.sum()) == 0:
            continue
        owner = torch.repeat_interleave(torch.arange(fr.numel(), device=fr.device), deg)
        offset = torch.arange(owner.numel(), device=fr.device) - torch.repeat_interleave(
            torch.cumsum(deg, 0) - deg, deg
        )
        e = rowptr[u][owner] + offset
        if isinstance(coin, _TritonClaim):
            new.append(coin.claim(graph, chunk, e, r[owner], step))
            continue
        live = coin(r[owner], e) < prob[e]
        cand = col[e[live]] * R + r[owner[live]]
        par = u[owner[live]] if want_parent else None
        new.append(chunk.claim(cand.to(chunk.idx), par, step))
    return torch.cat(new) if new else frontier[:0]


def _run_chunk(
    graph: DiffusionGraph,
    R: int,
    init_nodes: torch.Tensor,
    init_runs: torch.Tensor,
    *,
    sampler: str,
    generator: torch.Generator | None,
    coin: Any = None,
    provenance: bool = False,
) -> _Chunk:
    chunk = _Chunk(graph.num_nodes, R, graph.device, provenance)
    frontier = chunk.activate_seeds(init_nodes, init_runs)
    prep = _prepare(graph) if sampler == "skip" else None
    if sampler == "skip" and not provenance:
        chunk.steps = _run_skip_queue(prep, chunk, frontier, generator)
        return chunk
    step = 0
    while frontier.numel():
        step += 1
        if sampler == "skip":
            frontier = _expand_skip(prep, chunk, frontier, step, generator, provenance)
        else:
            frontier = _expand_coins(graph, chunk, frontier, step, coin, provenance)
        chunk.count(frontier)
    chunk.steps = step - 1
    return chunk


def _bytes_per_run(n: int, provenance: bool) -> int:
    # state (int32) + open cursors / frontier lists (3 int32 per slot in the worst case, every
    # node open in every run at once) + parent with provenance
    return n * (4 + 12 + (8 if provenance else 0))


#: Peak bytes per arc of the one-time preparation (:func:`_prepare` and the native records):
#: the float64 sort key, the int64 order and sort scratch, the float64 rate temporaries and the
#: kept arrays (measured: 54 B per arc of process growth on a 2M-arc graph, rounded up).
_PREP_BYTES_PER_EDGE = 72
#: Bytes per arc the preparation keeps cached on the graph (sorted prob / rate / target / id).
_PREP_KEPT_PER_EDGE = 16
#: ... and the packed ``[E, 3]`` records of the native kernel.
_NATIVE_RECORD_PER_EDGE = 12


def _prep_bytes(graph: DiffusionGraph, *, native: bool) -> int:
    """Bytes the per-graph preparation of the skip sampler still has to allocate (0 if cached)."""
    prep = graph._cache.get("ic_prep")
    E, n = graph.num_edges, graph.num_nodes
    if prep is None:
        return E * _PREP_BYTES_PER_EDGE + n * 12 + (E * _NATIVE_RECORD_PER_EDGE if native else 0)
    if native and "native_edges" not in prep:
        return E * _NATIVE_RECORD_PER_EDGE
    return 0


def _native_csr_bytes(graph: DiffusionGraph) -> int:
    """Bytes :func:`~influence_gpu.diffusion._native.native_csr` still has to allocate."""
    if "native_csr" in graph._cache:
        return 0
    col = 0 if graph.col.dtype == torch.int32 else 4 * graph.num_edges
    prob = 0 if graph.edge_prob is not None and graph.edge_prob.dtype == torch.float32 else (
        4 * graph.num_edges)
    return col + prob


def _native_fixed_bytes(graph: DiffusionGraph, threads: int, sampler: str = "skip") -> int:
    # one-time preparation (when not cached yet), and per thread: stamps, queue, depth (4 B each)
    # and node counts (8 B)
    prep = _prep_bytes(graph, native=True) if sampler == "skip" else _native_csr_bytes(graph)
    return prep + threads * graph.num_nodes * 20


def _fixed_bytes(graph: DiffusionGraph, sampler: str = "skip") -> int:
    prep = _prep_bytes(graph, native=False) if sampler == "skip" else 0
    return graph.num_edges * 16 + prep + min(CURSOR_BATCH, 1 << 22) * _BYTES_PER_CURSOR


def _result_bytes(num_sets: int, num_samples: int, n: int, provenance: bool) -> float:
    """The result arrays of a call: spreads (int64 per run), node counts, provenance outputs.

    The ``[S * R, n]`` provenance outputs are charged in full; spreads and node counts beyond
    :data:`~influence_gpu.diffusion._common.RESULT_ALLOWANCE`.
    """
    total = num_sets * num_samples
    return (total * n * 12 if provenance else 0) + charge_results(total * 8 + n * 16)


def simulate_ic(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    sampler: str | None = None,
    key: int | None = None,
    edge_uniforms: torch.Tensor | None = None,
    return_provenance: bool = False,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> SpreadResult:
    """Simulate ``num_samples`` independent-cascade runs from ``seeds`` at once.

    Args:
        graph: graph with ``edge_prob`` (IC probabilities).
        seeds: ``[k]`` int64 internal node ids (distinct).
        num_samples: number of runs ``R``.
        generator: random generator on the graph's device.
        memory_budget: bytes the call may allocate (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); runs are split into
            chunks that fit, and a run that cannot fit is refused before any work.
        sampler: ``"skip"`` (default), ``"hash"`` (common random numbers through ``key``) or
            ``"given"`` (default when ``edge_uniforms`` is passed). See the module docstring.
        key: hash key for ``sampler="hash"`` (default: drawn from ``generator``).
        edge_uniforms: ``[R, E]`` injected coins in CSR edge order.
        return_provenance: also return the activation step and activating parent per run.
        backend: ``"auto"`` (the native CPU kernel for ``sampler="skip"`` on a CPU graph when it
            builds, else torch), ``"torch"`` (always the tensor path; the GPU path) or
            ``"native"`` (require the native kernel), ``"triton"`` (the Triton kernel of
            ``sampler="hash"``; CUDA, or CPU under ``TRITON_INTERPRET=1``).
        shard: ``None`` (one process), ``"auto"`` or ``(rank, world)``: split the runs across
            the ranks of the ``torch.distributed`` process group and gather them, so every rank
            returns what one process computes (a collective call; counter-based coins only, so
            not the torch ``skip`` sampler). See :mod:`influence_gpu.diffusion._runs`.
        devices: split this process's runs across these devices (e.g. ``["cuda:0",
            "cuda:1"]``), one contiguous piece each, run one after another; the result equals
            one device's (counter-based coins, as for ``shard``). ``None``: the graph's device.

    Returns:
        :class:`SpreadResult`; with provenance, ``activation_step [R, n]`` (int32, -1 never,
        0 seeds) and ``parent [R, n]`` (int64, -1 for seeds and inactive nodes).

    Shapes:
        seeds ``[k]``, edge_uniforms ``[R, E]``, node_prob ``[n]``, spreads ``[R]``.
    """
    return _simulate_sets(
        graph,
        [seeds],
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        sampler=sampler,
        key=key,
        edge_uniforms=edge_uniforms,
        provenance=return_provenance,
        backend=backend,
        shard=shard,
        devices=devices,
    )[0]


def simulate_ic_batch(
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    sampler: str | None = None,
    key: int | None = None,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected IC spread of many seed sets, all ``S x num_samples`` runs batched together.

    This is the oracle behind greedy / CELF: one call evaluates every candidate set. With
    ``sampler="hash"`` and a fixed ``key`` all sets are evaluated on the same live-edge worlds
    (run r of every set uses the same coins), so differences between candidates are not masked
    by sampling noise. Arguments as :func:`simulate_ic` (``shard`` included).

    Returns:
        ``(means [S], stderrs [S])`` as float64 tensors on the CPU.
    """
    results = _simulate_sets(
        graph,
        list(seed_sets),
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        sampler=sampler,
        key=key,
        edge_uniforms=None,
        provenance=False,
        backend=backend,
        shard=shard,
        devices=devices,
    )
    means = torch.tensor([res.mean for res in results], dtype=torch.float64)
    stderrs = torch.tensor([res.stderr for res in results], dtype=torch.float64)
    return means, stderrs


def _choose_ic_backend(graph: DiffusionGraph, sampler: str, backend: str, provenance: bool) -> str:
    """``"native"``, ``"triton"`` or ``"torch"`` for this call (see :mod:`influence_gpu.kernels`).

    The native kernel serves the ``skip`` and ``hash`` samplers on CPU graphs; the Triton kernel
    serves ``hash`` without provenance (its claims are bit-identical in counts, not in parents).
    """
    from influence_gpu.diffusion._native import load_ic_kernel

    small = graph.num_nodes < 2**31 and graph.num_edges < 2**31
    native_ok = small and sampler in ("skip", "hash")
    triton_ok = small and sampler == "hash" and not provenance
    if backend == "triton" or (backend == "auto" and graph.device.type != "cpu"):
        applicable, why = triton_ok, f"sampler={sampler!r}, provenance={provenance}; it takes " \
            "sampler='hash' without provenance"
    else:
        applicable, why = native_ok, f"device={graph.device}, sampler={sampler!r}; it takes " \
            "'skip' or 'hash'"
    name = "ic_skip_runs" if sampler == "skip" else "ic_hash_runs"
    return choose_backend(
        "IC",
        backend,
        graph.device,
        native=lambda: load_ic_kernel(name),
        triton=True,
        applicable=applicable,
        why_not=why,
    )


def _native_graph_args(graph: DiffusionGraph, sampler: str) -> list[Any]:
    """Graph arrays in the layout the native kernel of ``sampler`` reads (cached on the graph)."""
    if sampler == "skip":
        prep = _prepare(graph)
        if "native_edges" not in prep:  # [E, 3] records (prob, inv_rate, dst) as 4-byte words
            prep["native_edges"] = torch.stack(
                [
                    prep["prob"].view(torch.int32),
                    prep["inv_rate"].view(torch.int32),
                    prep["dst"].to(torch.int32),
                ],
                dim=1,
            ).contiguous()
        return [graph.rowptr.contiguous(), prep["native_edges"]]
    from influence_gpu.diffusion._native import native_csr

    return native_csr(graph)


def _simulate_sets_native(
    kernel: Any,
    graph: DiffusionGraph,
    seed_sets: list[torch.Tensor],
    num_samples: int,
    *,
    sampler: str,
    key: int | None,
    generator: torch.Generator | None,
    memory_budget: int | None,
    provenance: bool,
    run_offset: int = 0,
) -> list[SpreadResult]:
    """The native kernel's version of :func:`_simulate_sets` (samplers ``skip`` and ``hash``).

    Run r of every seed set uses run index r, so with ``sampler="hash"`` all sets see the same
    worlds, exactly as on the torch path (and with the very same coins).
    """
    n = graph.num_nodes
    threads = native_threads()
    # the one-time preparation, per-thread visit stamps, queue, depth and counts, and the result
    # arrays (spreads, node counts, the [S * R, n] provenance outputs) are all allocated up
    # front, so they are fixed cost, checked before any of them is allocated
    outputs = _result_bytes(len(seed_sets), num_samples, n, provenance)
    chunk_runs = plan_chunks(
        num_samples,
        8,
        memory_budget,
        fixed_bytes=_native_fixed_bytes(graph, threads, sampler) + outputs,
        what=f"IC simulation on {n} nodes",
    )
    arrays = _native_graph_args(graph, sampler)
    if key is None:
        key = draw_key(generator if generator is not None else torch.Generator().manual_seed(0))
    want_nodes = len(seed_sets) == 1  # the batch oracle needs the means alone
    out = []
    for seeds in seed_sets:
        seeds = seeds.long().contiguous()
        spreads = torch.empty(num_samples, dtype=torch.long)
        node_count = torch.zeros(n, dtype=torch.long) if want_nodes else None
        steps = torch.empty((num_samples, n), dtype=torch.int32) if provenance else None
        parents = torch.empty((num_samples, n), dtype=torch.long) if provenance else None
        for start, size in iter_chunks(num_samples, chunk_runs):
            status = kernel(
                n,
                *(a.data_ptr() for a in arrays),
                seeds.data_ptr(),
                seeds.numel(),
                size,
                run_offset + start,
                key,
                threads,
                spreads[start:].data_ptr(),
                None if node_count is None else node_count.data_ptr(),
                steps[start:].data_ptr() if provenance else None,
                parents[start:].data_ptr() if provenance else None,
            )
            if status != 0:
                raise RuntimeError(f"native IC kernel failed with status {status}")
        mean, stderr = summarize(spreads)
        out.append(
            SpreadResult(
                mean=mean,
                stderr=stderr,
                num_samples=num_samples,
                node_prob=None
                if node_count is None
                else (node_count.double() / num_samples).float(),
                spreads=spreads,
                model="ic",
                activation_step=steps,
                parent=parents,
                extra={"sampler": sampler, "backend": "native", "threads": threads,
                       "node_count": node_count},
            )
        )
    return out


def _simulate_split(
    graph: DiffusionGraph,
    seed_sets: list[torch.Tensor],
    num_samples: int,
    rank: int,
    world: int,
    devices: list[torch.device],
    *,
    edge_uniforms: torch.Tensor | None,
    backend: str,
    **kwargs: Any,
) -> list[SpreadResult]:
    """Every set's runs split over ranks and ``devices`` by :func:`~._runs.split_runs`.

    Each piece runs at its global run offset (injected ``edge_uniforms``: its rows), so every
    rank returns the results one process on one device computes with the same key (see
    :mod:`~influence_gpu.diffusion._runs`).
    """
    n, S = graph.num_nodes, len(seed_sets)
    sampler = kwargs["sampler"]
    for dev in devices:
        if _choose_ic_backend(graph.to(dev), sampler, backend, False) == "torch" and (
            sampler == "skip"
        ):
            raise ValueError(
                "IC runs split across ranks or devices need counter-based coins: use "
                f"sampler='hash' (or the native kernel on CPU); on {dev} the torch 'skip' "
                "sampler would draw from one stream"
            )
    comm = comm_device(graph.device)
    kwargs["key"] = common_key(kwargs["key"], world, comm)
    extra = {"sampler": sampler}

    def piece(dev: torch.device, offset: int, count: int) -> dict[str, torch.Tensor]:
        g = graph.to(dev)
        local = _simulate_sets(
            g, [x.to(dev) for x in seed_sets], count, provenance=False, run_offset=offset,
            backend=backend,
            edge_uniforms=None if edge_uniforms is None
            else edge_uniforms[offset : offset + count].to(dev),
            **kwargs,
        )
        extra.update(local[0].extra)
        nodes = local[0].extra["node_count"] if S == 1 else None
        return {"spreads": torch.stack([res.spreads for res in local], 1),  # [count, S]
                "node_count": torch.zeros(n, dtype=torch.long) if nodes is None else nodes,
                "max_steps": torch.tensor(local[0].extra.get("max_steps", 0))}

    got = split_runs(
        num_samples, rank, world, devices, piece,
        runs={"spreads": torch.zeros(0, S, dtype=torch.long)},
        sums={"node_count": torch.zeros(n, dtype=torch.long)},
        maxes={"max_steps": torch.tensor(0)}, comm=comm,
    )
    spreads, nodes = got["spreads"], got["node_count"]
    if "max_steps" in extra:  # the torch path's deepest step, over every piece and rank
        extra["max_steps"] = int(got["max_steps"])
    extra.update(world_size=world, devices=[str(d) for d in devices])
    return [
        spread_result(
            spreads[:, s].contiguous(), "ic",
            node_prob=(nodes.double() / num_samples).float() if S == 1 else None,
            extra={**extra, "node_count": nodes if S == 1 else None},
        )
        for s in range(S)
    ]


def _simulate_sets(
    graph: DiffusionGraph,
    seed_sets: list[torch.Tensor],
    num_samples: int,
    *,
    generator: torch.Generator | None,
    memory_budget: int | None,
    sampler: str | None,
    key: int | None,
    edge_uniforms: torch.Tensor | None,
    provenance: bool,
    backend: str = "auto",
    shard: Any = None,
    run_offset: int = 0,
    devices: Any = None,
) -> list[SpreadResult]:
    graph.require_prob()
    n, device = graph.num_nodes, graph.device
    num_samples = _v.check_num_samples(num_samples)
    _v.check_memory_budget(memory_budget)
    provenance = _v.check_bool(provenance, "return_provenance")
    if key is not None:
        key = _v.check_int(key, "key")
    if sampler is None:
        sampler = "given" if edge_uniforms is not None else "skip"
    _v.check_choice(sampler, "sampler", SAMPLERS)
    _v.check_choice(backend, "backend", BACKENDS)
    if sampler == "given":
        if edge_uniforms is None:
            raise ValueError(
                "sampler='given' needs edge_uniforms of shape [num_samples, num_edges]"
            )
        edge_uniforms = torch.as_tensor(edge_uniforms)
        if not edge_uniforms.is_floating_point():
            raise TypeError(
                f"edge_uniforms must be a floating-point tensor, got dtype {edge_uniforms.dtype}"
            )
        if tuple(edge_uniforms.shape) != (num_samples, graph.num_edges):
            raise ValueError(
                f"edge_uniforms must have shape [num_samples, num_edges] = "
                f"[{num_samples}, {graph.num_edges}], got {list(edge_uniforms.shape)}"
            )
        edge_uniforms = edge_uniforms.to(device)
    if sampler == "hash" and key is None:
        key = (
            draw_key(generator)
            if generator is not None
            else draw_key(torch.Generator().manual_seed(0))
        )
    seed_sets = [
        _v.check_node_ids(s, n, "seeds" if len(seed_sets) == 1 else f"seed_sets[{i}]",
                          device=device, unique=False)
        for i, s in enumerate(seed_sets)
    ]
    chosen = _choose_ic_backend(graph, sampler, backend, provenance)
    rank, world = resolve_shard(shard)
    devices = check_devices(devices)
    if is_split(world, devices, graph.device):
        if provenance:
            raise ValueError(
                "return_provenance cannot be combined with runs split across ranks or devices"
            )
        if key is None:  # one key for every piece: the key one call would draw
            key = draw_key(generator if generator is not None else torch.Generator().manual_seed(0))
        return _simulate_split(
            graph, seed_sets, num_samples, rank, world, devices or [graph.device],
            generator=generator, memory_budget=memory_budget, sampler=sampler, key=key,
            edge_uniforms=edge_uniforms, backend=backend,
        )
    if chosen == "native":
        from influence_gpu.diffusion._native import load_ic_kernel

        return _simulate_sets_native(
            load_ic_kernel("ic_skip_runs" if sampler == "skip" else "ic_hash_runs"),
            graph,
            seed_sets,
            num_samples,
            sampler=sampler,
            key=key,
            generator=generator,
            memory_budget=memory_budget,
            provenance=provenance,
            run_offset=run_offset,
        )

    S = len(seed_sets)
    total = S * num_samples
    chunk_runs = plan_chunks(
        total,
        _bytes_per_run(n, provenance),
        memory_budget,
        # the result arrays (spreads, node counts and the [S * R, n] provenance outputs) and the
        # one-time preparation are allocated up front
        fixed_bytes=_fixed_bytes(graph, sampler) + _result_bytes(S, num_samples, n, provenance),
        what=f"IC simulation on {n} nodes",
    )
    spreads = torch.empty(total, dtype=torch.long)
    # per-node counts only for a single set (the batch oracle needs the means alone)
    node_count = torch.zeros(1, n, dtype=torch.long, device=device)
    steps = torch.full((total, n), -1, dtype=torch.int32) if provenance else None
    parents = torch.full((total, n), -1, dtype=torch.long) if provenance else None
    max_steps = 0
    sizes = torch.tensor([s.numel() for s in seed_sets], device=device)
    set_nodes = torch.cat(seed_sets) if S else torch.empty(0, dtype=torch.long, device=device)
    set_ptr = torch.zeros(S + 1, dtype=torch.long, device=device)
    set_ptr[1:] = torch.cumsum(sizes, 0)

    for start, size in iter_chunks(total, chunk_runs):
        slots = torch.arange(start, start + size, device=device)
        set_of = torch.div(slots, num_samples, rounding_mode="floor")
        k = sizes[set_of]
        owner = torch.repeat_interleave(torch.arange(size, device=device), k)
        within = torch.arange(owner.numel(), device=device) - torch.repeat_interleave(
            torch.cumsum(k, 0) - k, k
        )
        init_nodes = set_nodes[set_ptr[set_of[owner]] + within]
        # run index within its set (CRN across sets), offset to its global index in a shard
        local_run = slots - set_of * num_samples + run_offset

        coin = None
        if sampler == "given":
            coin = lambda r, e, _u=edge_uniforms, _lr=local_run: _u[_lr[r], e]  # noqa: E731
        elif chosen == "triton":
            coin = _TritonClaim(key, local_run)
        elif sampler == "hash":
            coin = lambda r, e, _lr=local_run: hash_uniform(key, _lr[r], e)  # noqa: E731

        chunk = _run_chunk(
            graph,
            size,
            init_nodes,
            owner,
            sampler=sampler,
            generator=generator,
            coin=coin,
            provenance=provenance,
        )
        max_steps = max(max_steps, chunk.steps)
        spreads[start : start + size] = chunk.run_count.cpu()
        if S == 1:
            node_count[0] += chunk.node_count
        if provenance:
            steps[start : start + size] = (chunk.state.view(n, size).t() - 1).cpu()
            parents[start : start + size] = chunk.parent.view(n, size).t().long().cpu()
        del chunk

    out = []
    for s in range(S):
        runs = slice(s * num_samples, (s + 1) * num_samples)
        out.append(
            spread_result(
                spreads[runs], "ic",
                node_prob=(node_count[0].double() / num_samples).float() if S == 1 else None,
                activation_step=None if steps is None else steps[runs],
                parent=None if parents is None else parents[runs],
                extra={"max_steps": max_steps, "sampler": sampler, "backend": chosen,
                       "node_count": node_count[0].cpu() if S == 1 else None},
            )
        )
    return out
