"""Batched minimum and multiplication threshold models, with a blocked state (paper D).

Paper D (community-based influence maximisation, after Narayanam and Narahari's SPIN) uses these
two non-submodular models without writing them down; DESIGN.md section 4 fixes them as follows.
Every node ``v`` draws a threshold ``theta_v`` once per run, as in LT (``U(0, 1]``, or injected).
Edge ``(u, v)`` carries the weight ``b(u, v)`` (``graph.edge_prob``); node ``u`` may carry a factor
``alpha_u`` (minimum model only, default 1). For the set ``A`` of active in-neighbours of ``v``:

* **multiplication**: ``v`` activates iff ``prod_{u in A} b(u, v) >= theta_v``;
* **minimum**: ``v`` activates iff ``min_{u in A} alpha_u * b(u, v) >= theta_v``.

Both left-hand sides can only shrink as ``A`` grows, so a node whose first test fails can never
pass a later one: it is **blocked** for good (paper D's third state besides inactive and active).

Step semantics (synchronous update): seeds are active at step 0. At step ``t >= 1`` every node that
is neither active nor blocked and has at least one in-neighbour active at the end of step
``t - 1`` is tested against that set; it becomes active at step ``t`` if the test passes and
blocked at step ``t`` otherwise. Nodes activated at step ``t`` are first seen by the tests of step
``t + 1``. Hence each node is tested at most once, and at its test every active in-neighbour is
one activated at step ``t - 1`` (an earlier one would have caused an earlier test): the batched
code aggregates only the pushes of the latest frontier. Several in-neighbours activated in the same
step are aggregated jointly (product or minimum), not one at a time. The process stops when a step
activates nobody.

Threshold edge cases: drawn thresholds lie in ``(0, 1]``, so a weight of 0 blocks. An injected
threshold of exactly 0 lets the node pass its first test whatever the weights (``x >= 0``). The
in-weights need not sum to 1 here (no check is made beyond ``edge_prob`` in ``[0, 1]``).

``R`` runs proceed together on ``[C, n]`` tensors: each step the frontier's out-edges scatter the
weights (minimum: ``alpha_u * b(u, v)``) into an ``[C, n]`` float64 buffer with
``scatter_reduce_`` (``prod`` / ``amin``); the nodes they hit that are neither active nor blocked
are tested (and, being tested once, never looked at again). Thresholds from ``generator`` are
hashed from ``(key, run, node)`` as in :mod:`influence_gpu.diffusion.lt`, so chunking does not
change the outcome.
"""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.diffusion._common import check_num_samples, iter_chunks
from influence_gpu.diffusion.lt import (
    _as_runs,
    _chunk_thresholds,
    _initial_state,
    _plan,
    _push,
    _seed_ids,
    _threshold_source,
)
from influence_gpu.diffusion.results import ThresholdResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["simulate_minimum_threshold", "simulate_multiplication_threshold", "THRESHOLD_RULES"]

#: Model name -> ``scatter_reduce`` reduction over the active in-neighbours at the first test.
THRESHOLD_RULES = {"minimum_threshold": "amin", "multiplication_threshold": "prod"}


def _check_alpha(alpha: Any, n: int, device: torch.device) -> torch.Tensor | None:
    if alpha is None:
        return None
    a = torch.as_tensor(alpha)
    if not (a.is_floating_point() or a.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"alpha must be a real tensor of shape [{n}], got dtype {a.dtype}")
    if tuple(a.shape) != (n,):
        raise ValueError(f"alpha must have shape [num_nodes] = [{n}], got {list(a.shape)}")
    a = a.to(device=device, dtype=torch.float64)
    if n and (not bool(torch.isfinite(a).all()) or float(a.min()) < 0.0):
        bad = a[~torch.isfinite(a) | (a < 0)][0].item()
        raise ValueError(f"alpha must be finite and non-negative, found {bad!r}")
    return a


