"""Temporal IC RR sets: exact live-edge enumeration, torch / native agreement, IMM on ICT."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from influence_gpu.diffusion._reference import temporal_ic_reference
from influence_gpu.diffusion.base import TemporalIC
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.rr import RRSampler, rr_model_of, sample_rr_sets
from influence_gpu.rr.samplers import _native_available
from influence_gpu.selection.imm import IMM


def _tiny():
    # 1 -> 2 has a contact at 3, before 1 can be active (0 -> 1 at 5): only t = 7 counts;
    # 2 -> 3 at 6 is before 2's earliest activation via 1 (7), 8 is after; 3 -> 0 at 2
    rows = [(0, 1, 5, 0.6), (1, 2, 3, 0.7), (1, 2, 7, 0.7), (2, 3, 6, 0.5), (2, 3, 8, 0.5),
            (0, 3, 1, 0.3), (3, 0, 2, 0.9), (3, 4, 4, 0.8), (4, 2, 4, 0.5)]
    ei = torch.tensor([[r[0] for r in rows], [r[1] for r in rows]])
    g = DiffusionGraph.from_edge_index(
        ei, 5, edge_time=torch.tensor([float(r[2]) for r in rows], dtype=torch.float64)
    )
    # one probability per arc (contacts merged)
    prob = {(0, 1): 0.6, (1, 2): 0.7, (2, 3): 0.5, (0, 3): 0.3, (3, 0): 0.9, (3, 4): 0.8,
            (4, 2): 0.5}
    src, dst = g.edge_index.tolist()
    return g.with_prob(torch.tensor([prob[(a, b)] for a, b in zip(src, dst, strict=True)]))


def _exact(g, seeds, strict):
    p = g.edge_prob.double().tolist()
    total = 0.0
    for world in itertools.product([0, 1], repeat=g.num_edges):
        pr = math.prod(p[e] if w else 1 - p[e] for e, w in enumerate(world))
        coins = [0.0 if w else 1.0 for w in world]
        times, _, _ = temporal_ic_reference(g, seeds, coins, strict=strict)
        total += pr * sum(t < math.inf for t in times)
    return total


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_estimate_matches_exact_enumeration(strict, backend):
    g = _tiny()
    theta = 20000
    sketch = sample_rr_sets(g, theta, TemporalIC(strict=strict), key=11, backend=backend)
    n = g.num_nodes
    for seeds in ([0], [1], [2], [3], [0, 2], [1, 4]):
        exact = _exact(g, seeds, strict)
        q = exact / n
        se = n * math.sqrt(q * (1 - q) / theta)
        est = float(sketch.estimate(seeds))
        assert abs(est - exact) <= 4 * se + 1e-9, (seeds, est, exact, se)


def test_late_contact_does_not_count():
    # 0 -> 1 at 5, 1 -> 2 only at 3: 0 never reaches 2; all arcs certain
    ei = torch.tensor([[0, 1], [1, 2]])
    g = DiffusionGraph.from_edge_index(ei, 3, edge_time=torch.tensor([5.0, 3.0]),
                                       edge_prob=torch.tensor([1.0, 1.0]))
    sk = sample_rr_sets(g, 300, TemporalIC(), key=1, backend="torch")
    for i in range(sk.num_sets):
        s = sk.nodes[sk.ptr[i]:sk.ptr[i + 1]].tolist()
        assert s in ([0], [1, 0], [2, 1])
    # strict: a contact at the activation time does not pass on (3 -> 4 at 0 sets start_time)
    ei = torch.tensor([[0, 1, 3], [1, 2, 4]])
    g2 = DiffusionGraph.from_edge_index(ei, 5, edge_time=torch.tensor([5.0, 5.0, 0.0]),
                                        edge_prob=torch.tensor([1.0, 1.0, 1.0]))
    sk = sample_rr_sets(g2, 300, TemporalIC(strict=True), key=1, backend="torch")
    sets = {tuple(sk.nodes[sk.ptr[i]:sk.ptr[i + 1]].tolist()) for i in range(sk.num_sets)}
    assert (2, 1) in sets and (2, 0, 1) not in sets
    sk = sample_rr_sets(g2, 300, TemporalIC(), key=1, backend="torch")
    sets = {tuple(sk.nodes[sk.ptr[i]:sk.ptr[i + 1]].tolist()) for i in range(sk.num_sets)}
    assert (2, 0, 1) in sets


def _random_temporal(seed, n=40, m=160):
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=gen)
    dst = torch.randint(0, n, (m,), generator=gen)
    keep = src != dst
    t = torch.randint(0, 30, (m,), generator=gen).double()
    g = DiffusionGraph.from_edge_index(torch.stack([src[keep], dst[keep]]), n,
                                       edge_time=t[keep])
    return g.with_prob(torch.rand(g.num_edges, generator=gen) * 0.8)


@pytest.mark.skipif(not _native_available(torch.device("cpu")), reason="no native kernel")
@pytest.mark.parametrize("strict", [False, True])
def test_torch_and_native_identical(strict):
    g = _random_temporal(3)
    d = TemporalIC(strict=strict)
    a = sample_rr_sets(g, 3000, d, key=5, backend="torch", chunk_size=700)
    b = sample_rr_sets(g, 3000, d, key=5, backend="native")
    assert torch.equal(a.ptr, b.ptr) and torch.equal(a.nodes, b.nodes)


def test_stream_is_chunking_independent():
    g = _random_temporal(4)
    s = RRSampler(g, TemporalIC(), key=9, backend="torch", chunk_size=128)
    one = s.sample(1000)
    two = s.sample(400)
    s.extend(two, 1000)
    assert torch.equal(one.nodes, two.nodes) and torch.equal(one.ptr, two.ptr)


def test_rr_estimate_agrees_with_simulator():
    g = _random_temporal(5)
    seeds = [0, 7, 13]
    sk = sample_rr_sets(g, 40000, TemporalIC(), key=2)
    sim = TemporalIC(num_samples=20000).simulate(g, torch.tensor(seeds), key=3)
    q = float(sk.estimate(seeds)) / g.num_nodes
    se = math.hypot(g.num_nodes * math.sqrt(q * (1 - q) / 40000), float(sim.stderr))
    assert abs(float(sk.estimate(seeds)) - float(sim.mean)) <= 4 * se


def test_imm_on_temporal_ic():
    assert rr_model_of(TemporalIC()) == "temporal_ic"
    g = _random_temporal(6)
    a = IMM(TemporalIC(), eps=0.3).select(g, 4, generator=1)
    b = IMM(TemporalIC(), eps=0.3).select(g, 4, generator=1)
    assert a.ids == b.ids and len(set(a.ids)) == 4
    assert a.extra["model"] == "temporal_ic"


def test_static_graph_refused():
    g = DiffusionGraph.from_edge_index(torch.tensor([[0], [1]]), 2, edge_prob=torch.tensor([1.0]))
    with pytest.raises(TypeError, match="temporal graph"):
        RRSampler(g, TemporalIC())
