"""Simulation-based greedy selectors: plain greedy, CELF and CELF++ over a Monte Carlo oracle.

Each class runs the one engine of :mod:`influence_gpu.selection.lazy_greedy` over a Monte Carlo
oracle of its :class:`~influence_gpu.diffusion.base.Diffusion` (Kempe et al. 2003; Leskovec et
al. 2007; Goyal et al. 2011): by default a
:class:`~influence_gpu.selection.oracles.SpreadOracle`; with ``oracle="partition"`` the batched
:class:`~influence_gpu.selection.community.PartitionOracle` over the weakly connected parts
(paper D's greedy and CELF++: the threshold models scored on one set of threshold draws, every
round in a few simulator calls). With IC and common random numbers (the default) the oracle is a
fixed submodular function and the three choose the same seeds.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

import torch

from influence_gpu.diffusion.base import Diffusion
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import (
    SelectionResult,
    Selector,
    check_graph,
    check_k,
    make_result,
)
from influence_gpu.selection.community import PartitionOracle
from influence_gpu.selection.lazy_greedy import check_candidates, lazy_greedy
from influence_gpu.selection.oracles import SpreadOracle

__all__ = ["Greedy", "CELF", "CELFPP"]

#: Values of the greedy selectors' ``oracle`` argument.
_ORACLES: tuple[str, ...] = ("spread", "partition")


class _MonteCarloGreedy(Selector):
    """Shared constructor and ``select`` of the three greedy selectors."""

    mode: ClassVar[str] = "celf"

    def __init__(
        self,
        diffusion: Diffusion | None = None,
        *,
        candidates: Any = None,
        batch_size: int = 8,
        candidate_batch: int = 256,
        common_random_numbers: bool = True,
        time_limit: float | None = None,
        progress: bool = True,
        oracle: Literal["spread", "partition"] = "spread",
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if oracle not in _ORACLES:
            raise ValueError(f"oracle must be one of {', '.join(map(repr, _ORACLES))}, got "
                             f"{oracle!r}")
        self.diffusion = diffusion
        self.candidates = candidates
        self.batch_size = batch_size
        self.candidate_batch = candidate_batch
        self.common_random_numbers = common_random_numbers
        self.time_limit = time_limit
        self.progress = progress
        self.oracle = oracle

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds (internal ids and labels in the result).

        Args:
            graph: the graph with ``edge_prob``.
            k: number of seeds, at most the number of candidates.
            generator: random generator of the oracle's simulations (and its hash key).

        Returns:
            :class:`SelectionResult`; ``prefix_objective`` is the oracle's spread of each prefix.

        Raises:
            ValueError: ``k`` out of range, bad candidates.
            TypeError: ``oracle="partition"`` with a model other than IC, LT, minimum or
                multiplication threshold.
        """
        t0 = time.perf_counter()
        graph = check_graph(graph)
        cand = check_candidates(self.candidates, graph.num_nodes)
        k = check_k(k, len(cand), "the number of candidates")
        oracle: Any
        if self.oracle == "partition":
            oracle = PartitionOracle(graph, self.diffusion, generator=generator,
                                     common_random_numbers=self.common_random_numbers)
        else:
            oracle = SpreadOracle(graph, self.diffusion, generator=generator,
                                  candidate_batch=self.candidate_batch,
                                  common_random_numbers=self.common_random_numbers)
        trace = lazy_greedy(k, cand, oracle, mode=self.mode, batch_size=self.batch_size,
                            time_limit=self.time_limit, progress=self.progress)
        extra: dict[str, Any] = {"oracle": repr(oracle)}
        if self.mode != "greedy":
            extra["batch_size"] = self.batch_size
        if self.mode == "celf_pp":
            extra["free_updates"] = trace.free_updates
        return make_result(graph, self.name, trace.chosen, t0,
                           prefix_objective=trace.prefix_values,
                           prefix_seconds=trace.prefix_seconds, finished=trace.finished,
                           evaluations=trace.evaluations, oracle_calls=trace.calls, extra=extra)


class Greedy(_MonteCarloGreedy):
    """Plain greedy hill climbing (Kempe, Kleinberg, Tardos 2003).

    Every round scores ``S + {v}`` for all remaining candidates in one oracle call; the
    reference for non-submodular models. Args as :class:`CELF` (``batch_size`` unused).
    """

    name = "greedy"
    mode = "greedy"


class CELF(_MonteCarloGreedy):
    """Lazy greedy, CELF (Leskovec, Krause, Guestrin, Faloutsos, VanBriesen, Glance 2007).

    Args:
        diffusion: model and options of the Monte Carlo oracle (default: IC, 1,000 runs).
        candidates: node ids to choose from (default: all nodes).
        batch_size: stale queue heads re-scored per oracle call (1 is classic CELF).
        candidate_batch: at most this many sets per batched IC call (``"spread"`` oracle).
        common_random_numbers: score every set on the same randomness (exact laziness): IC
            worlds for ``"spread"``, LT / threshold-model thresholds for ``"partition"``.
        time_limit: seconds after which it stops with the seeds chosen so far.
        progress: tqdm bar.
        oracle: ``"spread"`` (:class:`~influence_gpu.selection.oracles.SpreadOracle`) or
            ``"partition"`` (:class:`~influence_gpu.selection.community.PartitionOracle` over
            the weakly connected parts: the same spread, batched across sets and parts, with
            cached part values; IC, LT, minimum and multiplication threshold only).

    Raises:
        ValueError: ``batch_size`` not a positive integer, an unknown ``oracle``.
    """

    name = "celf"
    mode = "celf"


class CELFPP(_MonteCarloGreedy):
    """CELF++ (Goyal, Lu, Lakshmanan, WWW 2011), batched; args as :class:`CELF`.

    ``extra["free_updates"]`` counts the gains read from ``mg2`` without an oracle call.
    """

    name = "celf_pp"
    mode = "celf_pp"
