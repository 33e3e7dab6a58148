"""Temporal independent cascade (ICT): reference equality, exact expectations, hand cases."""

from __future__ import annotations

import bisect
import math
import warnings

import pytest
import torch

import influence_gpu.diffusion.temporal as temporal
from influence_gpu.api import simulate
from influence_gpu.diffusion._reference import temporal_ic_reference
from influence_gpu.diffusion.temporal import simulate_temporal_ic
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from tests.exact import edge_worlds, exact_ic


def temporal_graph(contacts, num_nodes, prob=None, device="cpu"):
    """Graph from ``(u, v, t)`` contact rows; ``prob`` maps arc -> probability (default 1)."""
    ei = torch.tensor([[u for u, _, _ in contacts], [v for _, v, _ in contacts]], device=device)
    t = torch.tensor([t for _, _, t in contacts], dtype=torch.float64, device=device)
    g = DiffusionGraph.from_edge_index(ei, num_nodes=num_nodes, edge_time=t)
    arcs = list(zip(g.src.tolist(), g.col.tolist(), strict=True))
    p = [1.0 if prob is None else prob.get(a, 1.0) for a in arcs]
    return g.with_prob(torch.tensor(p)), arcs


def random_temporal(gen, n, m, device="cpu"):
    ei = torch.randint(0, n, (2, m), generator=gen)
    t = torch.randint(0, 6, (m,), generator=gen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self-loops
        g = DiffusionGraph.from_edge_index(ei.to(device), num_nodes=n, edge_time=t.to(device))
    return g.with_prob(torch.rand(g.num_edges, generator=gen).to(device))


@pytest.mark.parametrize("strict", [False, True])
def test_matches_event_driven_reference(devices, strict):
    gen = torch.Generator().manual_seed(7)
    R = 6
    checked = 0
    for trial in range(25):
        n = 2 + trial % 11
        g = random_temporal(gen, n, 3 * n, devices)
        U = torch.rand(R, g.num_edges, generator=gen)
        k = 1 + trial % 3
        seeds = torch.randperm(n, generator=gen)[:k]
        start = [None, 2, 3.5][trial % 3]
        res = simulate_temporal_ic(
            g,
            seeds.to(devices),
            R,
            edge_uniforms=U.to(devices),
            start_time=start,
            strict=strict,
            return_provenance=True,
        )
        times = res.extra["activation_time"].cpu()
        for r in range(R):
            t_ref, h_ref, p_ref = temporal_ic_reference(
                g, seeds.tolist(), U[r].tolist(), start, strict=strict
            )
            assert times[r].tolist() == t_ref
            assert res.activation_step[r].tolist() == h_ref
            assert res.parent[r].tolist() == p_ref
            assert int(res.spreads[r]) == sum(h >= 0 for h in h_ref)
            checked += sum(h > 0 for h in h_ref)
    assert checked > 50  # the cases did spread


def test_chunking_and_expansion_batches_do_not_change_outcomes(monkeypatch):
    gen = torch.Generator().manual_seed(3)
    g = random_temporal(gen, 30, 150)
    seeds = torch.tensor([0, 5])
    one = simulate_temporal_ic(g, seeds, 40, key=1234, return_provenance=True)
    monkeypatch.setattr(temporal, "EXPAND_BATCH", 16)
    fixed = g.time_values.numel() * 24 + g.num_edges * 16 + 16 * temporal._BYTES_PER_EXPANSION
    fixed += 40 * 30 * 20  # the [R, n] provenance outputs, allocated up front
    per_run = 30 * (25 + 36)
    many = simulate_temporal_ic(
        g, seeds, 40, key=1234, return_provenance=True, memory_budget=fixed + 7 * per_run
    )
    assert torch.equal(one.spreads, many.spreads)
    assert torch.equal(one.parent, many.parent)
    assert torch.equal(one.extra["activation_time"], many.extra["activation_time"])
    assert one.spreads.float().std() > 0  # random worlds differ between runs
    # a different key gives different worlds
    other = simulate_temporal_ic(g, seeds, 40, key=99)
    assert not torch.equal(one.spreads, other.spreads)


def _first_arrival_spread(n, arcs, times, live, seeds, start):
    """Earliest arrival over live arcs by repeated relaxation (independent of both codes)."""
    tau = [math.inf] * n
    for s in seeds:
        tau[s] = start
    changed = True
    while changed:
        changed = False
        for (u, v), ts, ok in zip(arcs, times, live, strict=True):
            if not ok or tau[u] == math.inf:
                continue
            i = bisect.bisect_left(ts, tau[u])
            if i < len(ts) and ts[i] < tau[v]:
                tau[v] = ts[i]
                changed = True
    return [t < math.inf for t in tau]


def test_expected_spread_matches_edge_world_enumeration():
    contacts = [
        (0, 1, 1),
        (0, 1, 6),
        (1, 2, 2),
        (0, 2, 4),
        (2, 3, 3),
        (2, 3, 5),
        (1, 3, 1),
        (3, 4, 4),
        (2, 4, 2),
    ]
    prob = {
        (0, 1): 0.6,
        (1, 2): 0.5,
        (0, 2): 0.3,
        (2, 3): 0.7,
        (1, 3): 0.4,
        (3, 4): 0.8,
        (2, 4): 0.5,
    }
    g, arcs = temporal_graph(contacts, 5, prob)
    tp, tv = g.time_ptr.tolist(), g.time_values.tolist()
    times = [tv[tp[e] : tp[e + 1]] for e in range(g.num_edges)]
    probs = g.edge_prob.tolist()
    mean = second = 0.0
    node_prob = [0.0] * 5
    for live, w in edge_worlds(probs):
        reached = _first_arrival_spread(5, arcs, times, live, [0], 1)
        k = sum(reached)
        mean += w * k
        second += w * k * k
        node_prob = [a + w * b for a, b in zip(node_prob, reached, strict=True)]
    var = second - mean * mean
    static_mean, _, _ = exact_ic(5, arcs, probs, [0])
    assert abs(static_mean - mean) > 0.1  # time order matters on this graph

    R = 20_000
    res = simulate_temporal_ic(g, torch.tensor([0]), R, generator=torch.Generator().manual_seed(0))
    tol = 4 * math.sqrt(var / R)  # 4 standard errors of the mean of R runs
    assert abs(res.mean - mean) < tol
    assert abs(res.stderr - math.sqrt(var / R)) < 0.1 * math.sqrt(var / R)
    for v in range(5):
        q = node_prob[v]
        assert abs(float(res.node_prob[v]) - q) <= 4 * math.sqrt(q * (1 - q) / R) + 1e-9


def test_contact_before_activation_gives_no_try():
    # a -> b at 5, b -> c at 3: b is active from 5, the only b-c contact is earlier
    g, _ = temporal_graph([(0, 1, 5), (1, 2, 3)], 3)
    res = simulate_temporal_ic(g, torch.tensor([0]), 4, return_provenance=True)
    assert res.mean == 2.0
    assert res.node_prob.tolist() == [1.0, 1.0, 0.0]
    assert res.extra["activation_time"][0].tolist() == [3.0, 5.0, math.inf]
    # a later contact on b -> c carries it on
    g, _ = temporal_graph([(0, 1, 5), (1, 2, 3), (1, 2, 7)], 3)
    res = simulate_temporal_ic(g, torch.tensor([0]), 2, return_provenance=True)
    assert res.mean == 3.0
    assert res.extra["activation_time"][0].tolist() == [3.0, 5.0, 7.0]
    assert res.activation_step[0].tolist() == [0, 1, 2]
    assert res.parent[0].tolist() == [-1, 0, 1]


def test_strict_option_and_start_time():
    g, _ = temporal_graph([(0, 1, 5), (1, 2, 5), (3, 0, 1)], 4)
    seeds = torch.tensor([0])
    assert simulate_temporal_ic(g, seeds, 1).mean == 3.0  # t >= tau: same stamp passes on
    assert simulate_temporal_ic(g, seeds, 1, strict=True).mean == 2.0
    assert simulate_temporal_ic(g, seeds, 1, start_time=5).mean == 3.0
    assert simulate_temporal_ic(g, seeds, 1, start_time=5, strict=True).mean == 1.0
    assert simulate_temporal_ic(g, seeds, 1, start_time=6).mean == 1.0
    res = simulate_temporal_ic(g, seeds, 1, start_time=4.5)
    assert res.extra["start_time"] == 4.5 and res.mean == 3.0


def test_earliest_successful_try_wins_and_dead_edges_do_not_retry():
    # 0 -> 1 at 9 and 0 -> 2 at 1, 2 -> 1 at 2: node 1 gets its earliest try through 2
    g, _ = temporal_graph([(0, 1, 9), (0, 2, 1), (2, 1, 2), (0, 1, 12)], 3)
    res = simulate_temporal_ic(g, torch.tensor([0]), 1, return_provenance=True)
    assert res.extra["activation_time"][0].tolist() == [1.0, 2.0, 1.0]
    assert res.parent[0].tolist() == [-1, 2, 0]
    # coin of (2, 1) fails: 0 tries 1 once, at 9 (not again at 12); coin of (0, 1) fails too
    e = {a: i for i, a in enumerate(zip(g.src.tolist(), g.col.tolist(), strict=True))}
    U = torch.zeros(2, 3)
    U[:, e[(2, 1)]] = 0.99
    U[1, e[(0, 1)]] = 0.99
    g = g.with_prob(torch.full((3,), 0.5))
    res = simulate_temporal_ic(g, torch.tensor([0]), 2, edge_uniforms=U, return_provenance=True)
    assert res.extra["activation_time"][0].tolist() == [1.0, 9.0, 1.0]
    assert res.spreads.tolist() == [3, 2]


def test_zero_probability_and_empty_seeds():
    g, _ = temporal_graph([(0, 1, 1), (1, 2, 2)], 3)
    res = simulate_temporal_ic(g.with_prob(0.0), torch.tensor([0, 2]), 5)
    assert res.mean == 2.0 and res.stderr == 0.0
    res = simulate_temporal_ic(g, torch.tensor([], dtype=torch.long), 5)
    assert res.mean == 0.0 and res.node_prob.sum() == 0


def test_public_simulate_dispatch():
    g, _ = temporal_graph([(0, 1, 1), (1, 2, 2), (2, 3, 1)], 4)
    res = simulate(g, [0], model="ict", num_samples=3, seed=0)
    assert res.model == "temporal_ic" and res.spreads.tolist() == [3, 3, 3]


def test_errors():
    static = DiffusionGraph.from_edge_index(torch.tensor([[0], [1]]), edge_prob=[0.5])
    with pytest.raises(ValueError, match="temporal"):
        simulate_temporal_ic(static, torch.tensor([0]), 1)
    g, _ = temporal_graph([(0, 1, 1)], 2)
    no_prob = g.replace(edge_prob=None)
    with pytest.raises(ValueError, match="no edge probabilities"):
        simulate_temporal_ic(no_prob, torch.tensor([0]), 1)
    with pytest.raises(ValueError, match="edge_uniforms"):
        simulate_temporal_ic(g, torch.tensor([0]), 2, edge_uniforms=torch.zeros(1, 1))
    with pytest.raises(ValueError, match="out of range"):
        simulate_temporal_ic(g, torch.tensor([5]), 1)
    with pytest.raises(ValueError, match="num_samples"):
        simulate_temporal_ic(g, torch.tensor([0]), 0)
    with pytest.raises(ValueError, match="start_time"):
        simulate_temporal_ic(g, torch.tensor([0]), 1, start_time=float("nan"))
    with pytest.raises(TypeError, match="strict"):
        simulate_temporal_ic(g, torch.tensor([0]), 1, strict="yes")
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_temporal_ic(g, torch.tensor([0]), 1, memory_budget=1000)
