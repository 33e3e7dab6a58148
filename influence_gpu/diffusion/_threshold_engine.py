"""Machinery shared by the threshold models, LT (:mod:`.lt`) and minimum / multiplication.

The torch engine and the native dispatch below serve :mod:`.lt` and :mod:`.threshold` alike.

Two engines run the same step semantics (see those modules):

* the **torch** engine keeps ``C`` runs on flat ``[C * n]`` state tensors and, each step, pushes
  the frontier's out-edge weights into an aggregate buffer (:func:`push`);
* the **native** engine (``_native/lt_kernel.cpp``, :func:`run_native`) runs one
  level-synchronous search per (seed set, run) job on CPU threads, with ``O(n)`` state per
  thread and thresholds hashed lazily at a node's first touch;
* the **Triton** engine (:func:`triton_chunk`, kernels in ``_triton/lt.py``; LT and the minimum
  model) keeps the torch engine's chunks and pushed items, but pushes with atomics and tests the
  reached slots in-kernel against thresholds hashed there, with no ``torch.unique``.

They agree bit for bit given the same thresholds (tested in ``tests/diffusion/test_lt_native.py``
and ``test_lt_triton.py``) because no outcome depends on the order of the pushes:

* LT sums weights quantised by :func:`lt_weights` to multiples of ``2**-52``: every partial sum
  of a node's accumulator is then an exact float64 (it lies in ``[0, 2)``), whatever the order of
  the additions (a GPU's ``index_add_`` fixes none). Weights of ``2**-29`` or more are already
  such multiples, so quantising changes only positive weights below ``2**-29`` (rounded up, so
  they stay positive).
* The minimum is exact. Products are rounded, so the torch and native engines multiply in one
  order: each level sorted by node id, each node's out-edges in CSR order (the CPU
  ``scatter_reduce_`` is sequential in its input order; on CUDA the order of a product is not
  fixed). Atomics fix no order, so the multiplication model has no Triton engine.

Thresholds come from the counter-based hash of ``(key, run, node)`` (:func:`draw_thresholds`), so
no engine's outcome depends on chunking, threads, or which thread ran a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import (
    charge_results,
    draw_key,
    hash_uniform,
    iter_chunks,
    make_generator,
    plan_chunks,
    resolve_budget,
)
from influence_gpu.diffusion._runs import (
    check_devices,
    comm_device,
    common_key,
    is_split,
    resolve_shard,
    split_runs,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.backend import choose_backend
from influence_gpu.kernels.native import native_threads

__all__ = [
    "draw_thresholds",
    "lt_weights",
    "seed_ids",
    "check_thresholds",
    "threshold_source",
    "chunk_thresholds",
    "plan",
    "frontier_pieces",
    "push",
    "initial_state",
    "as_runs",
    "summarize_runs",
    "choose_engine",
    "triton_chunk",
    "plan_native",
    "run_native",
    "model_weights",
    "torch_runs",
    "run_sets",
    "simulate_sets",
]

#: Names of the models for backend messages.
OP_NAMES = {
    "lt": "LT",
    "minimum_threshold": "minimum threshold",
    "multiplication_threshold": "multiplication threshold",
}

# Bytes per (run, node) slot of a torch chunk: state and scratch bools, float32/64 threshold,
# float64 accumulator, and the int64 slot lists of one step (touched, tested, frontier: at worst
# every slot) with their gathered values; this also covers the int64 temporaries of the hash.
_NODE_BYTES = 72
# Extra bytes per slot with provenance: step (int32), parent and candidate parent (int64).
_PROV_BYTES = 24
# Bytes per pushed (slot, edge) item while expanding a frontier: owner, offset, edge id, source,
# run, target, flat slot (int64 each), the float64 weight, and ``torch.unique``'s sort buffers.
_EDGE_ITEM_BYTES = 96
# Bytes per slot of a Triton chunk: the int8 state, the int64 bid, the float64 accumulator, a
# float64 copy of given thresholds (hashed ones are computed in-kernel), and the int64 frontier
# and activated-slot lists of one step (at worst every slot); the pushed items are charged as the
# torch engine's (their int8 "won" flags take the place of ``torch.unique``'s buffers).
_TRITON_NODE_BYTES = 48
# Native workspace per thread and node: the 16-byte record (tag, threshold, aggregate) and the
# activated and reached lists (4 + 4); provenance adds the candidate parent (4).
_NATIVE_NODE_BYTES = 24
_NATIVE_PROV_BYTES = 4

#: LT weights are summed as multiples of this (an exact float64 for any sum below 2).
WEIGHT_QUANTUM = 2.0**-52


# ------------------------------------------------------------------------------------ thresholds
def draw_thresholds(key: int, start: int, count: int, num_nodes: int, device: Any) -> torch.Tensor:
    """Thresholds of runs ``start .. start + count - 1`` for a hash ``key``, in ``(0, 1]``.

    ``theta[r, v] = 1 - hash_uniform(key, start + r, v)``: uniform on the grid
    ``{2**-24, 2 * 2**-24, ..., 1}``, a pure function of ``(key, run, node)``.

    Args:
        key: hash key (one per simulation call, drawn with ``draw_key(generator)``).
        start: global index of the first run.
        count: number of runs.
        num_nodes: ``n``.
        device: where to build them.

    Returns:
        ``[count, n]`` float32 thresholds.

    Shapes:
        returns ``[count, num_nodes]``.

    """
    runs = torch.arange(start, start + count, device=device).unsqueeze(1)
    nodes = torch.arange(num_nodes, device=device).unsqueeze(0)
    return 1.0 - hash_uniform(key, runs, nodes)


def lt_weights(edge_prob: torch.Tensor) -> torch.Tensor:
    """LT weights as float64 multiples of :data:`WEIGHT_QUANTUM` (rounded up), ``[E]``.

    Sums of these below 2 are exact in float64, so an LT accumulator does not depend on the
    order of its additions. Weights ``>= 2**-29`` are returned unchanged (a float32 number of
    that size is already a multiple of ``2**-52``).
    """
    w = edge_prob.to(torch.float64, copy=True)
    return w.mul_(1.0 / WEIGHT_QUANTUM).ceil_().mul_(WEIGHT_QUANTUM)


def seed_ids(seeds: Any, n: int, device: torch.device, name: str = "seeds") -> torch.Tensor:
    """Return internal seed ids ``[k]`` (int64, on ``device``) checked for range and duplicates."""
    return _v.check_node_ids(seeds, n, name, device=device)


def check_thresholds(thresholds: Any, num_samples: int, n: int) -> torch.Tensor:
    """Validate injected thresholds ``[R, n]`` in ``[0, 1]`` (kept on their own device)."""
    theta = torch.as_tensor(thresholds)
    if not theta.is_floating_point():
        raise TypeError(f"thresholds must be a floating tensor, got dtype {theta.dtype}")
    if tuple(theta.shape) != (num_samples, n):
        raise ValueError(
            f"thresholds must have shape [num_samples, num_nodes] = [{num_samples}, {n}], "
            f"got {list(theta.shape)}"
        )
    if theta.numel():
        if torch.isnan(theta).any():
            raise ValueError("thresholds contains NaN")
        lo, hi = float(theta.min()), float(theta.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"thresholds must lie in [0, 1], got values in [{lo}, {hi}]")
    return theta


def threshold_source(
    graph: DiffusionGraph,
    generator: torch.Generator | None,
    thresholds: Any,
    num_samples: int,
    key: int | None = None,
) -> tuple[torch.Tensor | None, int | None]:
    """Return the checked injected thresholds, or a hash key (``key``, else from ``generator``).

    Raises:
        ValueError: both ``thresholds`` and ``key`` given.
    """
    if thresholds is not None:
        if key is not None:
            raise ValueError("give thresholds or key, not both")
        return check_thresholds(thresholds, num_samples, graph.num_nodes), None
    if key is not None:
        return None, check_key(key)
    gen = generator if generator is not None else make_generator(None, graph.device)
    return None, draw_key(gen)


def check_key(key: Any) -> int:
    """A hash key: any int64, as for the IC and temporal IC coins (the hash wraps it)."""
    return _v.check_int(key, "key")


def chunk_thresholds(
    thresholds: torch.Tensor | None,
    key: int | None,
    start: int,
    size: int,
    n: int,
    device: Any,
    run_offset: int = 0,
) -> torch.Tensor:
    """Thresholds ``[size, n]`` of runs ``start ..``: injected rows, or hashed from ``key``.

    Hashed thresholds are those of the global runs ``run_offset + start ..`` (a shard's runs);
    injected rows are indexed locally (a shard passes its own rows).
    """
    if thresholds is not None:
        theta = thresholds[start : start + size].to(device)
        return theta if theta.dtype == torch.float64 else theta.float()
    return draw_thresholds(key, run_offset + start, size, n, device)


# ------------------------------------------------------------------------- torch batched engine
def plan(
    graph: DiffusionGraph,
    num_samples: int,
    memory_budget: int | None,
    provenance: bool,
    what: str,
    *,
    num_sets: int = 1,
    triton: bool = False,
) -> tuple[int, int]:
    """Return ``(runs per chunk, edge items per expansion piece)`` of the torch engine.

    ``triton``: plan the Triton engine instead (other per-slot arrays, same pieces).

    Raises:
        MemoryError: when a single run does not fit (before any work).

    """
    n, E = graph.num_nodes, graph.num_edges
    budget = resolve_budget(memory_budget)
    max_out = int(graph.out_degree().max()) if n else 0
    # pieces hold at least one frontier pair, so at least max_out edges; otherwise an eighth of
    # the budget (never more than all edges of all runs)
    work = max(max_out, min(E * num_samples, max(budget, 0) // 8 // _EDGE_ITEM_BYTES))
    # + float64 copy of the weights, + the result arrays allocated before the first chunk
    fixed = work * _EDGE_ITEM_BYTES + 8 * E + result_bytes(num_sets, num_samples, n, provenance)
    per_slot = _TRITON_NODE_BYTES if triton else _NODE_BYTES
    per_run = n * (per_slot + (_PROV_BYTES if provenance else 0))
    chunk = plan_chunks(num_samples, max(per_run, 1), budget, fixed_bytes=fixed, what=what)
    return chunk, max(work, 1)


def result_bytes(num_sets: int, num_samples: int, n: int, provenance: bool) -> float:
    """Bytes of a call's outputs, allocated before the first chunk.

    Per-run counts (spreads, blocked: int64), per-node counts (active, blocked: int64, with a
    float copy) beyond :data:`~influence_gpu.diffusion._common.RESULT_ALLOWANCE`, and the
    ``[R, n]`` provenance outputs (int32 step + int64 parent) in full.
    """
    prov = num_samples * n * 12 if provenance else 0
    return prov + charge_results(num_sets * num_samples * 16 + n * 48)


def frontier_pieces(
    graph: DiffusionGraph, frontier: torch.Tensor, work: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Out-edges of the newly active (run, node) slots ``frontier``, in pieces of <= ``work`` items.

    A piece holds whole frontier slots, so it can exceed ``work`` only when a single node has
    more out-edges than that.

    Args:
        graph: the graph (``n = num_nodes``).
        frontier: ``[k]`` int64 flat slots ``run * n + u`` of the chunk.
        work: maximum number of (slot, edge) items per piece.

    Yields:
        ``(flat, eid, u)``: per pushed item the flat target slot ``run * n + v``, the edge id
        (CSR order) and the source node, all int64 ``[m]``.

    """
    n = graph.num_nodes
    if frontier.numel() == 0:
        return
    r = torch.div(frontier, n, rounding_mode="floor")
    u = frontier - r * n
    rowptr, col = graph.rowptr, graph.col
    deg = rowptr[u + 1] - rowptr[u]
    cum = torch.cumsum(deg, 0)
    total = int(cum[-1])
    if total == 0:
        return
    if total <= work:
        bounds = [(0, u.numel())]
    else:
        bounds, start, base = [], 0, 0
        while start < u.numel():
            end = int(torch.searchsorted(cum, base + work, right=True))
            end = max(end, start + 1)
            bounds.append((start, end))
            base = int(cum[end - 1])
            start = end
    for a, b in bounds:
        d = deg[a:b]
        m = int(cum[b - 1]) - (int(cum[a - 1]) if a > 0 else 0)
        if m == 0:
            continue
        owner = torch.repeat_interleave(
            torch.arange(b - a, device=frontier.device), d, output_size=m
        )
        first = torch.cumsum(d, 0) - d
        eid = rowptr[u[a:b]][owner] + torch.arange(m, device=frontier.device) - first[owner]
        src = u[a:b][owner]
        flat = r[a:b][owner] * n + col[eid]
        yield flat, eid, src


def push(
    graph: DiffusionGraph,
    frontier: torch.Tensor,
    work: int,
    mark: torch.Tensor,
    apply: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None],
) -> torch.Tensor:
    """Call ``apply(flat, eid, src)`` on every piece of the frontier's out-edges.

    Returns:
        ``[c]`` distinct flat slots that received a push. Slots already seen in an earlier piece
        are dropped with the flat bool scratch ``mark`` (left all False on return), so the result
        never holds more than one entry per slot of the chunk.

    """
    parts = []
    for flat, eid, src in frontier_pieces(graph, frontier, work):
        apply(flat, eid, src)
        f = torch.unique(flat)
        f = f[~mark[f]]
        mark[f] = True
        parts.append(f)
    if not parts:
        return frontier[:0]
    touched = parts[0] if len(parts) == 1 else torch.cat(parts)
    mark[touched] = False
    return touched


