"""Result containers returned by the simulators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["SpreadResult", "ThresholdResult", "CompetitiveResult", "summarize"]


def summarize(spreads: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error of per-run counts ``[R]`` (stderr 0 for a single run)."""
    x = spreads.double()
    r = x.numel()
    mean = float(x.mean())
    stderr = float(x.std(unbiased=True) / r**0.5) if r > 1 else 0.0
    return mean, stderr


def spread_result(spreads: torch.Tensor, model: str, **fields: Any) -> SpreadResult:
    """A :class:`SpreadResult` of the per-run counts ``spreads [R]`` (mean and stderr from them).

    Args:
        spreads: ``[R]`` active count of each run.
        model: model name.
        **fields: the other fields of :class:`SpreadResult` (``node_prob``, ``extra``, ...).

    Returns:
        the result, with ``num_samples = R``.
    """
    mean, stderr = summarize(spreads)
    return SpreadResult(
        mean=mean, stderr=stderr, num_samples=spreads.numel(), spreads=spreads, model=model,
        **fields,
    )


@dataclass
class SpreadResult:
    """Outcome of ``num_samples`` independent runs of a single-cascade model.

    Attributes:
        mean: mean number of active nodes per run (seeds included).
        stderr: standard error of ``mean``.
        num_samples: number of runs ``R``.
        node_prob: ``[n]`` share of runs in which each node ended active.
        spreads: ``[R]`` active count of each run.
        model: model name.
        activation_step: ``[R, n]`` int32 step at which each node became active (0 for seeds,
            -1 never), when provenance was asked for.
        parent: ``[R, n]`` int64 node that activated each node (-1 for seeds and inactive nodes),
            when provenance was asked for.
        extra: model-specific numbers (e.g. number of steps).
    """

    mean: float
    stderr: float
    num_samples: int
    node_prob: torch.Tensor
    spreads: torch.Tensor
    model: str = "ic"
    activation_step: torch.Tensor | None = None
    parent: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, mean={self.mean:.4f}, "
            f"stderr={self.stderr:.4f}, num_samples={self.num_samples})"
        )


@dataclass(repr=False)
class ThresholdResult(SpreadResult):
    """Outcome of a minimum / multiplication threshold model, which also blocks nodes.

    Attributes:
        blocked_mean: mean number of blocked nodes per run.
        blocked_stderr: its standard error.
        node_blocked_prob: ``[n]`` share of runs in which each node ended blocked.
        blocked: ``[R]`` blocked count of each run.
    """

    blocked_mean: float = 0.0
    blocked_stderr: float = 0.0
    node_blocked_prob: torch.Tensor | None = None
    blocked: torch.Tensor | None = None


@dataclass
class CompetitiveResult:
    """Outcome of ``num_samples`` runs of the competitive (false vs true) IC model.

    Attributes:
        false_mean / false_stderr: mean and standard error of the F-active count (seeds included).
        true_mean / true_stderr: the same for T.
        num_samples: number of runs ``R``.
        node_false_prob / node_true_prob: ``[n]`` share of runs each node ended F / T.
        false_spreads / true_spreads: ``[R]`` per-run counts.
        activation_step: ``[R, n]`` step of activation (-1 never), with provenance.
        parent: ``[R, n]`` activating node (-1 none), with provenance.
        color: ``[R, n]`` int8 final state (0 inactive, 1 F, 2 T), with provenance.
    """

    false_mean: float
    false_stderr: float
    true_mean: float
    true_stderr: float
    num_samples: int
    node_false_prob: torch.Tensor
    node_true_prob: torch.Tensor
    false_spreads: torch.Tensor
    true_spreads: torch.Tensor
    activation_step: torch.Tensor | None = None
    parent: torch.Tensor | None = None
    color: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)
