"""Batched diffusion simulators (all runs of a call proceed together as tensor operations).

One module per model: :mod:`~influence_gpu.diffusion.ic`, :mod:`~influence_gpu.diffusion.lt`,
:mod:`~influence_gpu.diffusion.competitive`, :mod:`~influence_gpu.diffusion.temporal`,
:mod:`~influence_gpu.diffusion.threshold`, :mod:`~influence_gpu.diffusion.signed`; slow
pure-Python references for the tests live in ``_reference.py``.
"""

from influence_gpu.diffusion._common import DEFAULT_MEMORY_BUDGET, hash_uniform
from influence_gpu.diffusion.competitive import (
    BlockedResult,
    blocked_influence_batch,
    estimate_blocked_influence,
    simulate_competitive_ic,
)
from influence_gpu.diffusion.ic import release_workspace, simulate_ic, simulate_ic_batch
from influence_gpu.diffusion.lt import estimate_lt_sets, simulate_lt
from influence_gpu.diffusion.results import (
    CompetitiveResult,
    SpreadResult,
    ThresholdResult,
)
from influence_gpu.diffusion.signed import signed_first_arrival, simulate_signed
from influence_gpu.diffusion.temporal import estimate_temporal_ic_sets, simulate_temporal_ic
from influence_gpu.diffusion.threshold import (
    estimate_minimum_threshold_sets,
    estimate_multiplication_threshold_sets,
    simulate_minimum_threshold,
    simulate_multiplication_threshold,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "hash_uniform",
    "simulate_ic",
    "simulate_ic_batch",
    "release_workspace",
    "simulate_lt",
    "estimate_lt_sets",
    "estimate_temporal_ic_sets",
    "estimate_minimum_threshold_sets",
    "estimate_multiplication_threshold_sets",
    "simulate_competitive_ic",
    "estimate_blocked_influence",
    "blocked_influence_batch",
    "BlockedResult",
    "simulate_temporal_ic",
    "simulate_minimum_threshold",
    "simulate_multiplication_threshold",
    "simulate_signed",
    "signed_first_arrival",
    "SpreadResult",
    "ThresholdResult",
    "CompetitiveResult",
]
