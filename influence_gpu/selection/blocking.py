"""Selectors for influence blocking maximization (IBM, paper B).

Given the false seeds ``S_F``, choose a truth set ``S_T`` (``|S_T| <= k``, disjoint from ``S_F``)
that maximises the blocked influence ``f(S_T | S_F)``. Every class is a
:class:`~influence_gpu.selection.base.BlockingSelector`: ``select(graph, k, *, false_seeds,
generator=None) -> SelectionResult`` with the chosen ids (in the order chosen), the method's own
estimate of each prefix (``prefix_objective``) and the time at which each prefix was complete
(``prefix_seconds``, which paper B's Table IV needs).

* :class:`NIECELF` - CELF lazy greedy with a trained NIE as the oracle (paper B, Algorithm 2);
  the stale queue heads are scored in one batched call of the featurizer.
* :class:`MCSCELF` - CELF with Monte Carlo blocked influence (batched competitive IC on common
  worlds).
* :class:`RRCELF` - max coverage over the blocking RR sketch of :mod:`influence_gpu.rr` (for a
  coverage function lazy and plain greedy pick the same sets).
* :class:`DegreeBlocking`, :class:`ProximityBlocking`, :class:`RandomBlocking` - baselines
  (in :mod:`.blocking_baselines`).

CELF's laziness is exact for submodular oracles (MC with common worlds, RR sketches); the NIE
is a regression model and not submodular in general, so NIE-CELF is, as in the paper, a lazy
heuristic (``lazy=False`` gives plain greedy over the same oracle).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from influence_gpu.diffusion._common import draw_key, make_generator
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.neighbourhoods import hop_neighbourhood
from influence_gpu.rr.blocking import sample_blocking_rr_sets, sample_blocking_world_sketch
from influence_gpu.rr.coverage import max_coverage, weighted_max_coverage
from influence_gpu.selection.base import SelectionResult, Selector, check_ids, check_k, make_result
from influence_gpu.selection.blocking_baselines import (
    DegreeBlocking,
    ProximityBlocking,
    RandomBlocking,
    candidate_list,
    note_short_of_k,
)
from influence_gpu.selection.lazy_greedy import lazy_greedy
from influence_gpu.selection.oracles import BlockedInfluenceOracle, NIEOracle

__all__ = [
    "NIECELF",
    "MCSCELF",
    "RRCELF",
    "DegreeBlocking",
    "ProximityBlocking",
    "RandomBlocking",
    "reestimate",
    "paired_differences",
]


def _generator(generator: torch.Generator | int | None, graph: DiffusionGraph) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    return make_generator(generator, graph.device)


class NIECELF(Selector):
    """NIE-CELF (paper B, Algorithm 2): CELF with the neural influence estimator as oracle.

    Args:
        nie: a trained :class:`~influence_gpu.nie.estimator.NIE` (anything with ``graph``,
            ``h``, ``featurizer.candidates(false_ids)`` and ``predict_candidates``).
        candidates: ``None`` (``N_h(S_F) - S_F``), ``"all"`` or ids.
        h: radius of the default candidates; ``None``: the NIE's own feature radius.
        batch_size: stale heads scored per featurizer call (one call costs about the same for
            1 or 256 candidates).
        lazy: CELF (default) or plain greedy over the same oracle.
        time_limit: seconds after which it stops with the seeds chosen so far.
        progress: tqdm bar.
    """

    name = "nie_celf"
    blocking = True

    def __init__(self, nie: Any, candidates: Any = None, h: int | None = None,
                 batch_size: int = 256, lazy: bool = True, time_limit: float | None = None,
                 progress: bool = False) -> None:
        self.nie = nie
        self.candidates = candidates
        self.h = h
        self.batch_size = batch_size
        self.lazy = lazy
        self.time_limit = time_limit
        self.progress = progress

    def select(self, graph: DiffusionGraph | None, k: int, *, false_seeds: Any,
               generator: torch.Generator | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds against ``false_seeds`` (internal ids).

        ``graph`` must be the NIE's graph (``None`` means that one); ``generator`` is unused
        (the NIE is deterministic). ``k`` above the number of candidates: all candidates, with a
        warning, ``finished=False`` and ``extra["short_of_k"]``.

        Raises:
            ValueError: bad ``k``, ids or candidates, or another graph than the NIE's.
        """
        t0 = time.perf_counter()
        nie_graph = self.nie.graph
        if graph is not None and graph is not nie_graph and (
            graph.content_hash() != nie_graph.content_hash()
        ):
            raise ValueError("graph is not the graph the NIE was trained for")
        graph = nie_graph
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        cand = self.candidates
        if cand is None:
            h = self.h if self.h is not None else int(self.nie.h)
            cand = (self.nie.featurizer.candidates(f) if h == int(self.nie.h)
                    else hop_neighbourhood(graph, f, h))
        cand = candidate_list(graph, f, cand, 1)
        trace = lazy_greedy(k, cand, NIEOracle(self.nie, f), batch_size=self.batch_size,
                            mode="celf" if self.lazy else "greedy", time_limit=self.time_limit,
                            progress=self.progress, desc="nie-celf")
        res = make_result(graph, self.name, trace.chosen, t0,
                          prefix_objective=trace.prefix_values,
                          prefix_seconds=trace.prefix_seconds, finished=trace.finished,
                          evaluations=trace.evaluations, oracle_calls=trace.calls,
                          extra={"num_candidates": len(cand)})
        return note_short_of_k(res, k, len(cand))


