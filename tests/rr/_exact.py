"""Exact values on tiny graphs for the RR tests: IC by edge worlds, LT by its live-edge worlds."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from influence_gpu.graph import DiffusionGraph
from tests.exact import exact_ic


def arcs_graph(n: int, arcs: Sequence[tuple[int, int]], probs: Sequence[float]) -> DiffusionGraph:
    ei = torch.tensor(arcs, dtype=torch.long).T
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=torch.tensor(probs))


def exact_ic_spread(n, arcs, probs, seeds) -> float:
    return exact_ic(n, arcs, probs, seeds)[0]


def exact_lt_spread(n, arcs, weights, seeds) -> float:
    """Expected LT spread by enumerating the LT live-edge worlds (Kempe et al. 2003)."""
    from tests.diffusion.test_lt import exact_lt

    return exact_lt(n, arcs, weights, seeds)[0]
