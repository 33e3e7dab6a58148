"""Batched linear threshold model (Kempe, Kleinberg, Tardos 2003), paper D's submodular model.

Every node ``v`` draws one threshold ``theta_v`` per run. Edge ``(u, v)`` carries the weight
``b(u, v)`` (``graph.edge_prob``), and the weights into any node sum to at most 1. Seeds are active
at step 0. At step ``t >= 1`` an inactive node ``v`` becomes active when the total weight from its
in-neighbours that were active at the end of step ``t - 1`` reaches its threshold::

    acc_v = sum of b(u, v) over active in-neighbours u;   v activates iff acc_v >= theta_v

More exactly, ``v`` activates iff ``acc_v >= theta_v`` **and** ``acc_v > 0``. Drawn thresholds
lie in ``(0, 1]`` (``1 - U`` with ``U`` on the grid ``k / 2**24`` in ``[0, 1)``), so the second
condition only matters for an injected threshold of exactly 0: such a node still needs positive
weight from an active in-neighbour. This keeps ``P(v activates | acc_v = s) = s`` for every
``s``, which is what the live-edge view (each node picks at most one in-edge, edge ``(u, v)``
with probability ``b(u, v)``) requires: an edge of weight 0 is never picked.

``R`` runs proceed together on ``[C, n]`` state tensors (``C`` runs per chunk). Each step the
newly activated (run, node) pairs push their out-edge weights into an ``[C, n]`` float64
accumulator (``index_add_`` over the frontier's out-edges, in pieces of bounded size), then
the slots they reached are checked: ``new = ~active & (acc >= theta) & (acc > 0)``. A step
costs time in proportion to the frontier's out-edges, not to ``C * n``. The accumulator is
float64, so sums of float32 weights are exact for any practical weights and the outcome does not
depend on the order of the additions (which ``index_add_`` on a GPU does not fix).

Thresholds drawn from ``generator`` come from counter-based hashing of ``(key, run, node)`` with
one key per call (:func:`draw_thresholds`), so the outcome of a call does not depend on how the
runs are chunked: a smaller ``memory_budget`` gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import (
    charge_results,
    check_num_samples,
    draw_key,
    hash_uniform,
    iter_chunks,
    make_generator,
    plan_chunks,
    resolve_budget,
)
from influence_gpu.diffusion.results import SpreadResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.probabilities import check_lt_weights

__all__ = ["simulate_lt", "draw_thresholds"]

# Bytes per (run, node) slot of a chunk: state and scratch bools, float32/64 threshold, float64
# accumulator, and the int64 slot lists of one step (touched, tested, frontier: at worst every
# slot) with their gathered values; this also covers the int64 temporaries of the threshold hash.
_NODE_BYTES = 72
# Extra bytes per slot with provenance: step (int32), parent and candidate parent (int64).
_PROV_BYTES = 24
# Bytes per pushed (slot, edge) item while expanding a frontier: owner, offset, edge id, source,
# run, target, flat slot (int64 each), the float64 weight, and ``torch.unique``'s sort buffers.
_EDGE_ITEM_BYTES = 96


# ---------------------------------------------------------------------------------------- checks
def _seed_ids(seeds: Any, n: int, device: torch.device) -> torch.Tensor:
    """Return internal seed ids ``[k]`` (int64, on ``device``) checked for range and duplicates."""
    return _v.check_node_ids(seeds, n, "seeds", device=device)


def _check_thresholds(thresholds: Any, num_samples: int, n: int) -> torch.Tensor:
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


# ------------------------------------------------------------------------- shared batched engine
def _plan(
    graph: DiffusionGraph,
    num_samples: int,
    memory_budget: int | None,
    provenance: bool,
    what: str,
) -> tuple[int, int]:
    """Return ``(runs per chunk, edge items per expansion piece)`` for the memory budget.

    Raises:
        MemoryError: when a single run does not fit (before any work).

    """
    n, E = graph.num_nodes, graph.num_edges
    budget = resolve_budget(memory_budget)
    provenance = _v.check_bool(provenance, "return_provenance")
    max_out = int(graph.out_degree().max()) if n else 0
    # pieces hold at least one frontier pair, so at least max_out edges; otherwise an eighth of
    # the budget (never more than all edges of all runs)
    work = max(max_out, min(E * num_samples, max(budget, 0) // 8 // _EDGE_ITEM_BYTES))
    # + float64 copy of the weights, + the result arrays allocated before the first chunk
    fixed = work * _EDGE_ITEM_BYTES + 8 * E + _result_bytes(num_samples, n, provenance)
    per_run = n * (_NODE_BYTES + (_PROV_BYTES if provenance else 0))
    chunk = plan_chunks(num_samples, max(per_run, 1), budget, fixed_bytes=fixed, what=what)
    return chunk, max(work, 1)


def _result_bytes(num_samples: int, n: int, provenance: bool) -> int:
    """Bytes of a call's outputs, allocated before the first chunk.

    Per-run counts (spreads, blocked: int64), per-node counts (active, blocked: int64, with a
    float copy) beyond :data:`~influence_gpu.diffusion._common.RESULT_ALLOWANCE`, and the
    ``[R, n]`` provenance outputs (int32 step + int64 parent) in full.
    """
    return (num_samples * n * 12 if provenance else 0) + charge_results(num_samples * 16 + n * 48)


def _frontier_pieces(
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


def _push(
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
    for flat, eid, src in _frontier_pieces(graph, frontier, work):
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


def _as_runs(x: torch.Tensor | None, C: int, n: int) -> torch.Tensor | None:
    return None if x is None else x.view(C, n)


def _chunk_thresholds(
    thresholds: torch.Tensor | None, key: int | None, start: int, size: int, n: int, device: Any
) -> torch.Tensor:
    if thresholds is not None:
        theta = thresholds[start : start + size].to(device)
        return theta if theta.dtype == torch.float64 else theta.float()
    return draw_thresholds(key, start, size, n, device)


def _threshold_source(
    graph: DiffusionGraph, generator: torch.Generator | None, thresholds: Any, num_samples: int
) -> tuple[torch.Tensor | None, int | None]:
    """Return the checked injected thresholds, or a hash key drawn from ``generator``."""
    if thresholds is not None:
        return _check_thresholds(thresholds, num_samples, graph.num_nodes), None
    gen = generator if generator is not None else make_generator(None, graph.device)
    return None, draw_key(gen)


# ----------------------------------------------------------------------------------------- LT
def _initial_state(
    C: int, n: int, seeds: torch.Tensor, provenance: bool, device: torch.device
) -> tuple[torch.Tensor, ...]:
    """Flat ``[C * n]`` state of ``C`` runs with ``seeds`` active (shared with threshold.py).

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


