"""Marginal oracles: the value of ``base + {v}`` for many candidates ``v`` in one call.

The greedy engine (:mod:`influence_gpu.selection.lazy_greedy`) asks one question many times per
round: "what is ``f(S + {v})`` for every candidate ``v``?". A :class:`MarginalOracle` answers a
whole batch at once, so the batched simulators run all ``|batch| x num_samples`` diffusions
together.

* :class:`SpreadOracle` - Monte Carlo expected spread under a
  :class:`~influence_gpu.diffusion.base.Diffusion` (IC on common worlds by default).
* :class:`BlockedInfluenceOracle` - Monte Carlo blocked influence ``f(S_T | S_F)`` (paper B) on
  common worlds.
* :class:`NIEOracle` - a trained Neural Influence Estimator's prediction (paper B).
* :class:`CoverageOracle` - ``n / theta * #covered`` on a reverse-reachable sketch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from influence_gpu.diffusion.base import Diffusion, IndependentCascade
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "MarginalOracle",
    "SpreadOracle",
    "BlockedInfluenceOracle",
    "NIEOracle",
    "CoverageOracle",
]


@runtime_checkable
class MarginalOracle(Protocol):
    """``values(base, candidates) -> [C]``: the objective of ``base + {c}`` for each ``c``.

    Shapes:
        base: ``[k]`` ids; candidates: ``[C]`` ids; output ``[C]`` float.
    """

    def values(
        self, base: Sequence[int], candidates: Sequence[int]
    ) -> torch.Tensor:  # pragma: no cover - protocol
        """Objective of ``base + {c}`` for every candidate ``c``."""
        ...


class SpreadOracle:
    """Monte Carlo expected spread of many seed sets per call.

    Args:
        graph: the graph (with ``edge_prob``).
        diffusion: the model and its options (default: :class:`IndependentCascade` with 1,000
            runs).
        generator: random generator on the graph's device.
        candidate_batch: at most this many sets go into one batched IC call.
        common_random_numbers: IC only: evaluate every set, in every call, on the same
            ``num_samples`` live-edge worlds (hash coins with one key drawn from ``generator``
            at construction). The estimate is then a fixed monotone submodular function of the
            set, so CELF's stale gains are true upper bounds and lazy greedy picks what greedy
            would.

    Attributes:
        calls: number of :meth:`estimate` calls so far.
        evaluations: number of seed sets evaluated so far.
    """

    def __init__(
        self,
        graph: DiffusionGraph,
        diffusion: Diffusion | None = None,
        *,
        generator: torch.Generator | None = None,
        candidate_batch: int = 256,
        common_random_numbers: bool = True,
    ) -> None:
        if not isinstance(graph, DiffusionGraph):
            raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
        diffusion = IndependentCascade() if diffusion is None else diffusion
        if not isinstance(diffusion, Diffusion):
            raise TypeError(f"diffusion must be a Diffusion object (e.g. IndependentCascade()), "
                            f"got {type(diffusion).__name__}")
        if isinstance(candidate_batch, bool) or not isinstance(candidate_batch, int):
            raise TypeError(f"candidate_batch must be an integer, got {candidate_batch!r}")
        if candidate_batch < 1:
            raise ValueError(f"candidate_batch must be at least 1, got {candidate_batch}")
        self.graph = graph
        self.diffusion = diffusion
        self.generator = generator
        self.candidate_batch = candidate_batch
        self._crn = diffusion.common_random_numbers(generator) if common_random_numbers else {}
        self.common_random_numbers = (
            self._crn.get("sampler", diffusion.options.get("sampler")) == "hash"
        )
        self.calls = 0
        self.evaluations = 0

    def _sets(self, seed_sets: Sequence[Any]) -> list[torch.Tensor]:
        dev = self.graph.device
        return [torch.as_tensor(s, dtype=torch.long, device=dev).reshape(-1) for s in seed_sets]

    def estimate(self, seed_sets: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard error of the spread of every set: ``(means [S], stderrs [S])``.

        Args:
            seed_sets: ``S`` sets of internal node ids (tensors or int sequences).

        Returns:
            float64 CPU tensors (seeds counted as active).

        Shapes:
            seed_sets: ``S`` x ``[k_i]``; outputs ``[S]``.
        """
        sets = self._sets(seed_sets)
        self.calls += 1
        self.evaluations += len(sets)
        means = torch.empty(len(sets), dtype=torch.float64)
        stderrs = torch.empty(len(sets), dtype=torch.float64)
        for lo in range(0, len(sets), self.candidate_batch):
            hi = min(lo + self.candidate_batch, len(sets))
            m, s = self.diffusion.estimate(
                self.graph, sets[lo:hi], generator=self.generator, **self._crn
            )
            means[lo:hi] = m.double().cpu()
            stderrs[lo:hi] = s.double().cpu()
        return means, stderrs

    def __call__(self, seed_sets: Sequence[Any]) -> torch.Tensor:
        """Mean spread ``[S]`` (float64, CPU) of each seed set."""
        return self.estimate(seed_sets)[0]

    def values(self, base: Sequence[int], candidates: Sequence[int]) -> torch.Tensor:
        """Spread of ``base + {c}`` for every candidate ``c`` (one batched call)."""
        base = list(base)
        return self.estimate([[*base, c] for c in candidates])[0]

    def __repr__(self) -> str:
        return (f"SpreadOracle({self.diffusion!r}, candidate_batch={self.candidate_batch}, "
                f"common_random_numbers={self.common_random_numbers})")


