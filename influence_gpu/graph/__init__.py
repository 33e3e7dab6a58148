"""Graph layer: the CSR ``DiffusionGraph``, readers, generators and probability schemes."""

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["DiffusionGraph"]
