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
change the outcome; a fixed ``key`` gives the same thresholds in every call, and
:func:`estimate_minimum_threshold_sets` / :func:`estimate_multiplication_threshold_sets` score
many seed sets on them (common random numbers).

Backends (``backend=``): on a CPU graph ``"auto"`` runs the native C++/OpenMP kernel shared with
LT (``_native/lt_kernel.cpp``); on a CUDA graph the minimum model runs the Triton kernels shared
with LT (``_triton/lt.py``: an int64 atomic min on the bit patterns of the non-negative
``alpha_u * b(u, v)``, then one launch testing each reached slot against its hashed threshold;
forced with ``backend="triton"`` they also run on CPU tensors under ``TRITON_INTERPRET=1``);
else the torch engine. Given the same thresholds all give the same runs bit for bit: the minimum
is exact in any order, and products are formed in one order on the torch and native engines, by
increasing (source node, edge id) within a step (each step's frontier is sorted; see
:mod:`influence_gpu.diffusion._threshold_engine`). Atomics fix no order of the factors, so the
multiplication model has no Triton backend (``backend="triton"`` raises; ``"auto"`` runs torch
on CUDA).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import check_num_samples
from influence_gpu.diffusion._threshold_engine import (
    as_runs,
    initial_state,
    push,
    seed_ids,
    simulate_sets,
    summarize_runs,
)
from influence_gpu.diffusion.results import ThresholdResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.backend import BACKENDS

__all__ = [
    "simulate_minimum_threshold",
    "simulate_multiplication_threshold",
    "estimate_minimum_threshold_sets",
    "estimate_multiplication_threshold_sets",
    "THRESHOLD_RULES",
]

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
    work: int,
    provenance: bool,
    *,
    reduce: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]:
    """One chunk of ``C = theta.shape[0]`` runs: ``(active, blocked, step, parent, steps)``.

    The :data:`~._threshold_engine.TorchChunk` of both models (``reduce``: their
    :data:`THRESHOLD_RULES` entry).

    State is kept as flat ``[C * n]`` views; each step only touches the slots reached by the
    frontier's out-edges. A slot's aggregate is read once, at its first touch, so the buffer
    needs no reset between steps.
    """
    C, n = theta.shape
    device = theta.device
    init = 1.0 if reduce == "prod" else float("inf")
    theta = theta.reshape(-1)
    frontier, active, step, parent, cand = initial_state(C, n, seeds, provenance, device)
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
        touched = push(graph, frontier, work, mark, apply)
        test = touched[~active[touched] & ~blocked[touched]]
        ok = agg[test] >= theta[test]
        frontier = test[ok]
        if reduce == "prod":  # products in one order: by (source, edge id), as the native kernel
            frontier = frontier.sort().values
        active[frontier] = True
        blocked[test[~ok]] = True
        # no reset of agg / cand: a touched slot is now active or blocked and never read again
        if cand is not None:
            step[frontier] = t
            parent[frontier] = cand[frontier]
    return (
        active.view(C, n),
        blocked.view(C, n),
        as_runs(step, C, n),
        as_runs(parent, C, n),
        max(t - 1, 0),
    )


def _torch_chunk(model: str) -> partial:
    """The torch chunk of ``model`` (:func:`_threshold_chunk` with its reduction)."""
    return partial(_threshold_chunk, reduce=THRESHOLD_RULES[model])


def _check_call(
    model: str, graph: DiffusionGraph, num_samples: Any, alpha: Any, backend: Any, provenance: Any
) -> tuple[int, torch.Tensor | None, bool]:
    num_samples = check_num_samples(num_samples)
    _v.check_choice(backend, "backend", BACKENDS)
    provenance = _v.check_bool(provenance, "return_provenance")
    graph.require_prob()
    if alpha is not None and model != "minimum_threshold":
        raise ValueError(
            "alpha applies to the minimum threshold model only; the multiplication model uses "
            "the plain weights b(u, v)"
        )
    return num_samples, _check_alpha(alpha, graph.num_nodes, graph.device), provenance


