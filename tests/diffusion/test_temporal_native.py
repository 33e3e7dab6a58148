"""Native temporal IC kernel: bit-identity with the torch path, batched sets, exact values."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import pytest
import torch

import influence_gpu.diffusion.temporal as temporal
from influence_gpu import typing as flags
from influence_gpu.diffusion._common import DEFAULT_MEMORY_BUDGET
from influence_gpu.diffusion._native import native_csr
from influence_gpu.diffusion._native.temporal import load_temporal_kernel
from influence_gpu.diffusion._reference import temporal_ic_reference
from influence_gpu.diffusion.temporal import estimate_temporal_ic_sets, simulate_temporal_ic
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.kernels.native import native_threads
from tests.diffusion.test_temporal import (
    _first_arrival_spread,
    random_temporal,
    temporal_graph,
)
from tests.exact import edge_worlds

pytestmark = pytest.mark.skipif(
    load_temporal_kernel() is None, reason="the native temporal IC kernel does not build here"
)

# (n, m, number of seeds, start_time)
CASES = [(2, 3, 1, None), (7, 20, 1, 2), (12, 40, 2, 3.5), (30, 150, 3, None), (60, 400, 4, 1)]


@pytest.fixture(params=[1, 2], ids=["threads1", "threads2"])
def threads(request, monkeypatch) -> int:
    """Run a test with the native kernel on 1 and on 2 threads."""
    monkeypatch.setenv("INFLUENCE_GPU_THREADS", str(request.param))
    return request.param


@pytest.mark.parametrize("strict", [False, True])
def test_native_equals_torch_on_hash_coins(threads, strict):
    gen = torch.Generator().manual_seed(11)
    for trial, (n, m, k, start) in enumerate(CASES):
        g = random_temporal(gen, n, m)
        seeds = torch.randperm(n, generator=gen)[:k]
        for key in (0, 1234 + trial, 2**62 - 1 - trial):
            opts = dict(key=key, start_time=start, strict=strict)
            ref = simulate_temporal_ic(g, seeds, 64, backend="torch", **opts)
            nat = simulate_temporal_ic(g, seeds, 64, backend="native", **opts)
            assert nat.extra["backend"] == "native" and nat.extra["threads"] == threads
            assert torch.equal(nat.spreads, ref.spreads)
            assert torch.equal(nat.node_prob, ref.node_prob)
            assert (nat.mean, nat.stderr) == (ref.mean, ref.stderr)
            assert nat.extra["start_time"] == ref.extra["start_time"]
            # auto picks the native kernel for this call
            assert simulate_temporal_ic(g, seeds, 64, **opts).extra["backend"] == "native"


def test_long_contact_lists(threads):
    # few arcs with many contacts each: the binary search over an arc's contacts matters
    gen = torch.Generator().manual_seed(21)
    for n, m, T in ((6, 400, 300), (15, 900, 60), (25, 2000, 1000)):
        ei = torch.randint(0, n, (2, m), generator=gen)
        t = torch.randint(0, T, (m,), generator=gen)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # self-loops
            g = DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_time=t)
        g = g.with_prob(torch.rand(g.num_edges, generator=gen))
        assert g.time_ptr.diff().max() > 8
        for strict in (False, True):
            for start in (None, T // 2 + 0.5):
                opts = dict(key=n, start_time=start, strict=strict)
                ref = simulate_temporal_ic(g, torch.tensor([0]), 30, backend="torch", **opts)
                nat = simulate_temporal_ic(g, torch.tensor([0]), 30, backend="native", **opts)
                assert torch.equal(nat.spreads, ref.spreads)
                assert torch.equal(nat.node_prob, ref.node_prob)


def test_native_equals_torch_on_injected_coins(threads):
    gen = torch.Generator().manual_seed(5)
    for n, m, k, start in CASES:
        g = random_temporal(gen, n, m)
        seeds = torch.randperm(n, generator=gen)[:k]
        U = torch.rand(16, g.num_edges, generator=gen)
        for strict in (False, True):
            ref = simulate_temporal_ic(
                g, seeds, 16, edge_uniforms=U, start_time=start, strict=strict, backend="torch"
            )
            for coins in (U, U.double()):  # float32 (converted per chunk) and float64
                nat = simulate_temporal_ic(
                    g, seeds, 16, edge_uniforms=coins, start_time=start, strict=strict,
                    backend="native",
                )
                assert torch.equal(nat.spreads, ref.spreads)
                assert torch.equal(nat.node_prob, ref.node_prob)


def _kernel_spreads(g, seed_sets, num_runs, run_offset, key, strict=False, start_time=None):
    """Call the kernel directly: spreads ``[S * num_runs]`` of worlds ``run_offset + r``."""
    kernel = load_temporal_kernel()
    tl = temporal._timeline(g, start_time)
    rowptr, col, prob = native_csr(g)
    cat = torch.cat(seed_sets).long()
    ptr = torch.zeros(len(seed_sets) + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.tensor([s.numel() for s in seed_sets]), 0)
    out = torch.full((len(seed_sets) * num_runs,), -7, dtype=torch.long)
    count = torch.zeros(g.num_nodes, dtype=torch.long)
    status = kernel(
        g.num_nodes, g.num_edges, rowptr.data_ptr(), col.data_ptr(), prob.data_ptr(),
        tl.time_ptr.data_ptr(), temporal._contact_rank32(tl).data_ptr(), tl.start_rank,
        int(strict), cat.data_ptr(), ptr.data_ptr(), len(seed_sets), num_runs, run_offset, key,
        None, native_threads(), out.data_ptr(), count.data_ptr(),
    )
    assert status == 0
    return out, count


@pytest.mark.parametrize("strict", [False, True])
def test_run_offsets_and_chunkings_give_the_same_worlds(threads, strict):
    gen = torch.Generator().manual_seed(2)
    g = random_temporal(gen, 40, 250)
    seeds = torch.tensor([0, 7, 9])
    ref = simulate_temporal_ic(g, seeds, 90, key=77, strict=strict, backend="torch")
    assert ref.spreads.float().std() > 0  # the worlds differ between runs
    for sizes in ([90], [1, 89], [30, 30, 30], [7, 50, 33]):
        parts, counts, start = [], torch.zeros(40, dtype=torch.long), 0
        for size in sizes:
            sp, c = _kernel_spreads(g, [seeds], size, start, 77, strict=strict)
            parts.append(sp)
            counts += c
            start += size
        assert torch.equal(torch.cat(parts), ref.spreads)
        assert torch.equal(counts.float() / 90, ref.node_prob)
    # a float32 copy of the coins converted in chunks (small budget) gives the same runs too
    U = torch.rand(90, g.num_edges, generator=gen)
    one = simulate_temporal_ic(g, seeds, 90, edge_uniforms=U, strict=strict, backend="native")
    need = temporal._native_prep_bytes(g, None) + 2 * (40 * 32 + 64 * 1024)
    small = simulate_temporal_ic(
        g, seeds, 90, edge_uniforms=U, strict=strict, backend="native",
        memory_budget=need + 16 * 1024 + 8 * g.num_edges * 13,
    )
    assert torch.equal(one.spreads, small.spreads)


def test_batched_sets_equal_per_set_calls(threads):
    gen = torch.Generator().manual_seed(9)
    g = random_temporal(gen, 30, 150)
    sets = [torch.tensor([0]), torch.tensor([3, 4, 5]), torch.tensor([], dtype=torch.long),
            torch.tensor([29, 0]), torch.tensor([3, 4, 5])]
    for strict, start in ((False, None), (True, 2)):
        opts = dict(key=31337, start_time=start, strict=strict)
        ones = [simulate_temporal_ic(g, seeds, 40, backend="torch", **opts) for seeds in sets]
        for backend in ("native", "torch"):
            means, stderrs = estimate_temporal_ic_sets(g, sets, 40, backend=backend, **opts)
            assert means.dtype == torch.float64 and means.shape == (5,)
            assert means.tolist() == [one.mean for one in ones]
            assert stderrs.tolist() == [one.stderr for one in ones]
        assert means[1] == means[4]  # the same set on the same worlds
    # the kernel's sets-as-virtual-runs layout: set s, run r at s * R + r, world r for every set
    sp, _ = _kernel_spreads(g, sets, 40, 0, 31337)
    for s, seeds in enumerate(sets):
        one = simulate_temporal_ic(g, seeds, 40, key=31337, backend="torch")
        assert torch.equal(sp[s * 40 : (s + 1) * 40], one.spreads)
    # common random numbers: a key drawn from a generator is shared by every set
    means, _ = estimate_temporal_ic_sets(g, [sets[1], sets[1]], 50,
                                         generator=torch.Generator().manual_seed(1))
    assert means[0] == means[1]
    assert estimate_temporal_ic_sets(g, [], 10, key=1)[0].numel() == 0


def test_native_matches_live_edge_world_enumeration():
    # the tiny graph of test_temporal.py's enumeration test, seeds active from time 1
    contacts = [(0, 1, 1), (0, 1, 6), (1, 2, 2), (0, 2, 4), (2, 3, 3), (2, 3, 5), (1, 3, 1),
                (3, 4, 4), (2, 4, 2)]
    prob = {(0, 1): 0.6, (1, 2): 0.5, (0, 2): 0.3, (2, 3): 0.7, (1, 3): 0.4, (3, 4): 0.8,
            (2, 4): 0.5}
    g, arcs = temporal_graph(contacts, 5, prob)
    tp, tv = g.time_ptr.tolist(), g.time_values.tolist()
    times = [tv[tp[e] : tp[e + 1]] for e in range(g.num_edges)]
    probs = g.edge_prob.tolist()
    mean = second = 0.0
    node_prob = [0.0] * 5
    for live, w in edge_worlds(probs):
        reached = _first_arrival_spread(5, arcs, times, live, [0], 1)
        mean += w * sum(reached)
        second += w * sum(reached) ** 2
        node_prob = [a + w * b for a, b in zip(node_prob, reached, strict=True)]
    sd = math.sqrt(second - mean * mean)
    R = 40_000
    res = simulate_temporal_ic(g, torch.tensor([0]), R, key=2024, backend="native")
    assert abs(res.mean - mean) < 4 * sd / math.sqrt(R)  # 4 standard errors of R runs
    for v in range(5):
        q = node_prob[v]
        assert abs(float(res.node_prob[v]) - q) <= 4 * math.sqrt(q * (1 - q) / R) + 1e-9
    # every single world exactly: injected coins 0 (live) / 1 (dead) per arc
    worlds = [live for live, _ in edge_worlds(probs)]
    U = torch.tensor([[0.0 if keep else 1.0 for keep in live] for live in worlds])
    for strict in (False, True):
        res = simulate_temporal_ic(g, torch.tensor([0]), len(worlds), edge_uniforms=U,
                                   strict=strict, backend="native")
        if not strict:
            want = [sum(_first_arrival_spread(5, arcs, times, live, [0], 1)) for live in worlds]
            assert res.spreads.tolist() == want
        ref = simulate_temporal_ic(g, torch.tensor([0]), len(worlds), edge_uniforms=U,
                                   strict=strict, backend="torch")
        assert torch.equal(res.spreads, ref.spreads)


def test_budget_refused_before_any_work(monkeypatch):
    gen = torch.Generator().manual_seed(4)
    g = random_temporal(gen, 30, 120)

    def boom(*args, **kwargs):
        raise AssertionError("the timeline was built before the budget check")

    monkeypatch.setattr(temporal, "_Timeline", boom)
    need = temporal._native_prep_bytes(g, None)
    assert need >= g.time_values.numel() * temporal._TIMELINE_BYTES_PER_CONTACT
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_temporal_ic(g, torch.tensor([0]), 10, key=1, backend="native",
                             memory_budget=need)
    with pytest.raises(MemoryError, match="memory_budget"):
        estimate_temporal_ic_sets(g, [torch.tensor([0])] * 3, 10, key=1, backend="native",
                                  memory_budget=need)
    assert "native_csr" not in g._cache
    # the result arrays are charged: a million runs of 8 B do not fit in 4 MB of headroom
    monkeypatch.undo()
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_temporal_ic(g, torch.tensor([0]), 10**6, key=1, backend="native",
                             memory_budget=need + 4 * 1024**2)
    # the default budget is ample here, and a cached preparation is not charged again
    simulate_temporal_ic(g, torch.tensor([0]), 10, key=1, backend="native")
    assert temporal._native_prep_bytes(g, None) == 0
    assert DEFAULT_MEMORY_BUDGET > need


def test_forced_native_errors():
    gen = torch.Generator().manual_seed(1)
    g = random_temporal(gen, 10, 30)
    with pytest.raises(ValueError, match="provenance"):
        simulate_temporal_ic(g, torch.tensor([0]), 2, key=1, backend="native",
                             return_provenance=True)
    with pytest.raises(ValueError, match="backend"):
        simulate_temporal_ic(g, torch.tensor([0]), 2, key=1, backend="gpu")
    # a graph on a CUDA device (stood in for by its device and sizes, so no GPU is needed)
    cuda_graph = SimpleNamespace(device=torch.device("cuda"), num_nodes=10, num_edges=30,
                                 time_values=g.time_values)
    with pytest.raises(ValueError, match="CPU graph for temporal IC"):
        temporal._choose_temporal_backend(cuda_graph, "native", provenance=False)
    assert temporal._choose_temporal_backend(cuda_graph, "auto", provenance=False) != "native"
    # auto with provenance falls back to torch silently
    res = simulate_temporal_ic(g, torch.tensor([0]), 2, key=1, return_provenance=True)
    assert res.extra["backend"] == "torch" and res.parent is not None
    # the usual input errors on the native path
    with pytest.raises(ValueError, match="edge_uniforms"):
        simulate_temporal_ic(g, torch.tensor([0]), 2, edge_uniforms=torch.zeros(1, 1),
                             backend="native")
    with pytest.raises(ValueError, match="out of range"):
        simulate_temporal_ic(g, torch.tensor([10]), 1, backend="native")
    with pytest.raises(ValueError, match="start_time"):
        simulate_temporal_ic(g, torch.tensor([0]), 1, start_time=float("inf"), backend="native")
    static = g.replace(time_ptr=None, time_values=None)
    with pytest.raises(ValueError, match="temporal"):
        simulate_temporal_ic(static, torch.tensor([0]), 1, backend="native")


def test_falls_back_to_torch_when_native_is_off(monkeypatch):
    gen = torch.Generator().manual_seed(8)
    g = random_temporal(gen, 20, 80)
    on = simulate_temporal_ic(g, torch.tensor([1, 2]), 30, key=5)
    assert on.extra["backend"] == "native"
    monkeypatch.setattr(flags, "USE_NATIVE_CPU", False)
    off = simulate_temporal_ic(g, torch.tensor([1, 2]), 30, key=5)
    assert off.extra["backend"] == "torch"
    assert torch.equal(on.spreads, off.spreads) and torch.equal(on.node_prob, off.node_prob)
    means, _ = estimate_temporal_ic_sets(g, [torch.tensor([1, 2])], 30, key=5)
    assert means[0].item() == on.mean


def test_torch_provenance_when_an_earlier_arrival_has_more_hops():
    # node 3 is reached at 5 in 1 hop (0 -> 3) and at 3 in 3 hops (0 -> 1 -> 2 -> 3); its only
    # contact to 4 is at 7, so 4 arrives at 7 either way. The event-driven process activates 3 at
    # 3 (3 hops), which then activates 4 at 7: hops 4, parent 3. The torch relaxation keeps the
    # key (7, 2 hops) from 3's first label; the provenance is rebuilt from the arrival times.
    g, _ = temporal_graph([(0, 3, 5), (0, 1, 1), (1, 2, 2), (2, 3, 3), (3, 4, 7)], 5)
    res = simulate_temporal_ic(g, torch.tensor([0]), 1, key=1, return_provenance=True)
    _, hops, parent = temporal_ic_reference(g, [0], [0.0] * g.num_edges)
    assert res.activation_step[0].tolist() == hops
    assert res.parent[0].tolist() == parent


@pytest.mark.parametrize("strict", [False, True])
def test_torch_provenance_matches_the_event_driven_process_on_many_graphs(strict):
    # dense graphs with many contacts per arc make a node's earliest arrival the longer walk
    # often; the activation tree must still be the event-driven one (hops and parents)
    gen = torch.Generator().manual_seed(11)
    mismatched_relaxed_hops = 0
    for trial in range(120):
        n = 4 + trial % 6
        g = random_temporal(gen, n, 5 * n)
        U = torch.rand(3, g.num_edges, generator=gen) * 0.7
        seeds = torch.randperm(n, generator=gen)[: 1 + trial % 2]
        res = simulate_temporal_ic(g, seeds, 3, edge_uniforms=U, strict=strict,
                                   return_provenance=True)
        for r in range(3):
            _, hops, parent = temporal_ic_reference(g, seeds.tolist(), U[r].tolist(),
                                                    strict=strict)
            assert res.activation_step[r].tolist() == hops, (trial, r)
            assert res.parent[r].tolist() == parent, (trial, r)
            mismatched_relaxed_hops += any(p == -1 and h > 0 for h, p in zip(
                res.activation_step[r].tolist(), res.parent[r].tolist(), strict=True))
    assert mismatched_relaxed_hops == 0