def _threshold_chunk(
    graph: DiffusionGraph,
    weight: torch.Tensor,
    alpha: torch.Tensor | None,
    seeds: torch.Tensor,
    theta: torch.Tensor,
    reduce: str,
    work: int,
    provenance: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]:
    """One chunk of ``C = theta.shape[0]`` runs: ``(active, blocked, step, parent, steps)``.

    State is kept as flat ``[C * n]`` views; each step only touches the slots reached by the
    frontier's out-edges. A slot's aggregate is read once, at its first touch, so the buffer
    needs no reset between steps.
    """
    C, n = theta.shape
    device = theta.device
    init = 1.0 if reduce == "prod" else float("inf")
    theta = theta.reshape(-1)
    frontier, active, step, parent, cand = _initial_state(C, n, seeds, provenance, device)
    blocked = torch.zeros_like(active)
    mark = torch.zeros_like(active)
    agg = torch.full((C * n,), init, dtype=torch.float64, device=device)

    def apply(flat: torch.Tensor, eid: torch.Tensor, src: torch.Tensor) -> None:
        val = weight[eid]
        if alpha is not None:
            val = alpha[src] * val
        agg.scatter_reduce_(0, flat, val, reduce=reduce)
        if cand is not None:
            cand.scatter_reduce_(0, flat, src, reduce="amin")

    t = 0
    while frontier.numel():
        t += 1
        touched = _push(graph, frontier, work, mark, apply)
        test = touched[~active[touched] & ~blocked[touched]]
        ok = agg[test] >= theta[test]
        frontier = test[ok]
        active[frontier] = True
        blocked[test[~ok]] = True
        # no reset of agg / cand: a touched slot is now active or blocked and never read again
        if cand is not None:
            step[frontier] = t
            parent[frontier] = cand[frontier]
    return (
        active.view(C, n),
        blocked.view(C, n),
        _as_runs(step, C, n),
        _as_runs(parent, C, n),
        max(t - 1, 0),
    )


def _simulate_threshold(
    model: str,
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None,
    memory_budget: int | None,
    thresholds: Any,
    alpha: Any,
    return_provenance: bool,
) -> ThresholdResult:
    num_samples = check_num_samples(num_samples)
    graph.require_prob()
    n, device = graph.num_nodes, graph.device
    seeds = _seed_ids(seeds, n, device)
    alpha = _check_alpha(alpha, n, device)
    chunk, work = _plan(
        graph, num_samples, memory_budget, return_provenance, f"{model} simulation on {n} nodes"
    )
    theta_all, key = _threshold_source(graph, generator, thresholds, num_samples)
    weight = graph.edge_prob.double()
    reduce = THRESHOLD_RULES[model]

    spreads = torch.empty(num_samples, dtype=torch.long)
    blocked_runs = torch.empty(num_samples, dtype=torch.long)
    node_count = torch.zeros(n, dtype=torch.long, device=device)
    node_blocked = torch.zeros(n, dtype=torch.long, device=device)
    steps_out = parents_out = None
    if return_provenance:
        steps_out = torch.empty(num_samples, n, dtype=torch.int32)
        parents_out = torch.empty(num_samples, n, dtype=torch.long)
    max_steps = 0
    for start, size in iter_chunks(num_samples, chunk):
        theta = _chunk_thresholds(theta_all, key, start, size, n, device)
        active, blocked, step, parent, t = _threshold_chunk(
            graph, weight, alpha, seeds, theta, reduce, work, return_provenance
        )
        max_steps = max(max_steps, t)
        spreads[start : start + size] = active.sum(1).cpu()
        blocked_runs[start : start + size] = blocked.sum(1).cpu()
        node_count += active.sum(0)
        node_blocked += blocked.sum(0)
        if return_provenance:
            steps_out[start : start + size] = step.cpu()
            parents_out[start : start + size] = parent.cpu()
        del active, blocked, step, parent, theta

    mean, stderr = summarize(spreads)
    bmean, bstderr = summarize(blocked_runs)
    return ThresholdResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=(node_count.double() / num_samples).float(),
        spreads=spreads,
        model=model,
        activation_step=steps_out,
        parent=parents_out,
        extra={"max_steps": max_steps, "runs_per_chunk": chunk},
        blocked_mean=bmean,
        blocked_stderr=bstderr,
        node_blocked_prob=(node_blocked.double() / num_samples).float(),
        blocked=blocked_runs,
    )


