"""Spread oracles: estimate the expected spread of many candidate seed sets in one call.

Greedy and CELF ask the same question many times per round ("what is the spread of S + {v}?" for
every candidate v). A :class:`SpreadOracle` answers a whole list of such sets at once, so the
batched IC simulator (:func:`influence_gpu.diffusion.ic.simulate_ic_batch`) runs all
``S x num_samples`` diffusions together instead of one set after the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from influence_gpu.diffusion._common import check_num_samples, draw_key
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["Oracle", "SpreadOracle", "make_spread_oracle"]


@runtime_checkable
class Oracle(Protocol):
    """Anything that maps a list of seed sets to their estimated spreads.

    Shapes:
        input: ``S`` int64 tensors ``[k_i]`` of internal node ids; output: ``[S]`` float tensor.
    """

    def __call__(self, seed_sets: list[torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        """Return the estimated spread of each set."""
        ...


class SpreadOracle:
    """Monte Carlo spread oracle over a diffusion model.

    Use :func:`make_spread_oracle` to build one. ``oracle(sets)`` returns the means;
    :meth:`estimate` returns means and standard errors.

    Args:
        graph: the graph (with ``edge_prob``).
        model: diffusion model name (see :data:`influence_gpu.api.MODELS`).
        num_samples: Monte Carlo runs per set.
        generator: random generator on the graph's device.
        memory_budget: bytes one simulator call may allocate (``None``: the simulator default).
        candidate_batch: at most this many sets go into one batched IC call.
        common_random_numbers: IC only: evaluate every set, in every call, on the same
            ``num_samples`` live-edge worlds (hash coins with one key drawn at construction).
            The estimate is then a fixed monotone submodular function of the set, so CELF's
            stale gains are true upper bounds and lazy greedy picks what greedy would.
        **model_kwargs: passed to the model function (e.g. ``sampler`` for IC).

    Attributes:
        calls: number of oracle calls so far.
        evaluations: number of seed sets evaluated so far.
    """

    def __init__(
        self,
        graph: DiffusionGraph,
        model: str = "ic",
        num_samples: int = 1000,
        *,
        generator: torch.Generator | None = None,
        memory_budget: int | None = None,
        candidate_batch: int = 256,
        common_random_numbers: bool = True,
        **model_kwargs: Any,
    ) -> None:
        from influence_gpu.api import _ALIASES, resolve_model

        if not isinstance(graph, DiffusionGraph):
            raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
        self.graph = graph
        self.fn = resolve_model(model)
        self.model = _ALIASES.get(model.lower(), model.lower())
        self.num_samples = check_num_samples(num_samples)
        if isinstance(candidate_batch, bool) or not isinstance(candidate_batch, int):
            raise TypeError(f"candidate_batch must be an integer, got {candidate_batch!r}")
        if candidate_batch < 1:
            raise ValueError(f"candidate_batch must be at least 1, got {candidate_batch}")
        self.candidate_batch = candidate_batch
        self.generator = generator
        self.memory_budget = memory_budget
        self.model_kwargs = dict(model_kwargs)
        if self.model == "ic" and common_random_numbers and "sampler" not in self.model_kwargs:
            gen = generator if generator is not None else torch.Generator().manual_seed(0)
            self.model_kwargs.update(sampler="hash", key=draw_key(gen))
        self.common_random_numbers = self.model_kwargs.get("sampler") == "hash"
        self.calls = 0
        self.evaluations = 0

    def _sets(self, seed_sets: Sequence[Any]) -> list[torch.Tensor]:
        dev = self.graph.device
        return [torch.as_tensor(s, dtype=torch.long, device=dev).reshape(-1) for s in seed_sets]

    def estimate(self, seed_sets: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimate the spread of every set: ``(means [S], stderrs [S])`` (float64, CPU).

        Args:
            seed_sets: ``S`` sets of internal node ids (tensors or int sequences).

        Returns:
            Mean and standard error of the spread of each set (seeds counted as active).

        Shapes:
            seed_sets: ``S`` x ``[k_i]``; outputs ``[S]``.
        """
        sets = self._sets(seed_sets)
        self.calls += 1
        self.evaluations += len(sets)
        means = torch.empty(len(sets), dtype=torch.float64)
        stderrs = torch.empty(len(sets), dtype=torch.float64)
        opts: dict[str, Any] = dict(self.model_kwargs)
        if self.memory_budget is not None:
            opts["memory_budget"] = self.memory_budget
        if self.model == "ic":
            from influence_gpu.diffusion.ic import simulate_ic_batch

            for lo in range(0, len(sets), self.candidate_batch):
                hi = min(lo + self.candidate_batch, len(sets))
                m, s = simulate_ic_batch(
                    self.graph, sets[lo:hi], self.num_samples, generator=self.generator, **opts
                )
                means[lo:hi] = m.double().cpu()
                stderrs[lo:hi] = s.double().cpu()
        else:
            for i, seeds in enumerate(sets):
                res = self.fn(self.graph, seeds, self.num_samples, generator=self.generator, **opts)
                means[i] = float(res.mean)
                stderrs[i] = float(res.stderr)
        return means, stderrs

    def __call__(self, seed_sets: Sequence[Any]) -> torch.Tensor:
        """Return the mean spread ``[S]`` (float64, CPU) of each seed set."""
        return self.estimate(seed_sets)[0]

    def __repr__(self) -> str:
        return (
            f"SpreadOracle(model={self.model!r}, num_samples={self.num_samples}, "
            f"candidate_batch={self.candidate_batch}, "
            f"common_random_numbers={self.common_random_numbers})"
        )


def make_spread_oracle(
    graph: DiffusionGraph,
    model: str = "ic",
    num_samples: int = 1000,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    candidate_batch: int = 256,
    common_random_numbers: bool = True,
    **model_kwargs: Any,
) -> SpreadOracle:
    """Build a Monte Carlo spread oracle for greedy / CELF (Kempe et al. 2003).

    For ``model="ic"`` every call is one (or, past ``candidate_batch`` sets, a few) batched
    :func:`~influence_gpu.diffusion.ic.simulate_ic_batch` calls; other models are evaluated set
    by set with their batched simulator.

    Args:
        graph: graph with ``edge_prob``.
        model: diffusion model name.
        num_samples: Monte Carlo runs per set.
        generator: random generator on the graph's device.
        memory_budget: bytes one simulator call may allocate.
        candidate_batch: maximum number of sets per batched IC call.
        common_random_numbers: IC only; see :class:`SpreadOracle`.
        **model_kwargs: passed to the simulator.

    Returns:
        A :class:`SpreadOracle`; ``oracle(sets) -> Tensor[S]``.

    Raises:
        ValueError: unknown model, ``num_samples < 1`` or ``candidate_batch < 1``.
    """
    return SpreadOracle(
        graph,
        model,
        num_samples,
        generator=generator,
        memory_budget=memory_budget,
        candidate_batch=candidate_batch,
        common_random_numbers=common_random_numbers,
        **model_kwargs,
    )