def as_runs(x: torch.Tensor | None, C: int, n: int) -> torch.Tensor | None:
    """``x`` viewed as ``[C, n]`` (``None`` passes through)."""
    return None if x is None else x.view(C, n)


def initial_state(
    C: int, n: int, seeds: torch.Tensor, provenance: bool, device: torch.device
) -> tuple[torch.Tensor, ...]:
    """Flat ``[C * n]`` state of ``C`` runs with ``seeds`` active.

    Returns:
        ``(frontier, active, step, parent, cand)``: the seed slots (sorted), the active mask and,
        with provenance, the step / parent / parent-candidate arrays (else ``None``).
    """
    active = torch.zeros(C * n, dtype=torch.bool, device=device)
    frontier = (
        (torch.arange(C, device=device).unsqueeze(1) * n + seeds.unsqueeze(0)).reshape(-1).sort()
    ).values
    active[frontier] = True
    step = parent = cand = None
    if provenance:
        step = torch.full((C * n,), -1, dtype=torch.int32, device=device)
        step[frontier] = 0
        parent = torch.full((C * n,), -1, dtype=torch.long, device=device)
        cand = torch.full((C * n,), n, dtype=torch.long, device=device)
    return frontier, active, step, parent, cand


def triton_chunk(
    model: str,
    graph: DiffusionGraph,
    weight: torch.Tensor,
    alpha: torch.Tensor | None,
    seeds: torch.Tensor,
    C: int,
    theta: torch.Tensor | None,
    key: int | None,
    run_base: int,
    work: int,
    provenance: bool,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, int]:
    """One chunk of ``C`` runs of LT or the minimum model on the Triton kernels.

    The same steps as the torch chunks of :mod:`.lt` and :mod:`.threshold`: each step's pushed
    items (:func:`frontier_pieces`) go through :func:`~._triton.lt.push_items` piece by piece,
    then, once every weight of the step is in, through :func:`~._triton.lt.settle_items`
    (the pieces are listed again when there are several, so no more than one is held).

    Args:
        model: ``"lt"`` or ``"minimum_threshold"``.
        graph: the graph.
        weight: ``[E]`` float64 weights (LT: :func:`lt_weights`).
        alpha: ``[n]`` float64 factors of the minimum model, or ``None``.
        seeds: ``[k]`` int64 seeds.
        C: runs in the chunk.
        theta: ``[C, n]`` given thresholds, or ``None`` to hash them from ``key``.
        key: hash key (with ``theta=None``).
        run_base: global run index of the chunk's first run.
        work: items per piece (:func:`plan`).
        provenance: also track steps and parents.

    Returns:
        ``(active, blocked, step, parent, steps)`` as the torch chunks: ``[C, n]`` views
        (``blocked`` is ``None`` for LT) and the last step that activated a node.
    """
    from influence_gpu.diffusion._triton.lt import ACTIVE, BLOCKED, push_items, settle_items

    n, device = graph.num_nodes, graph.device
    minimum = model == "minimum_threshold"
    frontier, active, step, parent, cand = initial_state(C, n, seeds, provenance, device)
    state = active.to(torch.int8)  # ACTIVE == 1
    del active
    owner = torch.zeros(C * n, dtype=torch.long, device=device)
    if minimum:  # the minimum of non-negative doubles, as int64 bit patterns (start: +inf)
        agg = torch.full((C * n,), float("inf"), dtype=torch.float64, device=device)
        agg = agg.view(torch.int64)
    else:
        agg = torch.zeros(C * n, dtype=torch.float64, device=device)
    if theta is not None:
        theta = theta.to(device=device, dtype=torch.float64).reshape(-1).contiguous()
    prov = (cand, step, parent) if provenance else None
    weight = weight.contiguous()
    alpha = None if alpha is None else alpha.to(device=device, dtype=torch.float64).contiguous()
    base, t = 0, 0
    while frontier.numel():
        t += 1
        first, pieces, last = base, 0, None
        for flat, eid, src in frontier_pieces(graph, frontier, work):
            push_items(flat, eid, src, weight, alpha, state, agg, owner, cand, base, minimum)
            base += flat.numel()
            pieces, last = pieces + 1, flat
        if pieces <= 1:  # the usual case: the step's items fit in one piece, kept from above
            listed = [] if last is None else [last]
        else:
            listed = (f for f, _, _ in frontier_pieces(graph, frontier, work))
        del last
        new = []
        for flat in listed:  # the same pieces in the same order, so with the same bids
            new.append(settle_items(flat, state, agg, owner, theta, prov, first, n, run_base,
                                    0 if key is None else key, t, minimum))
            first += flat.numel()
        frontier = new[0] if len(new) == 1 else torch.cat(new) if new else frontier[:0]
    return (
        (state == ACTIVE).view(C, n),
        (state == BLOCKED).view(C, n) if minimum else None,
        as_runs(step, C, n),
        as_runs(parent, C, n),
        max(t - 1, 0),
    )


