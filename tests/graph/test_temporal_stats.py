"""Temporal characteristic, improved k-shell, comprehensive degree and time windows (paper E)."""

from __future__ import annotations

import random

import pytest
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.temporal_stats import (
    comprehensive_degree,
    improved_kshell,
    temporal_characteristic,
    temporal_layering,
    time_window,
)


def _graph(contacts, n):
    """Temporal graph from ``(u, v, t)`` contacts."""
    ei = torch.tensor([[c[0] for c in contacts], [c[1] for c in contacts]])
    t = torch.tensor([float(c[2]) for c in contacts], dtype=torch.float64)
    return DiffusionGraph.from_edge_index(ei, n, edge_time=t)


def _slow_kshell(n, arcs, direction="out"):
    """Literal reading of DESIGN 7.3: for k = 1, 2, ... peel one node at a time."""
    alive = set(range(n))

    def tc(v):
        s = sum(c for (a, b), c in arcs.items() if a == v and b in alive)
        if direction == "both":
            s += sum(c for (a, b), c in arcs.items() if b == v and a in alive)
        return s

    ks = [0] * n
    k = 1
    while alive:
        changed = True
        while changed:
            changed = False
            for v in sorted(alive):
                if tc(v) <= k:
                    ks[v] = k
                    alive.discard(v)
                    changed = True
        k += 1
    return ks


def _random_temporal(seed, n=9, m=22):
    rng = random.Random(seed)
    contacts = []
    for _ in range(m):
        u, v = rng.sample(range(n), 2)
        for _ in range(rng.randint(1, 4)):
            contacts.append((u, v, rng.randint(0, 20)))
    return contacts


def _arcs(contacts):
    arcs: dict[tuple[int, int], int] = {}
    for u, v, _ in contacts:
        arcs[(u, v)] = arcs.get((u, v), 0) + 1
    return arcs


def test_hand_example():
    # d = 0 has out-degree 2 and six contacts (DESIGN 7.3, Fig. 4); a = 4 has two contacts
    contacts = [(0, 1, 1), (0, 1, 2), (0, 1, 3), (0, 2, 1), (0, 2, 5), (0, 2, 9),
                (1, 2, 4), (2, 1, 6), (2, 3, 7), (4, 5, 1), (4, 3, 2)]
    g = _graph(contacts, 6)
    assert temporal_characteristic(g).tolist() == [6, 1, 2, 0, 2, 0]
    assert temporal_characteristic(g, "both").tolist() == [6, 5, 6, 2, 2, 1]
    # k = 1: 3 and 5 (TC 0), 1 (TC 1); then 2 (TC 1 after 1 and 3 left) and 4 (TC 0 now);
    # 0 has TC 0 once 1, 2 are gone: every node is in the 1-shell
    assert improved_kshell(g).tolist() == [1, 1, 1, 1, 1, 1]
    # CD = TC + sum of the out-neighbours' TC
    assert comprehensive_degree(g).tolist() == [6 + 1 + 2, 1 + 2, 2 + 1 + 0, 0, 2 + 0 + 0, 0]


def test_hand_example_layers():
    # a dense triangle (many contacts) hanging off a sparse tail: the triangle is the core
    contacts = [(a, b, t) for a in range(3) for b in range(3) if a != b for t in range(3)]
    contacts += [(3, 0, 1), (4, 3, 2), (0, 4, 5)]
    g = _graph(contacts, 5)
    # TC: 0 -> 1, 2 (3 each) and 4 (1): 7; 1, 2: 6; 3: 1; 4: 1
    assert temporal_characteristic(g).tolist() == [7, 6, 6, 1, 1]
    # k = 1 removes 3 and 4; the triangle has TC 6 each; k jumps to 6 and removes it
    assert improved_kshell(g).tolist() == [6, 6, 6, 1, 1]
    lay = temporal_layering(g)
    assert lay.layers == [6, 1]
    cd_same = comprehensive_degree(g, ks=lay.ks, same_layer=True).tolist()
    assert cd_same == [7 + 6 + 6, 6 + 7 + 6, 6 + 7 + 6, 1, 1 + 1]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("direction", ["out", "both"])
def test_against_slow_reference(seed, direction):
    contacts = _random_temporal(seed)
    g = _graph(contacts, 9)
    arcs = _arcs(contacts)
    assert improved_kshell(g, direction).tolist() == _slow_kshell(9, arcs, direction)
    tc = {v: sum(c for (a, _), c in arcs.items() if a == v) for v in range(9)}
    cd = [tc[v] + sum(tc[b] for (a, b) in arcs if a == v) for v in range(9)]
    assert comprehensive_degree(g).tolist() == cd
    assert temporal_characteristic(g).tolist() == [tc[v] for v in range(9)]


def test_time_window():
    contacts = [(0, 1, 1), (0, 1, 5), (1, 2, 3), (2, 0, 9)]
    g = _graph(contacts, 3)
    w = time_window(g, 2, 6)
    assert w.num_nodes == 3
    assert w.edge_index.tolist() == [[0, 1], [1, 2]]
    assert w.time_values.tolist() == [5.0, 3.0]
    assert w.edge_count.tolist() == [1, 1]
    assert w.edge_prob is not None
    with pytest.raises(ValueError):
        time_window(g, 5, 2)
