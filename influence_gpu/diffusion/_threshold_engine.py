"""Machinery shared by the threshold models, LT (:mod:`.lt`) and minimum / multiplication.

The torch engine and the native dispatch below serve :mod:`.lt` and :mod:`.threshold` alike.

Two engines run the same step semantics (see those modules):

* the **torch** engine keeps ``C`` runs on flat ``[C * n]`` state tensors and, each step, pushes
  the frontier's out-edge weights into an aggregate buffer (:func:`push`);
* the **native** engine (``_native/lt_kernel.cpp``, :func:`run_native`) runs one
  level-synchronous search per (seed set, run) job on CPU threads, with ``O(n)`` state per
  thread and thresholds hashed lazily at a node's first touch.

They agree bit for bit given the same thresholds (tested in ``tests/diffusion/test_lt_native.py``)
because neither outcome depends on the order of the pushes:

* LT sums weights quantised by :func:`lt_weights` to multiples of ``2**-52``: every partial sum
  of a node's accumulator is then an exact float64 (it lies in ``[0, 2)``), whatever the order of
  the additions (a GPU's ``index_add_`` fixes none). Weights of ``2**-29`` or more are already
  such multiples, so quantising changes only positive weights below ``2**-29`` (rounded up, so
  they stay positive).
* The minimum is exact. Products are rounded, so both engines multiply in one order: each level
  sorted by node id, each node's out-edges in CSR order (the CPU ``scatter_reduce_`` is
  sequential in its input order; on CUDA the order of a product is not fixed).

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
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.backend import choose_backend

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
    "native_kernel",
    "plan_native",
    "run_native",
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
    """A hash key as a non-negative int below ``2**64``."""
    key = _v.check_int(key, "key")
    if not 0 <= key < 2**64:
        raise ValueError(f"key must lie in [0, 2**64), got {key}")
    return key


def chunk_thresholds(
    thresholds: torch.Tensor | None, key: int | None, start: int, size: int, n: int, device: Any
) -> torch.Tensor:
    """Thresholds ``[size, n]`` of runs ``start ..``: injected rows, or hashed from ``key``."""
    if thresholds is not None:
        theta = thresholds[start : start + size].to(device)
        return theta if theta.dtype == torch.float64 else theta.float()
    return draw_thresholds(key, start, size, n, device)


# ------------------------------------------------------------------------- torch batched engine
def plan(
    graph: DiffusionGraph,
    num_samples: int,
    memory_budget: int | None,
    provenance: bool,
    what: str,
    *,
    num_sets: int = 1,
) -> tuple[int, int]:
    """Return ``(runs per chunk, edge items per expansion piece)`` of the torch engine.

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
    per_run = n * (_NODE_BYTES + (_PROV_BYTES if provenance else 0))
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
def native_kernel(model: str, graph: DiffusionGraph, backend: str) -> Any:
    """The native kernel when :func:`choose_backend` picks it for this call, else ``None``.

    Raises:
        ValueError: ``backend`` is not a backend, or ``"native"`` on a graph it cannot take.
        RuntimeError: ``backend="native"`` and the kernel failed to build.
    """
    from influence_gpu.diffusion._native.lt import load_lt_kernel

    applicable = graph.num_nodes < 2**31 - 1
    chosen = choose_backend(
        OP_NAMES[model],
        backend,
        graph.device,
        native=load_lt_kernel,
        applicable=applicable,
        why_not=(
            f"device={graph.device}, {graph.num_nodes} nodes; the native kernel takes graphs "
            "with fewer than 2**31 - 1 nodes"
        ),
    )
    return load_lt_kernel() if chosen == "native" else None


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
        p = graph.require_prob()
        cache[kind] = lt_weights(p) if model == "lt" else p.to(torch.float64).contiguous()
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
) -> dict[str, Any]:
    """Run ``len(seed_sets) x num_samples`` jobs of ``model`` with the native kernel.

    Run ``r`` of every set uses run index ``r`` (so the same thresholds: common random numbers).
    Call :func:`plan_native` first; its ``chunk`` only matters for injected thresholds.

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
            start,
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