def _simulate_threshold(
    model: str,
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None,
    memory_budget: int | None,
    thresholds: Any,
    key: int | None,
    alpha: Any,
    return_provenance: bool,
    backend: str,
    shard: Any,
    devices: Any,
) -> ThresholdResult:
    num_samples, alpha, provenance = _check_call(
        model, graph, num_samples, alpha, backend, return_provenance
    )
    n, device = graph.num_nodes, graph.device
    seeds = seed_ids(seeds, n, device)
    out, info = simulate_sets(
        model, graph, [seeds], num_samples, _torch_chunk(model),
        generator=generator, thresholds=thresholds, key=key, memory_budget=memory_budget,
        backend=backend, alpha=alpha, provenance=provenance, shard=shard, devices=devices,
    )
    spreads, blocked_runs = out["spreads"], out["blocked"]
    mean, stderr = summarize(spreads)
    bmean, bstderr = summarize(blocked_runs)
    return ThresholdResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=(out["node_count"].double() / num_samples).float(),
        spreads=spreads,
        model=model,
        activation_step=out["step"],
        parent=out["parent"],
        extra={"max_steps": out["max_steps"], **info},
        blocked_mean=bmean,
        blocked_stderr=bstderr,
        node_blocked_prob=(out["node_blocked"].double() / num_samples).float(),
        blocked=blocked_runs,
    )


