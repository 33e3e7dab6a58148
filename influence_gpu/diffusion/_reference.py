"""Slow pure-Python reference simulators, one run at a time, used by the tests.

Each reference takes the same injected randomness as the fast batched simulator (edge coins,
thresholds) for a single run, so the two can be compared outcome for outcome. They read the graph
through plain Python lists and share no code with the fast versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from influence_gpu.graph.diffusion_graph import DiffusionGraph


def _out_lists(graph: DiffusionGraph) -> list[list[tuple[int, int]]]:
    """``out[u]`` = list of ``(edge_id, v)`` in CSR order."""
    rowptr = graph.rowptr.tolist()
    col = graph.col.tolist()
    return [[(e, col[e]) for e in range(rowptr[u], rowptr[u + 1])] for u in range(graph.num_nodes)]


def ic_reference(
    graph: DiffusionGraph, seeds: Sequence[int], edge_uniforms: Sequence[float]
) -> tuple[list[int], list[int]]:
    """One independent-cascade run with given edge coins (Kempe et al. 2003).

    Edge ``e`` is live iff ``edge_uniforms[e] < edge_prob[e]``. A node activated at step t tries
    each out-neighbour once at step t + 1; when several succeed at once, the lowest-numbered
    active parent is recorded.

    Returns:
        ``(step, parent)``: per node, activation step (-1 never, 0 seeds) and parent (-1 none).
    """
    prob = graph.edge_prob.tolist()
    out = _out_lists(graph)
    n = graph.num_nodes
    step = [-1] * n
    parent = [-1] * n
    frontier = sorted(int(s) for s in seeds)
    for s in frontier:
        step[s] = 0
    t = 0
    while frontier:
        t += 1
        new = []
        for u in frontier:
            for e, v in out[u]:
                if step[v] == -1 and edge_uniforms[e] < prob[e]:
                    step[v] = t
                    parent[v] = u
                    new.append(v)
        frontier = sorted(new)
    return step, parent
