"""Triton temporal IC relaxation under the interpreter: bit-identical to torch and native."""

from __future__ import annotations

import importlib.util
import math

import pytest
import torch

import influence_gpu.diffusion.temporal as temporal
from influence_gpu.diffusion.temporal import estimate_temporal_ic_sets, simulate_temporal_ic
from tests.diffusion.test_temporal import _first_arrival_spread, random_temporal, temporal_graph
from tests.exact import edge_worlds

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)


@pytest.fixture
def interpret(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")


def _same(a, b):
    assert torch.equal(a.spreads.cpu(), b.spreads.cpu())
    assert torch.equal(a.extra["node_count"].cpu(), b.extra["node_count"].cpu())
    assert torch.equal(a.node_prob.cpu(), b.node_prob.cpu())
    assert a.mean == b.mean and a.stderr == b.stderr


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("trial", [0, 1, 2])
def test_runs_bit_identical_to_torch_and_native(interpret, strict, trial):
    gen = torch.Generator().manual_seed(10 + trial)
    g = random_temporal(gen, [30, 12, 45][trial], [150, 60, 120][trial])
    seeds = torch.tensor([0, 3])
    start = [None, 2, 3.5][trial]
    for key in (1, 12345, 2**62 + 5):
        kw = dict(key=key, strict=strict, start_time=start)
        runs = {b: simulate_temporal_ic(g, seeds, 40, backend=b, **kw)
                for b in ("torch", "native", "triton")}
        assert runs["triton"].extra["backend"] == "triton"
        _same(runs["triton"], runs["torch"])
        _same(runs["triton"], runs["native"])
        assert runs["triton"].extra["rounds"] == runs["torch"].extra["rounds"]
    assert runs["triton"].spreads.float().std() > 0  # random worlds differ between runs


def test_long_contact_lists_and_injected_coins(interpret):
    """Arcs with many contacts (a deep binary search) and duplicate times; coins given."""
    gen = torch.Generator().manual_seed(5)
    contacts = [(int(u), int(v), int(t)) for u, v, t in zip(
        torch.randint(0, 8, (300,), generator=gen), torch.randint(0, 8, (300,), generator=gen),
        torch.randint(0, 40, (300,), generator=gen), strict=True) if u != v]
    g, _ = temporal_graph(contacts, 8)
    g = g.with_prob(torch.rand(g.num_edges, generator=gen))
    assert temporal._max_contacts(temporal._timeline(g, None)) > 8
    U = torch.rand(30, g.num_edges, generator=gen, dtype=torch.float64)
    for strict in (False, True):
        kw = dict(edge_uniforms=U, strict=strict, start_time=4)
        tri = simulate_temporal_ic(g, torch.tensor([1]), 30, backend="triton", **kw)
        _same(tri, simulate_temporal_ic(g, torch.tensor([1]), 30, backend="torch", **kw))
        _same(tri, simulate_temporal_ic(g, torch.tensor([1]), 30, backend="native", **kw))
    # a non-contiguous float32 view of the coins is read through its strides
    Ut = torch.rand(g.num_edges, 30, generator=gen).t()
    a = simulate_temporal_ic(g, torch.tensor([1]), 30, edge_uniforms=Ut, backend="triton")
    _same(a, simulate_temporal_ic(g, torch.tensor([1]), 30, edge_uniforms=Ut, backend="torch"))


def test_chunks_batches_sets_and_split_runs(interpret, monkeypatch):
    gen = torch.Generator().manual_seed(3)
    g = random_temporal(gen, 30, 150)
    seeds = torch.tensor([0, 5])
    one = simulate_temporal_ic(g, seeds, 40, key=1234, backend="torch")
    # chunks of 7 runs, expansion batches of 16 arcs
    fixed = g.time_values.numel() * 24 + g.num_edges * 16 + 16 * temporal._BYTES_PER_EXPANSION
    with monkeypatch.context() as m:
        m.setattr(temporal, "EXPAND_BATCH", 16)
        many = simulate_temporal_ic(g, seeds, 40, key=1234, backend="triton",
                                    memory_budget=fixed + 7 * 30 * 25)
    _same(many, one)
    sets = [torch.tensor([0]), torch.tensor([3, 7]), torch.tensor([], dtype=torch.long)]
    got = estimate_temporal_ic_sets(g, sets, 25, key=6, backend="triton")
    for b in ("torch", "native"):
        want = estimate_temporal_ic_sets(g, sets, 25, key=6, backend=b)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1]), b
    # runs split over two devices: each piece hashes the coins of its global runs
    two = simulate_temporal_ic(g, seeds, 40, key=1234, backend="triton", devices=["cpu", "cpu"])
    assert torch.equal(two.spreads, one.spreads) and torch.equal(two.node_prob, one.node_prob)