def _lt_chunk(
    graph: DiffusionGraph,
    weight: torch.Tensor,
    seeds: torch.Tensor,
    theta: torch.Tensor,
    work: int,
    provenance: bool,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]:
    """Run one chunk of ``C = theta.shape[0]`` LT runs; return ``(active, step, parent, steps)``.

    State is kept as flat ``[C * n]`` views; each step only touches the slots the frontier's
    out-edges reach, so its cost follows the frontier, not ``C * n``.
    """
    C, n = theta.shape
    device = theta.device
    theta = theta.reshape(-1)
    frontier, active, step, parent, cand = _initial_state(C, n, seeds, provenance, device)
    mark = torch.zeros(C * n, dtype=torch.bool, device=device)
    acc = torch.zeros(C * n, dtype=torch.float64, device=device)

    def apply(flat: torch.Tensor, eid: torch.Tensor, src: torch.Tensor) -> None:
        w = weight[eid]
        acc.index_add_(0, flat, w)
        if cand is not None:
            pos = w > 0
            cand.scatter_reduce_(0, flat[pos], src[pos], reduce="amin")

    t = 0
    while frontier.numel():
        t += 1
        touched = _push(graph, frontier, work, mark, apply)
        x = touched[~active[touched]]
        a = acc[x]
        frontier = x[(a >= theta[x]) & (a > 0)]
        active[frontier] = True
        if cand is not None:
            step[frontier] = t
            parent[frontier] = cand[frontier]
            cand[touched] = n
    return active.view(C, n), _as_runs(step, C, n), _as_runs(parent, C, n), max(t - 1, 0)


