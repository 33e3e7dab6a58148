"""Diffusion objects: one small class per model, holding its options, built from config.

A :class:`Diffusion` names a model and carries every option of its simulator (``num_samples``,
``memory_budget`` and the model's own keywords), so a selector or an app receives one object
instead of a model string. ``conf/diffusion/<name>.yaml`` has ``_target_`` = the class and one key
per constructor argument; :func:`influence_gpu.api.simulate` maps ``model="ic"`` to the same
classes (the API edge is the only place that resolves names).

The objects are thin: :meth:`Diffusion.simulate` calls the model's batched simulator of
:mod:`influence_gpu.diffusion` with the stored options, and :meth:`Diffusion.estimate` scores many
seed sets in one call of the model's batched entry (the sets run as virtual runs on common random
numbers: run ``r`` of every set uses the same coins or thresholds); options the batched entry does
not take (injected coins or thresholds, provenance) fall back to one simulation per set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch

from influence_gpu.diffusion._common import check_num_samples, draw_key
from influence_gpu.diffusion.results import SpreadResult
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.validation import check_memory_budget

__all__ = [
    "Diffusion",
    "IndependentCascade",
    "LinearThreshold",
    "TemporalIC",
    "MinimumThreshold",
    "MultiplicationThreshold",
    "SignedFirstArrival",
]


class Diffusion:
    """A diffusion model with its options (base class; use a subclass).

    Args:
        num_samples: Monte Carlo runs per evaluation (>= 1).
        memory_budget: bytes one simulator call may allocate (``None``: the library default).
        **options: keywords of the model's simulator (e.g. ``sampler`` / ``backend`` for IC).

    Attributes:
        name: the model's name (``"ic"``, ``"lt"``, ...), as :data:`influence_gpu.api.MODELS`.
        submodular: whether the expected spread is submodular in the seed set (CELF's laziness
            is exact only then; DESIGN 7.1).
        blocks: whether the model has a blocked state (its results carry ``blocked_mean``).
        shardable: whether its simulator takes ``shard`` (runs split across the ranks of a
            ``torch.distributed`` group; :mod:`influence_gpu.diffusion._runs`).
    """

    name: ClassVar[str] = ""
    submodular: ClassVar[bool] = True
    blocks: ClassVar[bool] = False
    shardable: ClassVar[bool] = False

    def __init__(
        self, num_samples: int = 1000, memory_budget: int | None = None, **options: Any
    ) -> None:
        self.num_samples = check_num_samples(num_samples)
        self.memory_budget = check_memory_budget(memory_budget)
        self.options = dict(options)

    # the batched simulator of the model: fn(graph, seeds, num_samples, *, generator, ...)
    @staticmethod
    def _function() -> Callable[..., SpreadResult]:  # pragma: no cover - overridden
        raise TypeError("Diffusion is abstract: use IndependentCascade, LinearThreshold, ...")

    #: keywords of the model's many-sets entry (``None``: the model has none)
    _set_options: ClassVar[frozenset[str] | None] = None

    # the many-sets entry: fn(graph, seed_sets, num_samples, *, generator, ...) -> (means, stderrs)
    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        # only called when _set_options is set, which every subclass with an entry does
        raise TypeError("this diffusion has no many-sets entry; estimate runs set by set")

    def _kwargs(self, extra: dict[str, Any]) -> dict[str, Any]:
        opts = dict(self.options)
        if self.memory_budget is not None:
            opts["memory_budget"] = self.memory_budget
        opts.update(extra)
        return opts

    def simulate(
        self,
        graph: DiffusionGraph,
        seeds: torch.Tensor,
        num_samples: int | None = None,
        *,
        generator: torch.Generator | None = None,
        **extra: Any,
    ) -> SpreadResult:
        """Simulate the model from ``seeds`` (internal ids) with the stored options.

        Args:
            graph: the graph.
            seeds: ``[k]`` int64 internal ids.
            num_samples: runs (default: the object's ``num_samples``).
            generator: random generator on the graph's device.
            **extra: options for this call only (override the stored ones).

        Returns:
            The model's :class:`~influence_gpu.diffusion.results.SpreadResult`.
        """
        runs = self.num_samples if num_samples is None else check_num_samples(num_samples)
        return self._function()(graph, seeds, runs, generator=generator, **self._kwargs(extra))

    def estimate(
        self,
        graph: DiffusionGraph,
        seed_sets: Sequence[torch.Tensor],
        num_samples: int | None = None,
        *,
        generator: torch.Generator | None = None,
        **extra: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard error of the spread of every set: ``(means [S], stderrs [S])``.

        One call of the model's many-sets entry when it has one and every option is one it
        takes (common random numbers across the sets); otherwise set after set.

        Shapes:
            seed_sets: ``S`` x ``[k_i]``; outputs ``[S]`` float64 on the CPU.
        """
        runs = self.num_samples if num_samples is None else check_num_samples(num_samples)
        opts = {k: v for k, v in self._kwargs(extra).items() if k != "return_provenance"
                or v}
        if self._set_options is not None and set(opts) <= self._set_options:
            return self._sets_function()(graph, list(seed_sets), runs, generator=generator,
                                         **opts)
        means = torch.empty(len(seed_sets), dtype=torch.float64)
        stderrs = torch.empty(len(seed_sets), dtype=torch.float64)
        for i, seeds in enumerate(seed_sets):
            res = self.simulate(graph, seeds, num_samples, generator=generator, **extra)
            means[i] = float(res.mean)
            stderrs[i] = float(res.stderr)
        return means, stderrs

    def common_random_numbers(self, generator: torch.Generator | None) -> dict[str, Any]:
        """Options that make every later call use the same sampled worlds, or ``{}``.

        A hash key drawn from ``generator`` (``{"key": ...}``; IC adds ``sampler="hash"``) for the
        models whose randomness is counter-based: run ``r`` then draws the same coins or
        thresholds in every call. ``{}`` when the options already fix the randomness (a key,
        injected thresholds or coins) or the model has no key (signed first arrival).
        """
        fixed = {"key", "thresholds", "edge_uniforms"} & set(self.options)
        if self._set_options is None or "key" not in self._set_options or fixed:
            return {}
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        return {"key": draw_key(gen)}

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (f"{type(self).__name__}(num_samples={self.num_samples}, "
                f"memory_budget={self.memory_budget!r}{opts})")


class IndependentCascade(Diffusion):
    """Independent cascade (Kempe et al. 2003); options of :func:`~.ic.simulate_ic`."""

    name = "ic"
    shardable = True

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.ic import simulate_ic

        return simulate_ic

    _set_options = frozenset(
        {"memory_budget", "sampler", "key", "backend", "shard", "devices"}
    )

    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        from influence_gpu.diffusion.ic import simulate_ic_batch

        return simulate_ic_batch

    def common_random_numbers(self, generator: torch.Generator | None) -> dict[str, Any]:
        """Hash coins with one key: every call then samples the same live-edge worlds."""
        if "sampler" in self.options:
            return {}
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        return {"sampler": "hash", "key": draw_key(gen)}


class LinearThreshold(Diffusion):
    """Linear threshold; options of :func:`~.lt.simulate_lt` (needs in-weights <= 1)."""

    name = "lt"
    shardable = True

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.lt import simulate_lt

        return simulate_lt

    _set_options = frozenset({"memory_budget", "key", "backend", "shard", "devices"})

    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        from influence_gpu.diffusion.lt import estimate_lt_sets

        return estimate_lt_sets


class TemporalIC(Diffusion):
    """Temporal IC, ICT (paper E); options of :func:`~.temporal.simulate_temporal_ic`."""

    name = "temporal_ic"
    shardable = True

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.temporal import simulate_temporal_ic

        return simulate_temporal_ic

    _set_options = frozenset(
        {"memory_budget", "key", "backend", "start_time", "strict", "shard", "devices"}
    )

    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        from influence_gpu.diffusion.temporal import estimate_temporal_ic_sets

        return estimate_temporal_ic_sets


class MinimumThreshold(Diffusion):
    """Minimum threshold (paper D; not submodular); options of its simulator."""

    name = "minimum_threshold"
    submodular = False
    blocks = True
    shardable = True

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.threshold import simulate_minimum_threshold

        return simulate_minimum_threshold

    _set_options = frozenset({"memory_budget", "key", "backend", "alpha", "shard", "devices"})

    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        from influence_gpu.diffusion.threshold import estimate_minimum_threshold_sets

        return estimate_minimum_threshold_sets


class MultiplicationThreshold(Diffusion):
    """Multiplication threshold (paper D; not submodular); options of its simulator."""

    name = "multiplication_threshold"
    submodular = False
    blocks = True
    shardable = True

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.threshold import simulate_multiplication_threshold

        return simulate_multiplication_threshold

    _set_options = frozenset({"memory_budget", "key", "backend", "alpha", "shard", "devices"})

    @staticmethod
    def _sets_function() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
        from influence_gpu.diffusion.threshold import estimate_multiplication_threshold_sets

        return estimate_multiplication_threshold_sets


class SignedFirstArrival(Diffusion):
    """Signed first arrival (paper C; deterministic); options of its simulator."""

    name = "signed"
    submodular = False

    def __init__(self, num_samples: int = 1, memory_budget: int | None = None,
                 **options: Any) -> None:
        super().__init__(num_samples, memory_budget, **options)

    @staticmethod
    def _function() -> Callable[..., SpreadResult]:
        from influence_gpu.diffusion.signed import simulate_signed

        return simulate_signed