def summarize_runs(spreads: torch.Tensor, num_sets: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-set mean and standard error of set-major per-run counts ``[S * R]``.

    Returns:
        ``(means [S], stderrs [S])``, float64 on the CPU (stderr 0 for a single run), the same
        numbers as :func:`~influence_gpu.diffusion.results.summarize` set by set.
    """
    x = spreads.double().view(num_sets, -1)
    R = x.shape[1]
    if R == 1:
        return x[:, 0].clone(), torch.zeros(num_sets, dtype=torch.float64)
    return x.mean(1), x.std(1, unbiased=True) / R**0.5


# ---------------------------------------------------------------------------------- native engine
def choose_engine(model: str, graph: DiffusionGraph, backend: str) -> str:
    """``"native"``, ``"triton"`` or ``"torch"`` for this call (:func:`choose_backend`).

    The native kernel serves every model on CPU graphs of fewer than ``2**31 - 1`` nodes; the
    Triton kernels serve LT and the minimum model (CUDA, or CPU under ``TRITON_INTERPRET=1``),
    not the multiplication model, whose rounded products depend on an order atomics do not fix.

    Raises:
        ValueError: ``backend`` is not a backend, or a forced one does not apply to this call.
        RuntimeError: ``backend="native"`` and the kernel failed to build.
    """
    from influence_gpu.diffusion._native.lt import load_lt_kernel

    if backend == "triton" or (backend == "auto" and graph.device.type != "cpu"):
        applicable = model != "multiplication_threshold"
        why = (
            f"model={model!r}: the multiplication model's rounded products depend on the order "
            "of the factors, which atomics do not fix; use backend='torch'"
        )
    else:
        applicable = graph.num_nodes < 2**31 - 1
        why = (
            f"device={graph.device}, {graph.num_nodes} nodes; the native kernel takes graphs "
            "with fewer than 2**31 - 1 nodes"
        )
    return choose_backend(
        OP_NAMES[model],
        backend,
        graph.device,
        native=load_lt_kernel,
        triton=True,
        applicable=applicable,
        why_not=why,
    )


def _native_arrays_bytes(graph: DiffusionGraph, model: str) -> int:
    """Bytes :func:`_native_arrays` still has to allocate for ``model`` (0 when cached)."""
    cache = graph._cache.get("threshold_native", {})
    E = graph.num_edges
    col = 0 if "col" in cache else 4 * E
    weight = 0 if _weight_kind(model) in cache else 8 * E
    return col + weight


def _weight_kind(model: str) -> str:
    return "lt_weight" if model == "lt" else "weight"


def _native_arrays(graph: DiffusionGraph, model: str) -> list[torch.Tensor]:
    """``[rowptr int64, col int32, weight float64]`` of a CPU graph, cached on the graph."""
    cache = graph._cache.setdefault("threshold_native", {})
    if "col" not in cache:
        cache["col"] = graph.col.to(torch.int32).contiguous()
    kind = _weight_kind(model)
    if kind not in cache:
        cache[kind] = model_weights(model, graph.require_prob())
    return [graph.rowptr.contiguous(), cache["col"], cache[kind]]


def plan_native(
    model: str,
    graph: DiffusionGraph,
    num_sets: int,
    num_samples: int,
    memory_budget: int | None,
    *,
    provenance: bool,
    thresholds: torch.Tensor | None,
    threads: int,
) -> int:
    """Runs per chunk of a native call, after checking every allocation against the budget.

    Fixed: the per-graph arrays (when not cached), the per-thread workspaces and per-node
    counts, and the result arrays. Per run: a float64 copy of injected thresholds that are not
    float64 already (hashed thresholds cost nothing per run).

    Raises:
        MemoryError: a single run does not fit (before any work).
    """
    n = graph.num_nodes
    counts = 8 * (1 if model == "lt" else 2) if num_sets == 1 else 0
    per_thread = n * (_NATIVE_NODE_BYTES + (_NATIVE_PROV_BYTES if provenance else 0) + counts)
    fixed = (
        _native_arrays_bytes(graph, model)
        + threads * per_thread
        + result_bytes(num_sets, num_samples, n, provenance)
    )
    copy = thresholds is not None and not (
        thresholds.dtype == torch.float64 and thresholds.device.type == "cpu"
        and thresholds.is_contiguous()
    )
    per_run = 8 * n if copy else 1
    return plan_chunks(
        num_samples,
        per_run,
        memory_budget,
        fixed_bytes=fixed,
        what=f"{model} simulation on {n} nodes (native)",
    )


def run_native(
    kernel: Any,
    model: str,
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    chunk: int,
    threads: int,
    key: int | None,
    thresholds: torch.Tensor | None = None,
    alpha: torch.Tensor | None = None,
    provenance: bool = False,
    run_offset: int = 0,
) -> dict[str, Any]:
    """Run ``len(seed_sets) x num_samples`` jobs of ``model`` with the native kernel.

    Run ``r`` of every set uses run index ``run_offset + r`` (so the same thresholds: common
    random numbers; a shard passes its first global run). Call :func:`plan_native` first; its
    ``chunk`` only matters for injected thresholds (row ``r`` of ``thresholds`` is local run
    ``r``).

    Returns:
        dict with ``spreads`` and ``blocked`` ``[S * R]`` (int64, set-major; ``blocked`` is
        ``None`` for LT), and for a single set ``node_count`` / ``node_blocked`` ``[n]`` and,
        with provenance, ``step`` (int32) / ``parent`` (int64) ``[R, n]``; ``max_steps``.
    """
    from influence_gpu.diffusion._native.lt import MODES

    n = graph.num_nodes
    S = len(seed_sets)
    single = S == 1
    rowptr, col, weight = _native_arrays(graph, model)
    seeds_cat = (torch.cat([s.long() for s in seed_sets]) if S else torch.zeros(0)).long()
    seeds_cat = seeds_cat.contiguous()
    seeds_ptr = torch.zeros(S + 1, dtype=torch.long)
    seeds_ptr[1:] = torch.cumsum(torch.tensor([s.numel() for s in seed_sets], dtype=torch.long), 0)
    alpha_arr = None if alpha is None else alpha.to(torch.float64).contiguous()
    blocks = model != "lt"
    spreads = torch.empty(S * num_samples, dtype=torch.long)
    blocked = torch.empty(S * num_samples, dtype=torch.long) if blocks else None
    node_count = torch.zeros(n, dtype=torch.long) if single else None
    node_blocked = torch.zeros(n, dtype=torch.long) if single and blocks else None
    step = torch.empty(num_samples, n, dtype=torch.int32) if provenance else None
    parent = torch.empty(num_samples, n, dtype=torch.long) if provenance else None
    deepest = torch.zeros(1, dtype=torch.long)
    max_steps = 0

    def ptr(x: torch.Tensor | None, offset: int = 0) -> int | None:
        return None if x is None else x.data_ptr() + offset * x.element_size()

    if thresholds is not None:  # injected: one set, in chunks converted to float64
        ranges = list(iter_chunks(num_samples, chunk))
    else:  # hashed: every set and run in one call (no per-run memory)
        ranges = [(0, num_samples)]
    for start, size in ranges:
        theta = None
        if thresholds is not None:
            theta = thresholds[start : start + size].to("cpu", torch.float64).contiguous()
        status = kernel(
            MODES[model],
            n,
            ptr(rowptr),
            ptr(col),
            ptr(weight),
            ptr(alpha_arr),
            ptr(seeds_cat),
            ptr(seeds_ptr),
            S,
            size,
            run_offset + start,
            0 if key is None else int(key),
            ptr(theta),
            threads,
            ptr(spreads, start),
            ptr(blocked, start),
            ptr(node_count),
            ptr(node_blocked),
            ptr(step, start * n),
            ptr(parent, start * n),
            ptr(deepest),
        )
        if status != 0:
            raise RuntimeError(f"native {OP_NAMES[model]} kernel failed with status {status}")
        max_steps = max(max_steps, int(deepest[0]))
        del theta
    return {
        "spreads": spreads,
        "blocked": blocked,
        "node_count": node_count,
        "node_blocked": node_blocked,
        "step": step,
        "parent": parent,
        "max_steps": max_steps,
    }


# ------------------------------------------------------------------------------ whole calls
#: ``torch_chunk(graph, weight, alpha, seeds, theta, work, provenance)``: one chunk of
#: ``C = theta.shape[0]`` runs of a model on the torch engine, returning ``(active, blocked,
#: step, parent, steps)``: ``[C, n]`` views (``blocked`` ``None`` for LT; ``step`` / ``parent``
#: ``None`` without provenance) and the last step that activated a node.
TorchChunk = Callable[..., tuple[Any, ...]]


def model_weights(model: str, edge_prob: torch.Tensor) -> torch.Tensor:
    """``[E]`` float64 weights a model sums or reduces: :func:`lt_weights` for LT, else as given."""
    return lt_weights(edge_prob) if model == "lt" else edge_prob.to(torch.float64).contiguous()


def torch_runs(
    model: str,
    torch_chunk: TorchChunk,
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    theta_all: torch.Tensor | None,
    key: int | None,
    chunk: int,
    work: int,
    provenance: bool,
    run_offset: int = 0,
    *,
    alpha: torch.Tensor | None = None,
    triton: bool = False,
) -> dict[str, Any]:
    """All runs of one seed set on the torch engine, by chunks (fields as :func:`run_native`'s).

    The runs are the global runs ``run_offset ..`` (a shard's); ``theta_all`` holds their rows.
    ``triton``: run the chunks with :func:`triton_chunk` (LT and the minimum model; hashed
    thresholds are computed in-kernel, not materialised), else with ``torch_chunk``.
    """
    n, device = graph.num_nodes, graph.device
    weight = model_weights(model, graph.edge_prob)
    alpha = None if alpha is None else alpha.to(device)  # a piece of a split may run elsewhere
    blocks = model != "lt"
    spreads = torch.empty(num_samples, dtype=torch.long)
    blocked_runs = torch.empty(num_samples, dtype=torch.long) if blocks else None
    node_count = torch.zeros(n, dtype=torch.long, device=device)
    node_blocked = torch.zeros(n, dtype=torch.long, device=device) if blocks else None
    steps_out = parents_out = None
    if provenance:
        steps_out = torch.empty(num_samples, n, dtype=torch.int32)
        parents_out = torch.empty(num_samples, n, dtype=torch.long)
    max_steps = 0
    for start, size in iter_chunks(num_samples, chunk):
        if triton:
            theta = None if theta_all is None else theta_all[start : start + size]
            active, blocked, step, parent, t = triton_chunk(
                model, graph, weight, alpha, seeds, size, theta, key, run_offset + start, work,
                provenance,
            )
        else:
            theta = chunk_thresholds(theta_all, key, start, size, n, device, run_offset)
            active, blocked, step, parent, t = torch_chunk(
                graph, weight, alpha, seeds, theta, work, provenance
            )
        max_steps = max(max_steps, t)
        spreads[start : start + size] = active.sum(1).cpu()
        node_count += active.sum(0)
        if blocks:
            blocked_runs[start : start + size] = blocked.sum(1).cpu()
            node_blocked += blocked.sum(0)
        if provenance:
            steps_out[start : start + size] = step.cpu()
            parents_out[start : start + size] = parent.cpu()
        del active, blocked, step, parent, theta
    return {
        "spreads": spreads,
        "blocked": blocked_runs,
        "node_count": node_count,
        "node_blocked": node_blocked,
        "step": steps_out,
        "parent": parents_out,
        "max_steps": max_steps,
    }


def run_sets(
    model: str,
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    torch_chunk: TorchChunk,
    *,
    generator: torch.Generator | None,
    thresholds: Any,
    key: int | None,
    memory_budget: int | None,
    backend: str,
    alpha: torch.Tensor | None = None,
    provenance: bool = False,
    run_offset: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every run of every seed set on the backend chosen for ``graph`` (native, Triton, torch).

    The call is planned against ``memory_budget`` before the thresholds are checked or the key
    is drawn (:func:`threshold_source`), so a refused call draws nothing from ``generator``.
    Runs are the global runs ``run_offset ..`` (a shard's); injected ``thresholds`` hold the rows
    of exactly these runs.

    Returns:
        ``(out, info)``: the fields of :func:`run_native` (``spreads`` / ``blocked`` set-major
        ``[S * R]``; per-node counts for a single set), and ``backend`` / ``threads`` /
        ``runs_per_chunk`` for the result's ``extra``.

    Raises:
        MemoryError: a single run does not fit in ``memory_budget`` (before any work).
    """
    from influence_gpu.diffusion._native.lt import load_lt_kernel

    n, S = graph.num_nodes, len(seed_sets)
    chosen = choose_engine(model, graph, backend)
    if chosen == "native":
        kernel = load_lt_kernel()
        threads = native_threads()
        chunk = plan_native(
            model, graph, S, num_samples, memory_budget, provenance=provenance,
            thresholds=None if thresholds is None else torch.as_tensor(thresholds),
            threads=threads,
        )
        theta_all, key = threshold_source(graph, generator, thresholds, num_samples, key)
        out = run_native(
            kernel, model, graph, seed_sets, num_samples, chunk=chunk, threads=threads, key=key,
            thresholds=theta_all, alpha=alpha, provenance=provenance, run_offset=run_offset,
        )
        return out, {"backend": "native", "threads": threads, "runs_per_chunk": chunk}
    triton = chosen == "triton"
    chunk, work = plan(
        graph, num_samples, memory_budget, provenance, f"{model} simulation on {n} nodes",
        num_sets=S, triton=triton,
    )
    theta_all, key = threshold_source(graph, generator, thresholds, num_samples, key)
    outs = [
        torch_runs(model, torch_chunk, graph, s, num_samples, theta_all, key, chunk, work,
                   provenance, run_offset, alpha=alpha, triton=triton)
        for s in seed_sets
    ]
    info = {"backend": chosen, "runs_per_chunk": chunk}
    if S == 1:
        return outs[0], info
    blocked = [o.get("blocked") for o in outs]
    return {
        "spreads": torch.cat([o["spreads"] for o in outs]),
        "blocked": None if None in blocked else torch.cat(blocked),
        "node_count": None,
        "node_blocked": None,
        "step": None,
        "parent": None,
        "max_steps": max(o["max_steps"] for o in outs),
    }, info


def simulate_sets(
    model: str,
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    torch_chunk: TorchChunk,
    *,
    generator: torch.Generator | None,
    thresholds: Any,
    key: int | None,
    memory_budget: int | None,
    backend: str,
    alpha: torch.Tensor | None = None,
    provenance: bool = False,
    shard: Any = None,
    devices: Any = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A whole call of a threshold model: :func:`run_sets`, or split across ranks and devices.

    With ``shard`` / ``devices`` the hash key is drawn once (:func:`threshold_source`; rank 0's
    on every rank), before the split, and the runs go through
    :func:`~influence_gpu.diffusion._runs.split_runs`, each piece at its global run offset with
    its rows of injected ``thresholds``; every rank gets the per-run counts (spreads, blocked)
    and per-node counts of one process.

    Returns:
        ``(out, info)`` as :func:`run_sets`; a split call adds ``world_size`` and ``devices`` to
        ``info``.

    Raises:
        ValueError: bad ``shard`` or ``devices``, or ``provenance`` with a split.
    """
    rank, world = resolve_shard(shard)
    devs = check_devices(devices)
    split = is_split(world, devs, graph.device)
    if split and provenance:
        raise ValueError(
            "return_provenance cannot be combined with runs split across ranks or devices"
        )
    if not split:
        return run_sets(
            model, graph, seed_sets, num_samples, torch_chunk, generator=generator,
            thresholds=thresholds, key=key, memory_budget=memory_budget, backend=backend,
            alpha=alpha, provenance=provenance,
        )
    theta_all, key = threshold_source(graph, generator, thresholds, num_samples, key)
    devs = devs or [graph.device]
    n, S = graph.num_nodes, len(seed_sets)
    blocks = model != "lt"
    comm = comm_device(graph.device)
    key = common_key(key, world, comm)
    info: dict[str, Any] = {}

    def piece(dev: torch.device, offset: int, count: int) -> dict[str, torch.Tensor]:
        g = graph.to(dev)
        out, got_info = run_sets(
            model, g, [s.to(dev) for s in seed_sets], count, torch_chunk, generator=None,
            thresholds=None if theta_all is None else theta_all[offset : offset + count],
            key=key, memory_budget=memory_budget, backend=backend,
            alpha=None if alpha is None else alpha.to(dev), run_offset=offset,
        )
        info.update(got_info)
        got = {"spreads": out["spreads"].view(S, count).t(),  # [count, S]
               "max_steps": torch.tensor(out["max_steps"])}
        if blocks:
            got["blocked"] = out["blocked"].view(S, count).t()
        if S == 1:
            got["node_count"] = out["node_count"]
            if blocks:
                got["node_blocked"] = out["node_blocked"]
        return got

    per_run = {"spreads": torch.zeros(0, S, dtype=torch.long)}
    counts = {"node_count": torch.zeros(n, dtype=torch.long)} if S == 1 else {}
    if blocks:
        per_run["blocked"] = per_run["spreads"].clone()
        if S == 1:
            counts["node_blocked"] = torch.zeros(n, dtype=torch.long)
    got = split_runs(
        num_samples, rank, world, devs, piece, runs=per_run, sums=counts,
        maxes={"max_steps": torch.tensor(0)}, comm=comm,
    )
    info.update(world_size=world, devices=[str(d) for d in devs])
    return {
        "spreads": got["spreads"].t().reshape(-1),
        "blocked": got["blocked"].t().reshape(-1) if blocks else None,
        "node_count": got.get("node_count"),
        "node_blocked": got.get("node_blocked"),
        "step": None,
        "parent": None,
        "max_steps": int(got["max_steps"]),
    }, info
