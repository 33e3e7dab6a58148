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
float64 and the weights are multiples of ``2**-52``, so the sums are exact and the outcome does
not depend on the order of the additions (which ``index_add_`` on a GPU does not fix).

Thresholds drawn from ``generator`` come from counter-based hashing of ``(key, run, node)`` with
one key per call (:func:`draw_thresholds`), so the outcome of a call does not depend on how the
runs are chunked: a smaller ``memory_budget`` gives the same numbers. A fixed ``key`` gives the
same thresholds in every call, and :func:`estimate_lt_sets` scores many seed sets on them
(common random numbers: run ``r`` of every set uses the same thresholds).

Backends (``backend=``, chosen by :func:`influence_gpu.kernels.backend.choose_backend`): on a CPU
graph ``"auto"`` runs the native C++/OpenMP kernel (``_native/lt_kernel.cpp``: one
level-synchronous search per run, ``O(n)`` state per thread, runs spread over
:func:`~influence_gpu.kernels.native.native_threads` threads); on a CUDA graph it runs the
Triton kernels (``_triton/lt.py``: the pushes of a step as float64 atomic adds, then one launch
that tests every reached slot against its threshold, hashed in-kernel), which also run on CPU
tensors under ``TRITON_INTERPRET=1`` when forced with ``backend="triton"``; else the torch
engine above. All give the same runs bit for bit given the same thresholds: the weights are
summed as float64 multiples of ``2**-52`` (:func:`~._threshold_engine.lt_weights`; weights
below ``2**-29`` are rounded up to that grid), so every partial sum is exact and no outcome
depends on the order of the additions, on any backend or device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.diffusion._common import check_num_samples
from influence_gpu.diffusion._threshold_engine import (
    as_runs,
    draw_thresholds,
    initial_state,
    seed_ids,
    simulate_sets,
    summarize_runs,
)
from influence_gpu.diffusion._threshold_engine import push as _push
from influence_gpu.diffusion.results import SpreadResult, summarize
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.probabilities import check_lt_weights
from influence_gpu.kernels.backend import BACKENDS

__all__ = ["simulate_lt", "estimate_lt_sets", "draw_thresholds"]


# ----------------------------------------------------------------------------------------- LT
def _lt_chunk(
    graph: DiffusionGraph,
    weight: torch.Tensor,
    alpha: None,
    seeds: torch.Tensor,
    theta: torch.Tensor,
    work: int,
    provenance: bool,
) -> tuple[torch.Tensor, None, torch.Tensor | None, torch.Tensor | None, int]:
    """One chunk of ``C = theta.shape[0]`` LT runs: ``(active, None, step, parent, steps)``.

    The :data:`~._threshold_engine.TorchChunk` of LT (no factors ``alpha``, no blocked state).
    State is kept as flat ``[C * n]`` views; each step only touches the slots the frontier's
    out-edges reach, so its cost follows the frontier, not ``C * n``.
    """
    C, n = theta.shape
    device = theta.device
    theta = theta.reshape(-1)
    frontier, active, step, parent, cand = initial_state(C, n, seeds, provenance, device)
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
    return active.view(C, n), None, as_runs(step, C, n), as_runs(parent, C, n), max(t - 1, 0)


def _check_call(
    graph: DiffusionGraph, num_samples: Any, backend: Any, provenance: Any
) -> tuple[int, bool]:
    num_samples = check_num_samples(num_samples)
    _v.check_choice(backend, "backend", BACKENDS)
    provenance = _v.check_bool(provenance, "return_provenance")
    check_lt_weights(graph, tol=1e-6)
    return num_samples, provenance


