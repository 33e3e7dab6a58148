"""influence_gpu: batched diffusion simulation, influence learning and seed selection."""

from influence_gpu.graph import DiffusionGraph

__version__ = "0.1.0"

__all__ = ["DiffusionGraph", "__version__"]