def _estimate_sets(
    model: str,
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    key: int | None,
    generator: torch.Generator | None,
    memory_budget: int | None,
    alpha: Any,
    backend: str,
    return_blocked: bool,
    shard: Any,
    devices: Any,
) -> tuple[torch.Tensor, ...]:
    num_samples, alpha, _ = _check_call(model, graph, num_samples, alpha, backend, False)
    return_blocked = _v.check_bool(return_blocked, "return_blocked")
    n, device = graph.num_nodes, graph.device
    sets = [seed_ids(s, n, device, f"seed_sets[{i}]") for i, s in enumerate(seed_sets)]
    S = len(sets)
    if S == 0:
        empty = torch.zeros(0, dtype=torch.float64)
        return (empty, empty.clone(), empty.clone(), empty.clone())[: 4 if return_blocked else 2]
    out, _ = simulate_sets(
        model, graph, sets, num_samples, _torch_chunk(model),
        generator=generator, thresholds=None, key=key, memory_budget=memory_budget,
        backend=backend, alpha=alpha, shard=shard, devices=devices,
    )
    means, stderrs = summarize_runs(out["spreads"], S)
    if not return_blocked:
        return means, stderrs
    return (means, stderrs, *summarize_runs(out["blocked"], S))


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
    key: int | None = None,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
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
        key: hash key of the thresholds (``draw_thresholds``); the same key gives the same runs
            in every call (default: drawn from ``generator``). Not with ``thresholds``.
        backend: ``"auto"`` (the native kernel on a CPU graph when it builds, the Triton
            kernels on a CUDA graph when triton imports, else torch), ``"torch"`` (the tensor
            engine), ``"native"`` or ``"triton"`` (require that kernel; Triton also runs on CPU
            tensors under ``TRITON_INTERPRET=1``).
        shard: ``None`` (one process), ``"auto"`` or ``(rank, world)``: split the runs across
            the ranks of the ``torch.distributed`` process group and gather them, so every rank
            returns what one process computes, blocked counts included (a collective call; the
            thresholds are hashed from ``(key, run, node)``, and injected ``thresholds`` are cut
            by run, so every rank passes all ``R`` rows). See
            :mod:`influence_gpu.diffusion._runs`.
        devices: split this process's runs across these devices (e.g. ``["cuda:0",
            "cuda:1"]``), one contiguous piece each, run one after another; the result equals
            one device's. ``None``: the graph's device. Neither ``shard`` nor ``devices`` takes
            ``return_provenance``.

    Returns:
        :class:`ThresholdResult`: mean / stderr / ``spreads [R]`` of the active count (seeds
        included), ``node_prob [n]``, and the same for blocked nodes (``blocked_mean``,
        ``blocked_stderr``, ``blocked [R]``, ``node_blocked_prob [n]``); ``extra["max_steps"]``,
        ``"backend"`` and ``"runs_per_chunk"``.
        With provenance, ``activation_step [R, n]`` (int32; 0 seeds, -1 never) and
        ``parent [R, n]`` (int64, -1 for seeds and inactive nodes), on the CPU.

    Raises:
        ValueError: missing weights, bad seeds, ``num_samples`` or ``backend``, thresholds of
            the wrong shape or outside ``[0, 1]``, both thresholds and key, alpha of the wrong
            shape or negative, ``backend="native"`` on a non-CPU graph, ``backend="triton"``
            without triton or on a CPU graph outside the interpreter, bad ``shard`` or
            ``devices``, or provenance with either.
        MemoryError: ``memory_budget`` too small for a single run.
        RuntimeError: ``backend="native"`` and the kernel cannot be built.

    Shapes:
        seeds ``[k]``; thresholds ``[R, n]``; alpha ``[n]``; node_prob / node_blocked_prob ``[n]``;
        spreads / blocked ``[R]``; activation_step / parent ``[R, n]``.

    """
    return _simulate_threshold(
        "minimum_threshold", graph, seeds, num_samples, generator=generator,
        memory_budget=memory_budget, thresholds=thresholds, key=key, alpha=alpha,
        return_provenance=return_provenance, backend=backend, shard=shard, devices=devices,
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
    key: int | None = None,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> ThresholdResult:
    """Multiplication threshold model: ``v`` activates iff ``prod b(u, v) >= theta_v``.

    The product runs over the in-neighbours ``u`` of ``v`` active at the end of the step before
    ``v``'s first (and only) test; a failed test blocks ``v`` for good. See the module docstring
    for the step semantics (paper D; DESIGN.md section 4).

    Arguments, result, errors and shapes are those of :func:`simulate_minimum_threshold`, with
    two differences: ``alpha`` must be ``None`` (it is accepted only so both models share one
    signature; giving it raises ``ValueError``), and ``backend`` is ``"auto"`` (the native kernel
    on a CPU graph when it builds, else torch), ``"torch"`` or ``"native"``: no Triton kernel
    serves this model, because the rounded products depend on an order of the factors that
    atomics do not fix, so ``backend="triton"`` raises ``ValueError``.

    """
    return _simulate_threshold(
        "multiplication_threshold", graph, seeds, num_samples, generator=generator,
        memory_budget=memory_budget, thresholds=thresholds, key=key, alpha=alpha,
        return_provenance=return_provenance, backend=backend, shard=shard, devices=devices,
    )


def estimate_minimum_threshold_sets(
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    key: int | None = None,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    alpha: torch.Tensor | None = None,
    backend: str = "auto",
    return_blocked: bool = False,
    shard: Any = None,
    devices: Any = None,
) -> tuple[torch.Tensor, ...]:
    """Expected minimum-threshold spread of many seed sets in one call (CRN).

    Run ``r`` of every set uses the thresholds ``draw_thresholds(key, r, ...)``; set ``s`` gets
    exactly the per-run counts of ``simulate_minimum_threshold`` with the same ``key`` on either
    backend. The spread counts active nodes (seeds included); ``return_blocked`` adds
    the blocked counts.

    Args:
        graph: graph whose ``edge_prob`` holds the weights ``b(u, v)`` in ``[0, 1]``.
        seed_sets: ``S`` seed sets, each ``[k_s]`` distinct int64 internal ids (may be empty).
        num_samples: runs per set ``R``.
        key: hash key of the thresholds (default: drawn from ``generator``).
        generator: random generator the key is drawn from when ``key`` is not given (default: a
            fresh one).
        memory_budget: bytes the call may use; checked before any work.
        alpha: ``[n]`` non-negative factors ``alpha_u`` (default: all 1).
        backend: ``"auto"``, ``"torch"``, ``"native"`` or ``"triton"``, as in
            ``simulate_minimum_threshold``.
        return_blocked: also return the mean and standard error of the blocked count.
        shard: split the runs across the ranks of the process group, as in
            ``simulate_minimum_threshold``; every rank returns the one-process outputs.
        devices: split this process's runs across these devices, as in
            ``simulate_minimum_threshold``.

    Returns:
        ``(means [S], stderrs [S])`` of the active count, float64 on the CPU; with
        ``return_blocked``, ``(means, stderrs, blocked_means, blocked_stderrs)``.

    Raises:
        ValueError: as ``simulate_minimum_threshold`` (bad seeds name ``seed_sets[i]``).
        MemoryError: ``memory_budget`` too small for a single run.

    Shapes:
        seed_sets ``S`` x ``[k_s]``; every output ``[S]``.

    """
    return _estimate_sets(
        "minimum_threshold", graph, seed_sets, num_samples, key=key, generator=generator,
        memory_budget=memory_budget, alpha=alpha, backend=backend, return_blocked=return_blocked,
        shard=shard, devices=devices,
    )


def estimate_multiplication_threshold_sets(
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    key: int | None = None,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    alpha: torch.Tensor | None = None,
    backend: str = "auto",
    return_blocked: bool = False,
    shard: Any = None,
    devices: Any = None,
) -> tuple[torch.Tensor, ...]:
    """Expected multiplication-threshold spread of many seed sets in one call (CRN).

    Set ``s`` gets exactly the per-run counts of :func:`simulate_multiplication_threshold` with
    the same ``key``. Arguments, results, errors and shapes are those of
    :func:`estimate_minimum_threshold_sets`, except that ``alpha`` must be ``None`` and
    ``backend`` takes no ``"triton"``, as in :func:`simulate_multiplication_threshold`.

    """
    return _estimate_sets(
        "multiplication_threshold", graph, seed_sets, num_samples, key=key, generator=generator,
        memory_budget=memory_budget, alpha=alpha, backend=backend, return_blocked=return_blocked,
        shard=shard, devices=devices,
    )