class BlockedInfluenceOracle:
    """Monte Carlo blocked influence ``f(S_T | S_F)`` of many truth sets on common worlds.

    Every call runs :func:`~influence_gpu.diffusion.competitive.blocked_influence_batch` with
    one hash key, so all truth sets are scored on the same ``num_samples`` worlds (the estimate
    is then monotone and submodular in ``S_T`` for a fixed key, and CELF is exact).

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: ``[k_F]`` internal ids of ``S_F``.
        num_samples: worlds per evaluation.
        key: hash key of the worlds.
        memory_budget: bytes per simulator call.
    """

    def __init__(self, graph: DiffusionGraph, false_seeds: torch.Tensor, num_samples: int,
                 key: int, memory_budget: int | None = None) -> None:
        self.graph = graph
        self.false_seeds = false_seeds
        self.num_samples = num_samples
        self.key = key
        self.memory_budget = memory_budget

    def values(self, base: Sequence[int], candidates: Sequence[int]) -> torch.Tensor:
        """Blocked influence of ``base + {c}`` for every candidate ``c``."""
        from influence_gpu.diffusion.competitive import blocked_influence_batch

        dev = self.graph.device
        sets = [torch.tensor([*base, v], dtype=torch.long, device=dev) for v in candidates]
        return blocked_influence_batch(self.graph, self.false_seeds, sets, self.num_samples,
                                       key=self.key, memory_budget=self.memory_budget)


class NIEOracle:
    """A trained NIE's predicted blocked influence of ``base + {c}`` (paper B, Algorithm 2).

    Args:
        nie: anything with ``graph`` and ``predict_candidates(false_ids, base, candidates)``
            (a :class:`~influence_gpu.nie.estimator.NIE`); one featurizer call scores a batch.
        false_seeds: ``[k_F]`` internal ids of ``S_F``.
    """

    def __init__(self, nie: Any, false_seeds: torch.Tensor) -> None:
        self.nie = nie
        self.false_seeds = false_seeds

    def values(self, base: Sequence[int], candidates: Sequence[int]) -> torch.Tensor:
        """The NIE's prediction for ``base + {c}`` for every candidate ``c``."""
        dev = self.nie.graph.device
        b = torch.tensor(list(base), dtype=torch.long, device=dev)
        c = torch.tensor(list(candidates), dtype=torch.long, device=dev)
        return self.nie.predict_candidates(self.false_seeds, b, c)


class CoverageOracle:
    """``n / theta * #{RR sets hit by base + {c}}`` on a reverse-reachable sketch.

    Args:
        sketch: anything with ``num_nodes``, ``num_sets`` and CSR ``ptr`` / ``nodes`` (an RR
            sketch of :mod:`influence_gpu.rr`).
    """

    def __init__(self, sketch: Any) -> None:
        self.sketch = sketch
        sizes = sketch.ptr[1:] - sketch.ptr[:-1]
        self._owner = torch.arange(sketch.num_sets, device=sketch.ptr.device).repeat_interleave(
            sizes)

    def values(self, base: Sequence[int], candidates: Sequence[int]) -> torch.Tensor:
        """Estimated spread of ``base + {c}`` for every candidate ``c``."""
        sk = self.sketch
        nodes = sk.nodes.long()
        mark = torch.zeros(sk.num_nodes, dtype=torch.bool, device=nodes.device)
        mark[torch.as_tensor(list(base), dtype=torch.long, device=nodes.device)] = True
        covered = torch.zeros(sk.num_sets, dtype=torch.bool, device=nodes.device)
        covered[self._owner[mark[nodes]]] = True
        live = ~covered[self._owner]
        gains = torch.bincount(nodes[live], minlength=sk.num_nodes)
        cand = torch.as_tensor(list(candidates), dtype=torch.long, device=nodes.device)
        counts = int(covered.sum()) + gains[cand]
        return sk.num_nodes * counts.double() / sk.num_sets
