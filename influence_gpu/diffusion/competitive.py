"""Competitive independent cascade (misinformation F vs truth T) and blocked influence.

Two cascades spread at once on the same graph (paper B, the model of its problem definition):
seeds of the false cascade ``S_F`` start F-active, seeds of the true cascade ``S_T`` start T-active
(the two sets are disjoint). A node that becomes active at step ``t`` passes its own colour to each
inactive out-neighbour at step ``t + 1`` along edge ``e`` with probability ``edge_prob[e]``, using
one coin per edge and run; a node reached by both colours in the same step becomes F (the
misinformation wins ties). In a live-edge world this is: ``v`` is F iff
``d(S_F, v) <= d(S_T, v) < inf`` and T iff ``d(S_T, v) < d(S_F, v)``.

The blocked influence of a truth set is ``f(S_T | S_F) = E[#F | S_T = {}] - E[#F | S_T]``. Both
terms are estimated on the same live-edge worlds (common random numbers): the coin of edge ``e`` in
run ``r`` is ``hash_uniform(key, r, e)``, a pure function of its counters, so any two simulations
with the same ``key`` see the same worlds although each evaluates only the coins it needs.

All runs proceed together: the frontier is a list of ``(run, node)`` pairs, expanded through the
CSR in blocks of at most a fixed number of edges, and the new activations are deduplicated per
``(run, node)`` with F first, then the lowest-numbered parent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from influence_gpu import typing as _flags
from influence_gpu import validation as _v
from influence_gpu.diffusion._common import (
    charge_results,
    check_disjoint,
    check_num_samples,
    draw_key,
    hash_uniform,
    iter_chunks,
    make_generator,
    plan_chunks,
    resolve_budget,
)
from influence_gpu.diffusion.ic import _native_csr_bytes
from influence_gpu.diffusion.results import CompetitiveResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.native import native_threads
from influence_gpu.validation import check_fits_budget

__all__ = [
    "FALSE",
    "TRUE",
    "BlockedResult",
    "simulate_competitive_ic",
    "estimate_blocked_influence",
    "blocked_influence_batch",
]

#: Colour codes of the ``color`` provenance tensor (0 = inactive).
FALSE: int = 1
TRUE: int = 2

# Memory model (bytes). Per (run, node): the colour byte, the frontier and the new-activation
# pairs of one step (keys, codes and ``torch.unique`` temporaries), generously rounded.
_BYTES_PER_RUN_NODE = 80
# With provenance: int32 step + int64 parent of the chunk being simulated ...
_BYTES_PER_RUN_NODE_PROVENANCE = 12
# ... and the [R, n] outputs (step, parent, colour), counted twice for the final concatenation.
_BYTES_PER_OUTPUT_NODE = 2 * 13
# Per expanded edge of a block: owner, position, edge id, target, run, coin, hash temporaries.
_BYTES_PER_EDGE_CANDIDATE = 96
_MIN_EDGE_BLOCK = 64
# Native kernel, per thread and node: the visit stamp and four reserved frontier lists (int32).
_NATIVE_BYTES_PER_NODE = 20


@dataclass
class BlockedResult:
    """Blocked influence ``f(S_T | S_F)`` estimated with common random numbers (paper B).

    Attributes:
        mean: mean of the per-run differences ``#F(no truth) - #F(with truth)``.
        stderr: standard error of ``mean`` (from the per-run differences).
        num_samples: number of runs ``R``.
        false_only_mean: mean F count without the truth cascade.
        with_truth_mean: mean F count with the truth seeds.
        differences: ``[R]`` per-run differences (int64).
        key: hash key of the live-edge worlds (pass it back as ``key=`` to reuse the worlds).

    """

    mean: float
    stderr: float
    num_samples: int
    false_only_mean: float
    with_truth_mean: float
    differences: torch.Tensor | None = None
    key: int | None = None

    def __float__(self) -> float:
        return self.mean


# ---------------------------------------------------------------------------------- validation
def _as_ids(graph: DiffusionGraph, seeds: Any, name: str) -> torch.Tensor:
    """Return internal node ids ``[k]`` (int64, graph device), checking range and duplicates."""
    return _v.check_node_ids(seeds, graph.num_nodes, name, device=graph.device)


def _check_edge_uniforms(
    graph: DiffusionGraph, edge_uniforms: Any, num_samples: int
) -> torch.Tensor:
    u = torch.as_tensor(edge_uniforms, device=graph.device)
    if not u.is_floating_point():
        raise TypeError(f"edge_uniforms must be a floating-point tensor, got dtype {u.dtype}")
    if tuple(u.shape) != (num_samples, graph.num_edges):
        raise ValueError(
            f"edge_uniforms must have shape [num_samples, num_edges] = "
            f"[{num_samples}, {graph.num_edges}], got {list(u.shape)}"
        )
    return u


def _resolve_key(key: int | None, generator: torch.Generator | None, graph: DiffusionGraph) -> int:
    if key is not None:
        return _v.check_int(key, "key")
    if generator is None:
        generator = make_generator(None, graph.device)
    return draw_key(generator)


# ---------------------------------------------------------------------------------- core kernel
def _edge_block(memory_budget: int | None) -> int:
    budget = resolve_budget(memory_budget)
    return max(_MIN_EDGE_BLOCK, budget // 4 // _BYTES_PER_EDGE_CANDIDATE)


def _iter_states(
    graph: DiffusionGraph,
    false_ids: torch.Tensor,
    true_ptr: torch.Tensor,
    true_cat: torch.Tensor,
    num_samples: int,
    *,
    key: int | None,
    edge_uniforms: torch.Tensor | None,
    memory_budget: int | None,
    provenance: bool,
    fixed_bytes: float = 0.0,
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]]:
    """Simulate ``S * R`` virtual runs chunk by chunk and yield each chunk's final state.

    Virtual run ``v = s * R + r`` uses the false seeds and truth set ``s`` in the live-edge
    world of run ``r`` (coins ``hash_uniform(key, r, e)`` or ``edge_uniforms[r, e]``), so all
    truth sets are compared on common worlds.

    Yields:
        ``(start, color [C, n] int8, step [C, n] int32 | None, parent [C, n] int64 | None,
        num_steps)`` for the virtual runs ``start .. start + C - 1``.

    """
    n = graph.num_nodes
    device = graph.device
    rowptr, col = graph.rowptr, graph.col
    prob = graph.require_prob()
    num_sets = true_ptr.numel() - 1
    total = num_sets * num_samples
    per_run = n * (_BYTES_PER_RUN_NODE + (_BYTES_PER_RUN_NODE_PROVENANCE if provenance else 0))
    block = _edge_block(memory_budget)
    chunk = plan_chunks(
        total,
        per_run,
        memory_budget,
        fixed_bytes=fixed_bytes + block * _BYTES_PER_EDGE_CANDIDATE,
        what="competitive IC simulation",
    )
    set_size = true_ptr[1:] - true_ptr[:-1]
    k_f = false_ids.numel()

    for start, size in iter_chunks(total, chunk):
        vrun = torch.arange(start, start + size, device=device)
        world = vrun % num_samples  # global run index: which live-edge world
        sets = vrun // num_samples
        color = torch.zeros(size, n, dtype=torch.int8, device=device)
        flat = color.view(-1)
        # seeds: false for every virtual run, truth set s for the runs of set s
        f_run = torch.arange(size, device=device).repeat_interleave(k_f)
        f_node = false_ids.repeat(size)
        cnt = set_size[sets]
        t_run = torch.arange(size, device=device).repeat_interleave(cnt)
        offs = torch.arange(t_run.numel(), device=device) - (torch.cumsum(cnt, 0) - cnt)[t_run]
        t_node = true_cat[true_ptr[sets][t_run] + offs]
        fr_run = torch.cat([f_run, t_run])
        fr_node = torch.cat([f_node, t_node])
        fr_col = torch.cat(
            [
                torch.full_like(f_node, FALSE, dtype=torch.int8),
                torch.full_like(t_node, TRUE, dtype=torch.int8),
            ]
        )
        flat[fr_run * n + fr_node] = fr_col
        step = parent = None
        if provenance:
            step = torch.full((size, n), -1, dtype=torch.int32, device=device)
            parent = torch.full((size, n), -1, dtype=torch.long, device=device)
            step.view(-1)[fr_run * n + fr_node] = 0

        t = 0
        num_steps = 0
        while fr_run.numel():
            t += 1
            deg = rowptr[fr_node + 1] - rowptr[fr_node]
            cum = torch.cumsum(deg, 0)
            first = rowptr[fr_node] - (cum - deg)  # edge id = first[owner] + flat position
            fr_world = world[fr_run]
            # F before T, then the lowest-numbered parent: the smallest code wins
            fr_code = (fr_col.long() - 1) * n + fr_node
            num_cand = int(cum[-1])
            acc_key = fr_run.new_zeros(0)
            acc_code = fr_run.new_zeros(0)
            for a in range(0, num_cand, block):
                pos = torch.arange(a, min(a + block, num_cand), device=device)
                owner = torch.searchsorted(cum, pos, right=True)
                e = first[owner] + pos
                if edge_uniforms is not None:
                    coin = edge_uniforms[fr_world[owner], e]
                else:
                    coin = hash_uniform(key, fr_world[owner], e)
                hit = torch.nonzero(coin < prob[e]).squeeze(1)  # live edges first: cheaper
                owner, e = owner[hit], e[hit]
                cand = fr_run[owner] * n + col[e]
                free = torch.nonzero(flat[cand] == 0).squeeze(1)  # target still inactive
                cand, code = cand[free], fr_code[owner[free]]
                if acc_key.numel():
                    cand, code = torch.cat([acc_key, cand]), torch.cat([acc_code, code])
                acc_key, inv = torch.unique(cand, return_inverse=True)
                acc_code = torch.full_like(acc_key, 2 * n).scatter_reduce_(
                    0, inv, code, reduce="amin"
                )
            if acc_key.numel() == 0:
                break
            num_steps = t
            fr_run = acc_key // n
            fr_node = acc_key % n
            fr_col = (acc_code // n + 1).to(torch.int8)
            flat[acc_key] = fr_col
            if provenance:
                step.view(-1)[acc_key] = t
                parent.view(-1)[acc_key] = acc_code % n
        yield start, color, step, parent, num_steps


def _pack_sets(
    graph: DiffusionGraph, sets: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    sizes = torch.tensor([s.numel() for s in sets], dtype=torch.long, device=graph.device)
    ptr = torch.cat([sizes.new_zeros(1), torch.cumsum(sizes, 0)])
    cat = torch.cat(list(sets)) if sets else sizes.new_zeros(0)
    return ptr, cat.long()


# ---------------------------------------------------------------------------------- public API
def simulate_competitive_ic(
    graph: DiffusionGraph,
    false_seeds: torch.Tensor,
    true_seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    edge_uniforms: torch.Tensor | None = None,
    key: int | None = None,
    return_provenance: bool = False,
) -> CompetitiveResult:
    """Run ``num_samples`` competitive IC diffusions (F vs T, F wins ties) at once (paper B).

    Args:
        graph: the graph; ``edge_prob`` holds the IC probabilities (shared by both cascades).
        false_seeds: internal ids of the misinformation seeds ``S_F``.
        true_seeds: internal ids of the truth seeds ``S_T``, disjoint from ``S_F``.
        num_samples: number of runs ``R`` (>= 1).
        generator: draws the hash key of the live-edge worlds when ``key`` is not given.
        memory_budget: bytes the call may use (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); runs are chunked
            and frontier expansion is blocked to stay inside it; the ``[R, n]`` provenance
            outputs count against it. Results do not depend on it.
        edge_uniforms: injected coins: edge ``e`` is live in run ``r`` iff
            ``edge_uniforms[r, e] < edge_prob[e]`` (overrides the hash coins).
        key: hash key of the live-edge worlds (coin ``hash_uniform(key, r, e)``); two calls with
            the same key see the same worlds.
        return_provenance: also return per-run activation step, parent and colour.

    Returns:
        :class:`~influence_gpu.diffusion.results.CompetitiveResult`; ``extra`` holds ``key``
        (``None`` with injected coins) and ``num_steps`` (last step with an activation).

    Raises:
        ValueError: seeds out of range, duplicated or overlapping, bad ``edge_uniforms`` shape,
            ``num_samples < 1``, or no ``edge_prob``.
        MemoryError: when a single run does not fit in ``memory_budget``.

    Shapes:
        ``false_seeds [k_F]``, ``true_seeds [k_T]``, ``edge_uniforms [R, E]``;
        result ``node_false_prob, node_true_prob [n]``, ``false_spreads, true_spreads [R]``,
        ``activation_step [R, n]`` int32, ``parent [R, n]`` int64, ``color [R, n]`` int8.

    """
    num_samples = check_num_samples(num_samples)
    graph.require_prob()
    f = _as_ids(graph, false_seeds, "false_seeds")
    t = _as_ids(graph, true_seeds, "true_seeds")
    check_disjoint(f, t, ("false_seeds", "true_seeds"), graph)
    if edge_uniforms is not None:
        edge_uniforms = _check_edge_uniforms(graph, edge_uniforms, num_samples)
        key = None
    else:
        key = _resolve_key(key, generator, graph)
    n = graph.num_nodes
    ptr, cat = _pack_sets(graph, [t])
    f_spreads, t_spreads, steps, parents, colors = [], [], [], [], []
    f_count = torch.zeros(n, dtype=torch.long, device=graph.device)
    t_count = torch.zeros_like(f_count)
    num_steps = 0
    for _, color, step, parent, ns in _iter_states(
        graph,
        f,
        ptr,
        cat,
        num_samples,
        key=key,
        edge_uniforms=edge_uniforms,
        memory_budget=memory_budget,
        provenance=return_provenance,
        # the [R, n] outputs (their doubled count also covers the per-run spreads and the
        # per-node counts), or the spreads (F and T, per chunk and concatenated) and counts
        fixed_bytes=num_samples * n * _BYTES_PER_OUTPUT_NODE if return_provenance
        else charge_results(num_samples * 32 + n * 16),
    ):
        is_f, is_t = color == FALSE, color == TRUE
        f_spreads.append(is_f.sum(1))
        t_spreads.append(is_t.sum(1))
        f_count += is_f.sum(0)
        t_count += is_t.sum(0)
        num_steps = max(num_steps, ns)
        if return_provenance:
            steps.append(step)
            parents.append(parent)
            colors.append(color)
    fs, ts = torch.cat(f_spreads), torch.cat(t_spreads)
    f_mean, f_se = summarize(fs)
    t_mean, t_se = summarize(ts)
    return CompetitiveResult(
        false_mean=f_mean,
        false_stderr=f_se,
        true_mean=t_mean,
        true_stderr=t_se,
        num_samples=num_samples,
        node_false_prob=(f_count.double() / num_samples).float(),
        node_true_prob=(t_count.double() / num_samples).float(),
        false_spreads=fs,
        true_spreads=ts,
        activation_step=torch.cat(steps) if return_provenance else None,
        parent=torch.cat(parents) if return_provenance else None,
        color=torch.cat(colors) if return_provenance else None,
        extra={"key": key, "num_steps": num_steps},
    )


def _native_false_counts(
    graph: DiffusionGraph,
    false_ids: torch.Tensor,
    ptr: torch.Tensor,
    cat: torch.Tensor,
    num_samples: int,
    key: int,
    memory_budget: int | None = None,
) -> torch.Tensor | None:
    """:func:`_false_counts` in the native CPU kernel, or ``None`` where it does not apply.

    Everything the kernel allocates is fixed per call: the int32 / float32 CSR copies (once per
    graph), per thread a visit stamp and four frontier lists of ``n`` int32 each, and the
    ``[S * R]`` int64 output; the call is refused before any work when that exceeds
    ``memory_budget``.
    """
    if not (
        graph.device.type == "cpu"
        and _flags.USE_NATIVE_CPU
        and graph.num_nodes < 2**31
        and graph.num_edges < 2**31
    ):
        return None
    from influence_gpu.diffusion._native import load_ic_kernel, native_csr

    fn = load_ic_kernel("competitive_false_counts")
    if fn is None:
        return None
    threads = native_threads()
    num_sets = ptr.numel() - 1
    fixed = (_native_csr_bytes(graph) + threads * graph.num_nodes * _NATIVE_BYTES_PER_NODE
             + charge_results(num_sets * num_samples * 8 * 2))
    check_fits_budget(fixed, resolve_budget(memory_budget),
                      f"blocked influence on {graph.num_nodes} nodes (native kernel)",
                      f"{num_sets * num_samples} runs, {threads} thread(s)")
    rowptr, col, prob = native_csr(graph)
    f = false_ids.long().contiguous()
    ptr, cat = ptr.long().contiguous(), cat.long().contiguous()
    out = torch.empty(num_sets * num_samples, dtype=torch.long)
    status = fn(
        graph.num_nodes,
        rowptr.data_ptr(),
        col.data_ptr(),
        prob.data_ptr(),
        f.data_ptr(),
        f.numel(),
        cat.data_ptr(),
        ptr.data_ptr(),
        num_sets,
        num_samples,
        key,
        threads,
        out.data_ptr(),
    )
    if status != 0:
        raise RuntimeError(f"native competitive kernel failed with status {status}")
    return out.view(num_sets, num_samples)


def _false_counts(
    graph: DiffusionGraph,
    false_ids: torch.Tensor,
    sets: list[torch.Tensor],
    num_samples: int,
    key: int,
    memory_budget: int | None,
) -> torch.Tensor:
    """F counts ``[len(sets), R]`` of every truth set on the worlds of ``key``.

    On a CPU graph this runs in the native kernel when it is available (the same hash coins, so
    the counts are identical to the torch path's; ``INFLUENCE_GPU_NATIVE=0`` turns it off).
    """
    ptr, cat = _pack_sets(graph, sets)
    native = _native_false_counts(graph, false_ids, ptr, cat, num_samples, key, memory_budget)
    if native is not None:
        return native
    out = torch.empty(len(sets) * num_samples, dtype=torch.long, device=graph.device)
    for start, color, _, _, _ in _iter_states(
        graph,
        false_ids,
        ptr,
        cat,
        num_samples,
        key=key,
        edge_uniforms=None,
        memory_budget=memory_budget,
        provenance=False,
        fixed_bytes=charge_results(len(sets) * num_samples * 8 * 2),  # counts, differences
    ):
        out[start : start + color.size(0)] = (color == FALSE).sum(1)
    return out.view(len(sets), num_samples)


def estimate_blocked_influence(
    graph: DiffusionGraph,
    false_seeds: torch.Tensor,
    true_seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    key: int | None = None,
) -> BlockedResult:
    """Blocked influence ``f(S_T | S_F) = E[#F | S_T = {}] - E[#F | S_T]`` (paper B, Def. 2).

    Both terms are simulated in one batch on the same live-edge worlds (same hash key and run
    indices), and the standard error comes from the per-run differences, which are never
    negative: a truth cascade can only take nodes away from the false one.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        true_seeds: internal ids of ``S_T``, disjoint from ``S_F``.
        num_samples: number of live-edge worlds ``R``.
        generator: draws the hash key when ``key`` is not given.
        memory_budget: bytes the call may use (results do not depend on it).
        key: hash key of the worlds (reuse it to compare truth sets on the same worlds).

    Returns:
        :class:`BlockedResult`.

    Raises:
        ValueError: bad or overlapping seeds, ``num_samples < 1``, no ``edge_prob``.
        MemoryError: when a single run does not fit in ``memory_budget``.

    Shapes:
        ``false_seeds [k_F]``, ``true_seeds [k_T]``; ``differences [R]``.

    """
    num_samples = check_num_samples(num_samples)
    graph.require_prob()
    f = _as_ids(graph, false_seeds, "false_seeds")
    t = _as_ids(graph, true_seeds, "true_seeds")
    check_disjoint(f, t, ("false_seeds", "true_seeds"), graph)
    key = _resolve_key(key, generator, graph)
    counts = _false_counts(graph, f, [t.new_zeros(0), t], num_samples, key, memory_budget)
    diff = counts[0] - counts[1]
    mean, se = summarize(diff)
    return BlockedResult(
        mean=mean,
        stderr=se,
        num_samples=num_samples,
        false_only_mean=float(counts[0].double().mean()),
        with_truth_mean=float(counts[1].double().mean()),
        differences=diff,
        key=key,
    )


def blocked_influence_batch(
    graph: DiffusionGraph,
    false_seeds: torch.Tensor,
    true_seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    key: int | None = None,
    memory_budget: int | None = None,
) -> torch.Tensor:
    """Blocked influence of many candidate truth sets at once, on common worlds (paper B).

    The runs of every set and of the false-only baseline form one batch of
    ``(len(sets) + 1) * R`` runs, all in the worlds of one key, so the estimates of different
    candidates differ only through the candidates (the oracle of CELF over blocking). Each
    entry equals ``estimate_blocked_influence(..., key=key).mean`` for that set.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        true_seed_sets: candidate truth sets, each a 1-D tensor of internal ids disjoint from
            ``S_F`` (sets may differ in size; an empty set gives 0).
        num_samples: number of worlds ``R``.
        generator: draws the hash key when ``key`` is not given.
        key: hash key of the worlds.
        memory_budget: bytes the call may use (results do not depend on it).

    Returns:
        ``[len(true_seed_sets)]`` float64 mean blocked influence of each set.

    Raises:
        ValueError: a bad set (ids out of range, duplicates, overlap with ``S_F``),
            ``num_samples < 1``, no ``edge_prob``.
        TypeError: ``true_seed_sets`` is not a sequence of id tensors / lists.
        MemoryError: when a single run does not fit in ``memory_budget``.

    Shapes:
        ``false_seeds [k_F]``, ``true_seed_sets[i] [k_i]``; output ``[len(true_seed_sets)]``.

    """
    num_samples = check_num_samples(num_samples)
    graph.require_prob()
    f = _as_ids(graph, false_seeds, "false_seeds")
    if isinstance(true_seed_sets, torch.Tensor) and true_seed_sets.dim() == 2:
        true_seed_sets = list(true_seed_sets)
    if isinstance(true_seed_sets, (str, bytes, torch.Tensor)) or not isinstance(
        true_seed_sets, Sequence
    ):
        raise TypeError(
            f"true_seed_sets must be a list of 1-D id tensors, got {type(true_seed_sets).__name__}"
        )
    sets = []
    for i, s in enumerate(true_seed_sets):
        name = f"true_seed_sets[{i}]"
        t = _as_ids(graph, s, name)
        check_disjoint(f, t, ("false_seeds", name), graph)
        sets.append(t)
    if not sets:
        return torch.zeros(0, dtype=torch.float64, device=graph.device)
    key = _resolve_key(key, generator, graph)
    counts = _false_counts(graph, f, [f.new_zeros(0), *sets], num_samples, key, memory_budget)
    return (counts[:1] - counts[1:]).double().mean(1)