class MCSCELF(Selector):
    """MCS-CELF: CELF with Monte Carlo blocked influence on common live-edge worlds (paper B).

    Every oracle call scores its truth sets on the same ``num_samples`` worlds (one hash key
    drawn from the ``generator`` of ``select``), so the estimate is monotone and submodular in
    ``S_T`` and CELF is exact for it.

    Args:
        num_samples: worlds per evaluation.
        candidates: ``None`` (``N_h(S_F) - S_F``), ``"all"`` or ids.
        h: hops of the default candidate set.
        batch_size: stale heads simulated per call.
        time_limit: seconds after which it stops with the seeds chosen so far.
        memory_budget: bytes per simulator call.
        key: hash key of the worlds (overrides the generator).
        progress: tqdm bar.
    """

    name = "mcs_celf"
    blocking = True

    def __init__(self, num_samples: int = 100, candidates: Any = None, h: int = 2,
                 batch_size: int = 16, time_limit: float | None = None,
                 memory_budget: int | None = None, key: int | None = None,
                 progress: bool = False) -> None:
        self.num_samples = num_samples
        self.candidates = candidates
        self.h = h
        self.batch_size = batch_size
        self.time_limit = time_limit
        self.memory_budget = memory_budget
        self.key = key
        self.progress = progress

    def select(self, graph: DiffusionGraph, k: int, *, false_seeds: Any,
               generator: torch.Generator | int | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds against ``false_seeds`` (internal ids).

        ``k`` above the number of candidates: all candidates, with a warning,
        ``finished=False`` and ``extra["short_of_k"]``.

        Raises:
            ValueError: bad ``k``, ids, candidates or ``num_samples``.
        """
        t0 = time.perf_counter()
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        cand = candidate_list(graph, f, self.candidates, self.h)
        key = self.key if self.key is not None else draw_key(_generator(generator, graph))
        oracle = BlockedInfluenceOracle(graph, f, self.num_samples, key, self.memory_budget)
        trace = lazy_greedy(k, cand, oracle, batch_size=self.batch_size,
                            time_limit=self.time_limit, progress=self.progress, desc="mcs-celf")
        res = make_result(graph, self.name, trace.chosen, t0,
                          prefix_objective=trace.prefix_values,
                          prefix_seconds=trace.prefix_seconds, finished=trace.finished,
                          evaluations=trace.evaluations, oracle_calls=trace.calls,
                          extra={"num_candidates": len(cand), "num_samples": self.num_samples,
                                 "key": key})
        return note_short_of_k(res, k, len(cand))


class RRCELF(Selector):
    """RR-CELF: greedy max coverage over the blocking RR sketch (paper B's sketch peer).

    Samples ``num_sets`` blocking RR sets
    (:func:`~influence_gpu.rr.blocking.sample_blocking_rr_sets`), then picks, ``k`` times, the
    candidate covering most still-uncovered sets
    (:func:`~influence_gpu.rr.coverage.max_coverage`; exact gains, ties to the lowest id). The
    objective is ``n / theta * #covered``, an unbiased estimate of ``f(S_T | S_F)``.

    ``num_worlds=W`` (not in paper B) uses the world-rooted sketch instead
    (:func:`~influence_gpu.rr.blocking.sample_blocking_world_sketch`: the sets of every node the
    false cascade reaches in ``W`` sampled worlds, objective ``#covered / W``), which stays
    informative when ``f`` is a tiny share of ``n`` (web-Stanford).

    Args:
        num_sets: RR sets ``theta`` (uniform roots; ignored with ``num_worlds``).
        candidates: ``None`` (``N_h(S_F) - S_F``), ``"all"`` or ids.
        h: hops of the default candidate set.
        time_limit: seconds; a sketch that took longer returns no seeds (``finished=False``).
        key: hash key of the live-edge coins (overrides the generator).
        num_worlds: ``None`` (uniform roots, paper B's peer) or ``W`` (world-rooted sketch).
        roots_per_world: with ``num_worlds``: ``0`` (every reached node roots a set) or ``r``
            sampled roots per world (weighted sets; weighted greedy coverage).
    """

    name = "rr_celf"
    blocking = True

    def __init__(self, num_sets: int = 20000, candidates: Any = None, h: int = 2,
                 time_limit: float | None = None, key: int | None = None,
                 num_worlds: int | None = None, roots_per_world: int = 0) -> None:
        self.num_sets = num_sets
        self.num_worlds = num_worlds
        self.roots_per_world = roots_per_world
        self.candidates = candidates
        self.h = h
        self.time_limit = time_limit
        self.key = key

    def select(self, graph: DiffusionGraph, k: int, *, false_seeds: Any,
               generator: torch.Generator | int | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds against ``false_seeds`` (internal ids).

        ``extra["sketch_seconds"]`` is the time spent sampling the sketch. ``k`` above the
        number of candidates: all candidates, with a warning, ``finished=False`` and
        ``extra["short_of_k"]``.

        Raises:
            ValueError: bad ``k``, ids, candidates or ``num_sets``.
        """
        t0 = time.perf_counter()
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        cand = candidate_list(graph, f, self.candidates, self.h)
        gen = _generator(generator, graph)
        if self.num_worlds is None:
            sketch = sample_blocking_rr_sets(graph, f, self.num_sets, generator=gen, key=self.key)
        else:
            sketch = sample_blocking_world_sketch(graph, f, self.num_worlds, generator=gen,
                                                  key=self.key,
                                                  roots_per_world=self.roots_per_world)
        sketch_seconds = time.perf_counter() - t0
        extra = {"num_candidates": len(cand), "num_sets": sketch.num_sets,
                 "num_worlds": self.num_worlds, "sketch_seconds": sketch_seconds,
                 "key": sketch.key}
        if self.time_limit is not None and sketch_seconds > self.time_limit:
            return make_result(graph, self.name, [], t0, finished=False, extra=extra)
        if sketch.set_weights is None:
            ids, covered = max_coverage(sketch, min(k, len(cand)), candidates=cand)
        else:
            ids, covered = weighted_max_coverage(sketch, min(k, len(cand)), candidates=cand)
        values = [sketch.weight * float(c) for c in covered]
        now = time.perf_counter() - t0
        res = make_result(graph, self.name, ids, t0, prefix_objective=values,
                          prefix_seconds=[now] * len(ids),
                          evaluations=len(ids) * len(cand), extra=extra)
        return note_short_of_k(res, k, len(cand))


def _blocked_per_world(graph: DiffusionGraph, false_seeds: Any, true_seed_sets: Sequence[Any],
                       num_samples: int, key: int | None, generator: Any,
                       memory_budget: int | None) -> torch.Tensor:
    """``(len(true_seed_sets), num_samples)`` blocked counts per world, all on common worlds."""
    from influence_gpu.diffusion.competitive import _false_counts

    if key is None:
        key = draw_key(_generator(generator, graph))
    f = check_ids(graph, false_seeds, "false_seeds")
    sets = [check_ids(graph, s, "true_seeds") for s in true_seed_sets]
    # one batch: the false-only baseline and every set on the same worlds
    counts = _false_counts(graph, f, [f.new_zeros(0), *sets], num_samples, key, memory_budget)
    return (counts[:1] - counts[1:]).double()


def _mean_stderr(x: torch.Tensor) -> list[tuple[float, float]]:
    n = x.shape[1]
    se = x.std(1) / n**0.5 if n > 1 else torch.zeros(x.shape[0], dtype=x.dtype)
    return [(float(m), float(e)) for m, e in zip(x.mean(1).tolist(), se.tolist(), strict=True)]


def reestimate(
    graph: DiffusionGraph,
    false_seeds: Any,
    true_seed_sets: Sequence[Any],
    num_samples: int = 10000,
    *,
    key: int | None = None,
    generator: torch.Generator | int | None = None,
    memory_budget: int | None = None,
) -> list[tuple[float, float]]:
    """Re-estimate the blocked influence of several truth sets on common fresh worlds.

    All sets and the false-only baseline are simulated in one batch on the same worlds (as
    :func:`~influence_gpu.diffusion.estimate_blocked_influence` with one ``key`` would, without
    repeating the baseline), so differences between methods are not world noise.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        true_seed_sets: truth sets (internal ids).
        num_samples: worlds (10,000 in the benchmark).
        key: hash key of the worlds (drawn from ``generator`` when ``None``).
        generator: torch generator or seed.
        memory_budget: bytes per simulator call.

    Returns:
        ``[(mean, stderr)]`` per set.
    """
    if not true_seed_sets:
        check_ids(graph, false_seeds, "false_seeds")
        return []
    return _mean_stderr(_blocked_per_world(graph, false_seeds, true_seed_sets, num_samples, key,
                                           generator, memory_budget))


def paired_differences(
    graph: DiffusionGraph,
    false_seeds: Any,
    reference: Any,
    true_seed_sets: Sequence[Any],
    num_samples: int = 10000,
    *,
    key: int | None = None,
    generator: torch.Generator | int | None = None,
    memory_budget: int | None = None,
) -> list[tuple[float, float]]:
    """Blocked influence of ``reference`` minus that of each set, counted world by world.

    The sets share their worlds (as in :func:`reestimate`), so the standard error is that of the
    per-world difference, usually far below the stderr of either value: the test of whether one
    method's set blocks more than another's.

    Args:
        graph, false_seeds, num_samples, key, generator, memory_budget: as :func:`reestimate`.
        reference: the truth set compared (internal ids), e.g. NIE-CELF's.
        true_seed_sets: the sets it is compared with (internal ids).

    Returns:
        ``[(mean difference, stderr)]`` per set of ``true_seed_sets``.
    """
    per_world = _blocked_per_world(graph, false_seeds, [reference, *true_seed_sets], num_samples,
                                   key, generator, memory_budget)
    return _mean_stderr(per_world[:1] - per_world[1:])
