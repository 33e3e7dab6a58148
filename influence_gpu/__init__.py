"""influence_gpu: batched diffusion simulation, influence learning and seed selection.

The stable API (DESIGN.md section 8)::

    from influence_gpu import (DiffusionGraph, load_graph, simulate, simulate_competitive,
                               blocked_influence, select_seeds)
"""

from influence_gpu.api import (
    MODELS,
    blocked_influence,
    select_seeds,
    simulate,
    simulate_competitive,
)
from influence_gpu.diffusion.results import CompetitiveResult, SpreadResult, ThresholdResult
from influence_gpu.graph import DiffusionGraph, assign_probabilities, load_graph

__version__ = "0.1.0"

__all__ = [
    "DiffusionGraph",
    "load_graph",
    "assign_probabilities",
    "simulate",
    "simulate_competitive",
    "blocked_influence",
    "select_seeds",
    "MODELS",
    "SpreadResult",
    "ThresholdResult",
    "CompetitiveResult",
    "__version__",
]