def simulate_lt(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    thresholds: torch.Tensor | None = None,
    return_provenance: bool = False,
) -> SpreadResult:
    """Simulate ``num_samples`` linear-threshold runs from ``seeds`` at once.

    Step semantics (synchronous): seeds are active at step 0; at step ``t >= 1`` every inactive
    node ``v`` with ``acc_v = sum of b(u, v)`` over in-neighbours active at the end of step
    ``t - 1`` activates iff ``acc_v >= theta_v`` and ``acc_v > 0`` (see the module docstring for
    the zero-threshold choice). The process stops when a step activates nobody.

    Args:
        graph: graph whose ``edge_prob`` holds the LT weights ``b(u, v)``; the weights into each
            node must sum to at most ``1 + 1e-6``.
        seeds: ``[k]`` int64 internal node ids (distinct); may be empty.
        num_samples: number of runs ``R``.
        generator: random generator (one hash key is drawn from it; default: a fresh one).
        memory_budget: bytes the call may use on the graph's device (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`). Runs are split into
            chunks that fit; a budget too small for one run is refused before any work.
        thresholds: injected thresholds ``[R, n]`` in ``[0, 1]`` (run ``r`` uses row ``r``); makes
            the outcome exact. Default: ``theta ~ U(0, 1]`` drawn once per run.
        return_provenance: also return per-run activation steps and parents.

    Returns:
        :class:`SpreadResult` with ``model="lt"``, mean and standard error of the number of
        active nodes (seeds included), ``node_prob [n]``, ``spreads [R]`` (int64, CPU) and
        ``extra["max_steps"]`` (last step at which any run activated a node). With provenance,
        ``activation_step [R, n]`` (int32; 0 seeds, -1 never) and ``parent [R, n]`` (int64): for a
        node activated at step ``t``, the lowest-numbered in-neighbour with positive weight among
        those activated at step ``t - 1`` (the last ones to contribute, whose weight took
        ``acc_v`` over the threshold); -1 for seeds and inactive nodes. Both on the CPU.

    Raises:
        ValueError: missing weights, in-weights above 1 (naming the node), bad seeds or
            ``num_samples``, thresholds of the wrong shape or outside ``[0, 1]``.
        MemoryError: ``memory_budget`` too small for a single run.

    Shapes:
        seeds ``[k]``; thresholds ``[R, n]``; node_prob ``[n]``; spreads ``[R]``;
        activation_step / parent ``[R, n]``.

    """
    num_samples = check_num_samples(num_samples)
    check_lt_weights(graph, tol=1e-6)
    n, device = graph.num_nodes, graph.device
    seeds = _seed_ids(seeds, n, device)
    chunk, work = _plan(
        graph, num_samples, memory_budget, return_provenance, f"LT simulation on {n} nodes"
    )
    theta_all, key = _threshold_source(graph, generator, thresholds, num_samples)
    weight = graph.edge_prob.double()

    spreads = torch.empty(num_samples, dtype=torch.long)
    node_count = torch.zeros(n, dtype=torch.long, device=device)
    steps_out = parents_out = None
    if return_provenance:
        steps_out = torch.empty(num_samples, n, dtype=torch.int32)
        parents_out = torch.empty(num_samples, n, dtype=torch.long)
    max_steps = 0
    for start, size in iter_chunks(num_samples, chunk):
        theta = _chunk_thresholds(theta_all, key, start, size, n, device)
        active, step, parent, t = _lt_chunk(graph, weight, seeds, theta, work, return_provenance)
        max_steps = max(max_steps, t)
        spreads[start : start + size] = active.sum(1).cpu()
        node_count += active.sum(0)
        if return_provenance:
            steps_out[start : start + size] = step.cpu()
            parents_out[start : start + size] = parent.cpu()
        del active, step, parent, theta

    mean, stderr = summarize(spreads)
    return SpreadResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=(node_count.double() / num_samples).float(),
        spreads=spreads,
        model="lt",
        activation_step=steps_out,
        parent=parents_out,
        extra={"max_steps": max_steps, "runs_per_chunk": chunk},
    )