def simulate_minimum_threshold(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    thresholds: torch.Tensor | None = None,
    alpha: torch.Tensor | None = None,
    return_provenance: bool = False,
) -> ThresholdResult:
    """Minimum threshold model: ``v`` activates iff ``min alpha_u * b(u, v) >= theta_v``.

    The minimum runs over the in-neighbours ``u`` of ``v`` active at the end of the step before
    ``v``'s first (and only) test; a failed test blocks ``v`` for good. See the module docstring
    for the step semantics (paper D; DESIGN.md section 4).

    Args:
        graph: graph whose ``edge_prob`` holds the weights ``b(u, v)`` in ``[0, 1]``.
        seeds: ``[k]`` int64 internal node ids (distinct); may be empty.
        num_samples: number of runs ``R``.
        generator: random generator (one hash key is drawn from it; default: a fresh one).
        memory_budget: bytes the call may use on the graph's device (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); runs are chunked to
            fit, and a budget too small for one run is refused before any work.
        thresholds: injected thresholds ``[R, n]`` in ``[0, 1]``; default ``theta ~ U(0, 1]``
            drawn once per run.
        alpha: ``[n]`` non-negative factors ``alpha_u`` (default: all 1).
        return_provenance: also return per-run activation steps and parents (the
            lowest-numbered active in-neighbour at the node's test; all of them were activated
            one step earlier).

    Returns:
        :class:`ThresholdResult`: mean / stderr / ``spreads [R]`` of the active count (seeds
        included), ``node_prob [n]``, and the same for blocked nodes (``blocked_mean``,
        ``blocked_stderr``, ``blocked [R]``, ``node_blocked_prob [n]``); ``extra["max_steps"]``.
        With provenance, ``activation_step [R, n]`` (int32; 0 seeds, -1 never) and
        ``parent [R, n]`` (int64, -1 for seeds and inactive nodes), on the CPU.

    Raises:
        ValueError: missing weights, bad seeds or ``num_samples``, thresholds of the wrong shape
            or outside ``[0, 1]``, alpha of the wrong shape or negative.
        MemoryError: ``memory_budget`` too small for a single run.

    Shapes:
        seeds ``[k]``; thresholds ``[R, n]``; alpha ``[n]``; node_prob / node_blocked_prob ``[n]``;
        spreads / blocked ``[R]``; activation_step / parent ``[R, n]``.

    """
    return _simulate_threshold(
        "minimum_threshold",
        graph,
        seeds,
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        thresholds=thresholds,
        alpha=alpha,
        return_provenance=return_provenance,
    )


def simulate_multiplication_threshold(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    thresholds: torch.Tensor | None = None,
    alpha: torch.Tensor | None = None,
    return_provenance: bool = False,
) -> ThresholdResult:
    """Multiplication threshold model: ``v`` activates iff ``prod b(u, v) >= theta_v``.

    The product runs over the in-neighbours ``u`` of ``v`` active at the end of the step before
    ``v``'s first (and only) test; a failed test blocks ``v`` for good. See the module docstring
    for the step semantics (paper D; DESIGN.md section 4).

    Args:
        graph: graph whose ``edge_prob`` holds the weights ``b(u, v)`` in ``[0, 1]``.
        seeds: ``[k]`` int64 internal node ids (distinct); may be empty.
        num_samples: number of runs ``R``.
        generator: random generator (one hash key is drawn from it; default: a fresh one).
        memory_budget: bytes the call may use on the graph's device (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); runs are chunked to
            fit, and a budget too small for one run is refused before any work.
        thresholds: injected thresholds ``[R, n]`` in ``[0, 1]``; default ``theta ~ U(0, 1]``
            drawn once per run.
        alpha: must be ``None``; accepted only so both models share one signature.
        return_provenance: also return per-run activation steps and parents (the
            lowest-numbered active in-neighbour at the node's test; all of them were activated
            one step earlier).

    Returns:
        :class:`ThresholdResult`: mean / stderr / ``spreads [R]`` of the active count (seeds
        included), ``node_prob [n]``, and the same for blocked nodes (``blocked_mean``,
        ``blocked_stderr``, ``blocked [R]``, ``node_blocked_prob [n]``); ``extra["max_steps"]``.
        With provenance, ``activation_step [R, n]`` (int32; 0 seeds, -1 never) and
        ``parent [R, n]`` (int64, -1 for seeds and inactive nodes), on the CPU.

    Raises:
        ValueError: missing weights, bad seeds or ``num_samples``, thresholds of the wrong shape
            or outside ``[0, 1]``, alpha given.
        MemoryError: ``memory_budget`` too small for a single run.

    Shapes:
        seeds ``[k]``; thresholds ``[R, n]``; node_prob / node_blocked_prob ``[n]``;
        spreads / blocked ``[R]``; activation_step / parent ``[R, n]``.

    """
    if alpha is not None:
        raise ValueError(
            "alpha applies to the minimum threshold model only; the multiplication model uses "
            "the plain weights b(u, v)"
        )
    return _simulate_threshold(
        "multiplication_threshold",
        graph,
        seeds,
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        thresholds=thresholds,
        alpha=None,
        return_provenance=return_provenance,
    )
