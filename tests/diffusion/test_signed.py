"""Signed first-arrival model: reference equality, brute-force paths, hand cases, errors."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from influence_gpu.api import simulate
from influence_gpu.diffusion._reference import signed_reference
from influence_gpu.diffusion.signed import simulate_signed
from influence_gpu.graph.diffusion_graph import DiffusionGraph


def signed_graph(edges, num_nodes, device="cpu"):
    """Undirected graph from ``(u, v, sign)`` or ``(u, v, sign, delay)`` rows."""
    ei = torch.tensor([[e[0] for e in edges], [e[1] for e in edges]], device=device)
    sign = [e[2] for e in edges]
    delay = [e[3] for e in edges] if len(edges[0]) > 3 else None
    return DiffusionGraph.from_edge_index(
        ei, num_nodes=num_nodes, edge_sign=sign, edge_delay=delay, directed=False
    )


def random_signed(gen, n, m, *, zero_delays, device="cpu"):
    ei = torch.randint(0, n, (2, m), generator=gen)
    sign = torch.randint(0, 2, (m,), generator=gen) * 2 - 1
    lo = 0 if zero_delays else 1
    delay = torch.randint(lo, 4, (m,), generator=gen).double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self-loops, duplicates
        return DiffusionGraph.from_edge_index(
            ei.to(device), num_nodes=n, edge_sign=sign, edge_delay=delay, directed=False
        )


def brute_force_states(graph, seeds, seed_states, tie_break):
    """Enumerate simple paths from the seeds (internal nodes non-seeds); positive delays only."""
    n = graph.num_nodes
    adj = {}
    for u, v, s, d in zip(
        graph.src.tolist(),
        graph.col.tolist(),
        graph.edge_sign.tolist(),
        graph.edge_delay.tolist(),
        strict=True,
    ):
        adj.setdefault(u, []).append((v, s, d))
    best = [math.inf] * n
    parities = [set() for _ in range(n)]

    def walk(u, state, length, seen):
        for v, s, d in adj.get(u, []):
            if v in seen or v in seeds:
                continue
            ln, st = length + d, state * s
            if ln < best[v]:
                best[v], parities[v] = ln, {st}
            elif ln == best[v]:
                parities[v].add(st)
            walk(v, st, ln, seen | {v})

    for s, st in zip(seeds, seed_states, strict=True):
        walk(s, st, 0.0, {s})
    out = []
    for v in range(n):
        if v in seeds:
            out.append(seed_states[seeds.index(v)])
        elif not parities[v]:
            out.append(0)
        elif len(parities[v]) == 2:
            out.append(-1 if tie_break == "pessimistic" else 1)
        else:
            out.append(next(iter(parities[v])))
    return out


@pytest.mark.parametrize("zero_delays", [False, True])
def test_matches_dijkstra_reference(devices, zero_delays):
    gen = torch.Generator().manual_seed(11)
    ties = 0
    for trial in range(40):
        n = 2 + trial % 12
        g = random_signed(gen, n, 2 * n, zero_delays=zero_delays, device=devices)
        k = min(n, 1 + trial % 3)
        seeds = torch.randperm(n, generator=gen)[:k]
        states = (torch.randint(0, 2, (k,), generator=gen) * 2 - 1) if trial % 2 else None
        got = {}
        for tb in ("pessimistic", "optimistic"):
            res = simulate_signed(g, seeds.to(devices), seed_states=states, tie_break=tb)
            ref = signed_reference(
                g, seeds.tolist(), None if states is None else states.tolist(), tb
            )
            assert res.extra["state"].cpu().tolist() == ref
            assert res.mean == sum(x == 1 for x in ref)
            assert res.extra["negative"] == sum(x == -1 for x in ref)
            got[tb] = ref
        ties += got["pessimistic"] != got["optimistic"]
    assert ties > 3  # the random cases include parity ties


def test_matches_brute_force_simple_paths():
    gen = torch.Generator().manual_seed(5)
    for trial in range(30):
        n = 3 + trial % 5
        g = random_signed(gen, n, n + 2, zero_delays=False)
        k = 1 + trial % 2
        seeds = torch.randperm(n, generator=gen)[:k].tolist()
        states = [1, -1][:k] if trial % 3 else [1] * k
        for tb in ("pessimistic", "optimistic"):
            res = simulate_signed(g, torch.tensor(seeds), seed_states=states, tie_break=tb)
            assert res.extra["state"].tolist() == brute_force_states(g, seeds, states, tb)


def test_negative_edges_flip_and_two_restore():
    # path 0 -(-)- 1 -(+)- 2 -(-)- 3, node 4 unreached
    g = signed_graph([(0, 1, -1), (1, 2, 1), (2, 3, -1)], 5)
    res = simulate_signed(g, torch.tensor([0]), num_samples=3)
    assert res.extra["state"].tolist() == [1, -1, -1, 1, 0]
    assert res.mean == 2.0 and res.stderr == 0.0
    assert res.extra["negative"] == 2 and res.extra["net"] == 0
    assert res.spreads.tolist() == [2, 2, 2]
    assert res.node_prob.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert res.extra["distance"].tolist() == [0.0, 1.0, 2.0, 3.0, math.inf]
    # a seed emitting -1
    res = simulate_signed(g, torch.tensor([0]), seed_states=[-1])
    assert res.extra["state"].tolist() == [-1, 1, 1, -1, 0]


def test_first_arrival_uses_delays_not_hops():
    # direct negative edge of delay 3 vs positive two-hop path of delay 1 + 1
    g = signed_graph([(0, 2, -1, 3.0), (0, 1, 1, 1.0), (1, 2, 1, 1.0)], 3)
    assert simulate_signed(g, torch.tensor([0])).extra["state"].tolist() == [1, 1, 1]
    g = signed_graph([(0, 2, -1, 1.5), (0, 1, 1, 1.0), (1, 2, 1, 1.0)], 3)
    assert simulate_signed(g, torch.tensor([0])).extra["state"].tolist() == [1, 1, -1]


def test_tie_break_between_parities():
    # 0 reaches 3 through 1 (+,+) and through 2 (-,+) at the same delay
    g = signed_graph([(0, 1, 1), (1, 3, 1), (0, 2, -1), (2, 3, 1), (3, 4, -1)], 5)
    pes = simulate_signed(g, torch.tensor([0]))
    opt = simulate_signed(g, torch.tensor([0]), tie_break="optimistic")
    assert pes.extra["state"].tolist() == [1, 1, -1, -1, -1]
    # per node over all shortest paths: 4 is reached both ways too
    assert opt.extra["state"].tolist() == [1, 1, -1, 1, 1]
    assert (pes.mean, opt.mean) == (2.0, 4.0)


def test_nearest_seed_wins_and_seeds_keep_their_state():
    # seeds 0 (+1) and 4 (-1) on a positive path 0-1-2-3-4; 2 is a tie between them
    g = signed_graph([(0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 4, 1)], 5)
    res = simulate_signed(g, torch.tensor([0, 4]), seed_states=[1, -1])
    assert res.extra["state"].tolist() == [1, 1, -1, -1, -1]
    res = simulate_signed(g, torch.tensor([0, 4]), seed_states=[1, -1], tie_break="optimistic")
    assert res.extra["state"].tolist() == [1, 1, 1, -1, -1]
    # a negative edge between two seeds does not flip either of them
    g = signed_graph([(0, 1, -1), (1, 2, 1)], 3)
    res = simulate_signed(g, torch.tensor([0, 1]))
    assert res.extra["state"].tolist() == [1, 1, 1]
    assert simulate_signed(g, torch.tensor([], dtype=torch.long)).mean == 0.0


def test_default_delay_is_one_and_public_dispatch():
    g = signed_graph([(0, 1, 1), (1, 2, -1), (0, 3, -1), (3, 2, -1)], 4)
    res = simulate(g, [0], model="signed", num_samples=2, seed=0)
    assert res.model == "signed"
    assert res.extra["state"].tolist() == [1, 1, -1, -1]  # 2: tie -1 (0-1-2) vs +1 (0-3-2)
    assert res.extra["distance"].tolist() == [0.0, 1.0, 2.0, 1.0]


def test_large_graph_runs(devices):
    gen = torch.Generator().manual_seed(0)
    n, m = 20_000, 100_000
    g = random_signed(gen, n, m, zero_delays=False, device=devices)
    res = simulate_signed(g, torch.arange(10, device=devices))
    assert res.mean + res.extra["negative"] == int((res.extra["state"] != 0).sum())
    assert res.mean > 1000


def test_errors():
    unsigned = DiffusionGraph.from_edge_index(torch.tensor([[0], [1]]), edge_prob=[0.5])
    with pytest.raises(ValueError, match="edge_sign"):
        simulate_signed(unsigned, torch.tensor([0]))
    g = signed_graph([(0, 1, -1)], 3)
    with pytest.raises(ValueError, match="tie_break"):
        simulate_signed(g, torch.tensor([0]), tie_break="random")
    with pytest.raises(ValueError, match="seed_states"):
        simulate_signed(g, torch.tensor([0]), seed_states=[1, 1])
    with pytest.raises(ValueError, match="seed_states"):
        simulate_signed(g, torch.tensor([0]), seed_states=[2])
    with pytest.raises(ValueError, match="edge_delay"):
        simulate_signed(g.replace(edge_delay=torch.tensor([-1.0, 1.0])), torch.tensor([0]))
    with pytest.raises(ValueError, match="out of range"):
        simulate_signed(g, torch.tensor([3]))
    with pytest.raises(ValueError, match="num_samples"):
        simulate_signed(g, torch.tensor([0]), num_samples=0)
    with pytest.raises(MemoryError):
        simulate_signed(g, torch.tensor([0]), memory_budget=10)