def test_agrees_with_the_edge_world_enumeration(interpret):
    contacts = [(0, 1, 1), (0, 1, 6), (1, 2, 2), (0, 2, 4), (2, 3, 3), (2, 3, 5), (1, 3, 1),
                (3, 4, 4), (2, 4, 2)]
    prob = {(0, 1): 0.6, (1, 2): 0.5, (0, 2): 0.3, (2, 3): 0.7, (1, 3): 0.4, (3, 4): 0.8,
            (2, 4): 0.5}
    g, arcs = temporal_graph(contacts, 5, prob)
    tp, tv = g.time_ptr.tolist(), g.time_values.tolist()
    times = [tv[tp[e] : tp[e + 1]] for e in range(g.num_edges)]
    worlds = list(edge_worlds(g.edge_prob.tolist()))
    mean = second = 0.0
    for live, w in worlds:
        k = sum(_first_arrival_spread(5, arcs, times, live, [0], 1))
        mean, second = mean + w * k, second + w * k * k
    R = 8000
    res = simulate_temporal_ic(g, torch.tensor([0]), R, key=2024, backend="triton")
    assert abs(res.mean - mean) < 4 * math.sqrt(second - mean * mean) / math.sqrt(R)  # 4 s.e.
    # every single world exactly: injected coins 0 (live) / 1 (dead) per arc
    U = torch.tensor([[0.0 if keep else 1.0 for keep in live] for live, _ in worlds])
    res = simulate_temporal_ic(g, torch.tensor([0]), len(worlds), edge_uniforms=U,
                               backend="triton")
    want = [sum(_first_arrival_spread(5, arcs, times, live, [0], 1)) for live, _ in worlds]
    assert res.spreads.tolist() == want


def test_forced_triton_refuses_what_it_cannot_run(monkeypatch):
    g = random_temporal(torch.Generator().manual_seed(1), 10, 30)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend='triton' needs triton and a CUDA device"):
        simulate_temporal_ic(g, torch.tensor([0]), 4, key=1, backend="triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(ValueError, match="does not apply.*provenance is rebuilt on torch"):
        simulate_temporal_ic(g, torch.tensor([0]), 4, key=1, backend="triton",
                             return_provenance=True)
    # auto never picks the interpreter; provenance on auto stays on torch
    assert simulate_temporal_ic(g, torch.tensor([0]), 4, key=1).extra["backend"] in (
        "native", "torch")
    res = simulate_temporal_ic(g, torch.tensor([0]), 4, key=1, return_provenance=True)
    assert res.extra["backend"] == "torch"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_compiled_kernel_on_cuda(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    g = random_temporal(torch.Generator().manual_seed(2), 60, 400)
    seeds = torch.tensor([0, 3])
    for strict in (False, True):
        got = simulate_temporal_ic(g.to("cuda"), seeds.cuda(), 300, key=9, strict=strict)
        assert got.extra["backend"] == "triton"  # auto picks triton on CUDA
        _same(got, simulate_temporal_ic(g, seeds, 300, key=9, strict=strict, backend="native"))
        _same(got, simulate_temporal_ic(g.to("cuda"), seeds.cuda(), 300, key=9, strict=strict,
                                        backend="torch"))
