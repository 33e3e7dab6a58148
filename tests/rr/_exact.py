"""Exact values on tiny graphs for the RR tests: IC by edge worlds, LT by its live-edge worlds."""

from __future__ import annotations

import itertools
import math
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
    """Expected LT spread by enumerating the LT live-edge worlds (Kempe et al. 2003).

    Each node picks at most one in-arc, arc (u, v) with probability b(u, v), none with
    1 - sum_u b(u, v); the spread is the number of nodes reachable from the seeds over picks.
    """
    choices = []
    for v in range(n):
        opts = [(i, weights[i]) for i, (_, t) in enumerate(arcs) if t == v]
        opts.append((None, 1.0 - sum(p for _, p in opts)))
        choices.append(opts)
    mean = 0.0
    for pick in itertools.product(*choices):
        w = math.prod(p for _, p in pick)
        if w <= 0:
            continue
        parent = {v: arcs[i][0] for v, (i, _) in enumerate(pick) if i is not None}
        reached = set(seeds)
        changed = True
        while changed:
            changed = False
            for v, u in parent.items():
                if v not in reached and u in reached:
                    reached.add(v)
                    changed = True
        mean += w * len(reached)
    return mean