def simulate_lt(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    thresholds: torch.Tensor | None = None,
    key: int | None = None,
    return_provenance: bool = False,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
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
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`). Every allocation is
            counted (per-graph arrays of the native kernel included); torch runs are split into
            chunks that fit, and a budget too small for one run is refused before any work.
        thresholds: injected thresholds ``[R, n]`` in ``[0, 1]`` (run ``r`` uses row ``r``); makes
            the outcome exact. Default: ``theta ~ U(0, 1]`` drawn once per run.
        key: hash key of the thresholds (:func:`draw_thresholds`); the same key gives the same
            runs in every call (default: drawn from ``generator``). Not with ``thresholds``.
        return_provenance: also return per-run activation steps and parents.
        backend: ``"auto"`` (the native kernel on a CPU graph when it builds, the Triton
            kernels on a CUDA graph when triton imports, else torch), ``"torch"`` (the tensor
            engine), ``"native"`` or ``"triton"`` (require that kernel; Triton also runs on CPU
            tensors under ``TRITON_INTERPRET=1``).
        shard: ``None`` (one process), ``"auto"`` or ``(rank, world)``: split the runs across
            the ranks of the ``torch.distributed`` process group and gather them, so every rank
            returns what one process computes (a collective call; the thresholds are hashed from
            ``(key, run, node)``, and injected ``thresholds`` are cut by run, so every rank
            passes all ``R`` rows). See :mod:`influence_gpu.diffusion._runs`.
        devices: split this process's runs across these devices (e.g. ``["cuda:0",
            "cuda:1"]``), one contiguous piece each, run one after another; the result equals
            one device's. ``None``: the graph's device. Neither ``shard`` nor ``devices`` takes
            ``return_provenance``.

    Returns:
        :class:`SpreadResult` with ``model="lt"``, mean and standard error of the number of
        active nodes (seeds included), ``node_prob [n]``, ``spreads [R]`` (int64, CPU) and
        ``extra["max_steps"]`` (last step at which any run activated a node), ``"backend"`` and
        ``"runs_per_chunk"``. With provenance, ``activation_step [R, n]`` (int32; 0 seeds, -1
        never) and ``parent [R, n]`` (int64): for a node activated at step ``t``, the
        lowest-numbered in-neighbour with positive weight among those activated at step
        ``t - 1`` (the last ones to contribute, whose weight took ``acc_v`` over the threshold);
        -1 for seeds and inactive nodes. Both on the CPU.

    Raises:
        ValueError: missing weights, in-weights above 1 (naming the node), bad seeds,
            ``num_samples`` or ``backend``, thresholds of the wrong shape or outside ``[0, 1]``,
            both ``thresholds`` and ``key``, ``backend="native"`` on a non-CPU graph,
            ``backend="triton"`` without triton or on a CPU graph outside the interpreter, bad
            ``shard`` or ``devices``, or provenance with either.
        MemoryError: ``memory_budget`` too small for a single run.
        RuntimeError: ``backend="native"`` and the kernel cannot be built.

    Shapes:
        seeds ``[k]``; thresholds ``[R, n]``; node_prob ``[n]``; spreads ``[R]``;
        activation_step / parent ``[R, n]``.

    """
    num_samples, provenance = _check_call(graph, num_samples, backend, return_provenance)
    n, device = graph.num_nodes, graph.device
    seeds = seed_ids(seeds, n, device)
    out, info = simulate_sets(
        "lt", graph, [seeds], num_samples, _lt_chunk, generator=generator, thresholds=thresholds,
        key=key, memory_budget=memory_budget, backend=backend, provenance=provenance,
        shard=shard, devices=devices,
    )
    mean, stderr = summarize(out["spreads"])
    return SpreadResult(
        mean=mean,
        stderr=stderr,
        num_samples=num_samples,
        node_prob=(out["node_count"].double() / num_samples).float(),
        spreads=out["spreads"],
        model="lt",
        activation_step=out["step"],
        parent=out["parent"],
        extra={"max_steps": out["max_steps"], **info},
    )


def estimate_lt_sets(
    graph: DiffusionGraph,
    seed_sets: Sequence[torch.Tensor],
    num_samples: int,
    *,
    key: int | None = None,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    backend: str = "auto",
    shard: Any = None,
    devices: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected LT spread of many seed sets in one call, with common random numbers.

    Run ``r`` of every set uses the thresholds ``draw_thresholds(key, r, ...)``, so the
    differences between sets are not masked by sampling noise (the oracle behind greedy / CELF).
    Set ``s`` gets exactly the per-run counts of ``simulate_lt(graph, seed_sets[s],
    num_samples, key=key)`` on either backend.

    Args:
        graph: graph with LT weights (in-weights of each node summing to at most ``1 + 1e-6``).
        seed_sets: ``S`` seed sets, each ``[k_s]`` distinct int64 internal ids (may be empty).
        num_samples: runs per set ``R``.
        key: hash key of the thresholds (default: drawn from ``generator``).
        generator: random generator the key is drawn from when ``key`` is not given (default: a
            fresh one).
        memory_budget: bytes the call may use (default
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`); checked before any
            work.
        backend: ``"auto"``, ``"torch"``, ``"native"`` or ``"triton"``, as in
            :func:`simulate_lt`.
        shard: split the runs across the ranks of the process group, as in
            :func:`simulate_lt`; every rank returns the one-process means and stderrs.
        devices: split this process's runs across these devices, as in :func:`simulate_lt`.

    Returns:
        ``(means [S], stderrs [S])``: float64 on the CPU.

    Raises:
        ValueError: as :func:`simulate_lt` (bad seeds name ``seed_sets[i]``).
        MemoryError: ``memory_budget`` too small for a single run.

    Shapes:
        seed_sets ``S`` x ``[k_s]``; returns ``[S]`` and ``[S]``.

    """
    num_samples, _ = _check_call(graph, num_samples, backend, False)
    n, device = graph.num_nodes, graph.device
    sets = [seed_ids(s, n, device, f"seed_sets[{i}]") for i, s in enumerate(seed_sets)]
    S = len(sets)
    if S == 0:
        return torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
    out, _ = simulate_sets(
        "lt", graph, sets, num_samples, _lt_chunk, generator=generator, thresholds=None, key=key,
        memory_budget=memory_budget, backend=backend, shard=shard, devices=devices,
    )
    return summarize_runs(out["spreads"], S)
