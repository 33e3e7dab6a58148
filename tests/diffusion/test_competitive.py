"""Competitive IC (F vs T, paper B) and blocked influence: reference equality, exact values, CRN."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from influence_gpu.api import blocked_influence, simulate_competitive
from influence_gpu.diffusion._common import hash_uniform
from influence_gpu.diffusion._reference import competitive_ic_reference
from influence_gpu.diffusion.competitive import (
    FALSE,
    TRUE,
    BlockedResult,
    blocked_influence_batch,
    estimate_blocked_influence,
    simulate_competitive_ic,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from tests.exact import bfs_dist, edge_worlds

INF = float("inf")


def random_graph(seed: int, n: int, m: int, device: str = "cpu", p: float | None = None):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    prob = torch.rand(m, generator=g) if p is None else torch.full((m,), p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self-loops / duplicates of the random draw
        return DiffusionGraph.from_edge_index(ei, n, prob).to(device)


def arcs_graph(n, arcs, probs, device="cpu"):
    ei = torch.tensor(arcs, dtype=torch.long).t()
    return DiffusionGraph.from_edge_index(ei, n, torch.tensor(probs)).to(device)


def check_against_reference(graph, res, f, t, coins):
    color, step, parent = res.color.cpu(), res.activation_step.cpu(), res.parent.cpu()
    for r in range(coins.size(0)):
        c_ref, s_ref, p_ref = competitive_ic_reference(graph, f, t, coins[r].tolist())
        assert color[r].tolist() == c_ref, f"run {r}: colour"
        assert step[r].tolist() == s_ref, f"run {r}: step"
        assert parent[r].tolist() == p_ref, f"run {r}: parent"
        assert int(res.false_spreads[r]) == c_ref.count(FALSE)
        assert int(res.true_spreads[r]) == c_ref.count(TRUE)


# ---------------------------------------------------------------- equality with the reference
@pytest.mark.parametrize("gseed", [0, 1, 2])
def test_matches_reference_with_injected_coins(devices, gseed):
    graph = random_graph(gseed, n=25, m=80, device=devices)
    g = torch.Generator().manual_seed(100 + gseed)
    coins = torch.rand(40, graph.num_edges, generator=g)
    f, t = [0, 4, 9], [1, 13]
    res = simulate_competitive_ic(
        graph,
        torch.tensor(f, device=devices),
        torch.tensor(t, device=devices),
        40,
        edge_uniforms=coins.to(devices),
        return_provenance=True,
    )
    check_against_reference(graph.to("cpu"), res, f, t, coins)
    assert res.node_false_prob.tolist() == pytest.approx(
        (res.color == FALSE).double().mean(0).tolist()
    )


@pytest.mark.parametrize("budget", [None, 40_000])
def test_matches_reference_with_hash_coins(devices, budget):
    graph = random_graph(7, n=30, m=100, device=devices)
    key, runs = 987654321, 30
    f, t = [2, 3], [5, 11, 17]
    res = simulate_competitive_ic(
        graph,
        torch.tensor(f),
        torch.tensor(t),
        runs,
        key=key,
        memory_budget=budget,
        return_provenance=True,
    )
    assert res.extra["key"] == key
    coins = hash_uniform(key, torch.arange(runs)[:, None], torch.arange(graph.num_edges)[None])
    check_against_reference(graph.to("cpu"), res, f, t, coins)


# ---------------------------------------------------------------- exact values on a tiny graph
# 6 nodes, 8 arcs (256 worlds); F = {0}, T = {3}. Node 2 can be reached by both at distance 1
# (a tie, F wins), node 4 at distance 2 by both, node 5 only through 4 or from 3 directly.
TINY_N = 6
TINY_ARCS = [(0, 1), (0, 2), (3, 2), (1, 4), (2, 4), (3, 5), (4, 5), (1, 3)]
TINY_P = [0.6, 0.5, 0.7, 0.4, 0.8, 0.3, 0.5, 0.2]
TINY_F, TINY_T = [0], [3]


def exact_competitive(n, arcs, probs, f, t):
    """E[#F], Var[#F], E[#T], Var[#T], E[D], Var[D] with D = #F(no T) - #F(T) per world."""
    m = {k: 0.0 for k in ("f", "f2", "t", "t2", "d", "d2")}
    for live, w in edge_worlds(probs):
        arcs_live = [a for a, keep in zip(arcs, live, strict=True) if keep]
        df = bfs_dist(n, arcs_live, f)
        dt = bfs_dist(n, arcs_live, t) if t else [INF] * n
        nf = sum(1 for v in range(n) if df[v] < INF and df[v] <= dt[v])
        nt = sum(1 for v in range(n) if dt[v] < df[v])
        d = sum(1 for v in range(n) if df[v] < INF) - nf
        for k, x in (("f", nf), ("t", nt), ("d", d)):
            m[k] += w * x
            m[k + "2"] += w * x * x
    return tuple(v for k in ("f", "t", "d") for v in (m[k], m[k + "2"] - m[k] ** 2))


def test_exact_tiny_graph_counts(devices):
    graph = arcs_graph(TINY_N, TINY_ARCS, TINY_P, devices)
    ef, vf, et, vt, _, _ = exact_competitive(TINY_N, TINY_ARCS, TINY_P, TINY_F, TINY_T)
    runs = 20_000
    res = simulate_competitive(graph, TINY_F, TINY_T, num_samples=runs, seed=3)
    # 4 standard errors of a mean of `runs` iid counts with the exact variance
    assert abs(res.false_mean - ef) < 4 * math.sqrt(vf / runs)
    assert abs(res.true_mean - et) < 4 * math.sqrt(vt / runs)
    assert res.false_stderr == pytest.approx(math.sqrt(vf / runs), rel=0.1)


def test_exact_tiny_graph_blocked_influence(devices):
    graph = arcs_graph(TINY_N, TINY_ARCS, TINY_P, devices)
    _, _, _, _, ed, vd = exact_competitive(TINY_N, TINY_ARCS, TINY_P, TINY_F, TINY_T)
    runs = 20_000
    value = blocked_influence(graph, TINY_F, TINY_T, num_samples=runs, seed=5)
    assert isinstance(value, float)
    assert abs(value - ed) < 4 * math.sqrt(vd / runs)
    assert ed > 0.25  # the check is not vacuous


def test_exact_tiny_graph_no_truth_is_ic(devices):
    graph = arcs_graph(TINY_N, TINY_ARCS, TINY_P, devices)
    ef, vf, et, _, _, _ = exact_competitive(TINY_N, TINY_ARCS, TINY_P, TINY_F, [])
    runs = 20_000
    res = simulate_competitive(graph, TINY_F, [], num_samples=runs, seed=9)
    assert et == 0.0 and res.true_mean == 0.0
    assert abs(res.false_mean - ef) < 4 * math.sqrt(vf / runs)


# ---------------------------------------------------------------- deterministic cases (p = 1)
def test_tie_goes_to_false_and_closer_truth_wins():
    # F seed 5 has a larger id than T seed 0 (so "lowest id wins" would fail). Both reach 1 at
    # step 1: a tie, so 1 is F and passes F to 2 at step 2. T reaches 3 at step 1, F only at
    # step 2 (5 -> 4 -> 3), so 3 is T and passes T to 6.
    arcs = [(5, 1), (0, 1), (1, 2), (0, 3), (5, 4), (4, 3), (3, 6)]
    graph = arcs_graph(7, arcs, [1.0] * len(arcs))
    res = simulate_competitive_ic(
        graph, torch.tensor([5]), torch.tensor([0]), 3, key=1, return_provenance=True
    )
    expect_color = [TRUE, FALSE, FALSE, TRUE, FALSE, FALSE, TRUE]
    expect_step = [0, 1, 2, 1, 1, 0, 2]
    expect_parent = [-1, 5, 1, 0, 5, -1, 3]
    for r in range(3):
        assert res.color[r].tolist() == expect_color
        assert res.activation_step[r].tolist() == expect_step
        assert res.parent[r].tolist() == expect_parent
    assert res.false_mean == 4 and res.true_mean == 3 and res.false_stderr == 0.0
    assert res.extra["num_steps"] == 2
    b = estimate_blocked_influence(graph, torch.tensor([5]), torch.tensor([0]), 4, key=1)
    # F alone reaches 5, 1, 2, 4, 3, 6 (6 nodes); with T: 4 F nodes
    assert (b.mean, b.stderr, b.false_only_mean, b.with_truth_mean) == (2.0, 0.0, 6.0, 4.0)


def test_zero_probability_keeps_only_seeds():
    graph = random_graph(3, n=20, m=60, p=0.0)
    res = simulate_competitive_ic(graph, torch.tensor([0, 1]), torch.tensor([2]), 10, key=4)
    assert res.false_spreads.tolist() == [2] * 10 and res.true_spreads.tolist() == [1] * 10
    assert res.extra["num_steps"] == 0


# ---------------------------------------------------------------- common random numbers
def test_crn_reduces_stderr_of_blocked_influence():
    graph = random_graph(0, n=40, m=120, p=0.3)
    f, t, runs = torch.tensor([0, 1]), torch.tensor([2, 3]), 500
    crn = estimate_blocked_influence(graph, f, t, runs, key=11)
    alone = simulate_competitive_ic(graph, f, t[:0], runs, key=12)
    both = simulate_competitive_ic(graph, f, t, runs, key=13)
    independent = math.hypot(alone.false_stderr, both.false_stderr)
    assert crn.mean > 0.5
    # measured ratio about 0.35 on this graph; independent keys would give about 1
    assert crn.stderr < 0.5 * independent


def test_same_key_same_worlds_across_calls():
    graph = random_graph(5, n=30, m=90)
    f, t, key, runs = torch.tensor([0, 1]), torch.tensor([2]), 2024, 200
    b = estimate_blocked_influence(graph, f, t, runs, key=key)
    alone = simulate_competitive_ic(graph, f, t[:0], runs, key=key)
    both = simulate_competitive_ic(graph, f, t, runs, key=key)
    assert b.differences.tolist() == (alone.false_spreads - both.false_spreads).tolist()
    assert b.false_only_mean == pytest.approx(alone.false_mean)
    assert b.with_truth_mean == pytest.approx(both.false_mean)
    assert bool((b.differences >= 0).all())  # truth only removes F nodes in each world
    other = simulate_competitive_ic(graph, f, t, runs, key=key + 1)
    assert other.false_spreads.tolist() != both.false_spreads.tolist()


def test_batch_matches_single_estimates(devices):
    graph = random_graph(8, n=30, m=100, device=devices)
    f = torch.tensor([0, 1], device=devices)
    sets = [torch.tensor(s, dtype=torch.long, device=devices) for s in ([2], [3, 4, 5], [], [29])]
    key, runs = 77, 150
    batch = blocked_influence_batch(graph, f, sets, runs, key=key)
    small = blocked_influence_batch(graph, f, sets, runs, key=key, memory_budget=30_000)
    single = [estimate_blocked_influence(graph, f, s, runs, key=key).mean for s in sets]
    assert batch.shape == (4,) and batch[2] == 0.0
    assert batch.tolist() == pytest.approx(single, abs=1e-12)
    assert small.tolist() == batch.tolist()


# ---------------------------------------------------------------- chunking does not change results
def test_results_identical_across_memory_budgets(devices):
    graph = random_graph(4, n=50, m=200, device=devices)
    f, t = torch.tensor([0, 1, 2]), torch.tensor([3, 4])
    out = [
        simulate_competitive_ic(graph, f, t, 64, key=31, memory_budget=b, return_provenance=True)
        for b in (None, 300_000, 120_000)  # 120 kB: one run per chunk, 312-edge blocks
    ]
    for res in out[1:]:
        assert torch.equal(res.color, out[0].color)
        assert torch.equal(res.activation_step, out[0].activation_step)
        assert torch.equal(res.parent, out[0].parent)
        assert torch.equal(res.node_false_prob, out[0].node_false_prob)
        assert res.false_mean == out[0].false_mean and res.true_mean == out[0].true_mean
    lean = simulate_competitive_ic(graph, f, t, 64, key=31, memory_budget=20_000)
    assert torch.equal(lean.false_spreads, out[0].false_spreads)
    assert torch.equal(lean.true_spreads, out[0].true_spreads)
    blocked = [
        estimate_blocked_influence(graph, f, t, 64, key=31, memory_budget=b).mean
        for b in (None, 20_000)
    ]
    assert blocked[0] == blocked[1]


def test_memory_error_before_work():
    graph = random_graph(4, n=50, m=200)
    f, t = torch.tensor([0]), torch.tensor([1])
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_competitive_ic(graph, f, t, 10, memory_budget=100)
    # the [R, n] provenance outputs count against the budget too
    simulate_competitive_ic(graph, f, t, 1000, memory_budget=200_000)
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_competitive_ic(graph, f, t, 1000, memory_budget=200_000, return_provenance=True)


# ---------------------------------------------------------------- bad input
def test_bad_seeds_through_public_api():
    graph = random_graph(1, n=10, m=30)
    for fn in (simulate_competitive, blocked_influence):
        with pytest.raises(ValueError, match="disjoint"):
            fn(graph, [0, 1], [1, 2], num_samples=10, seed=0)
        with pytest.raises(ValueError, match="false_seeds"):
            fn(graph, [0, 0], [2], num_samples=10, seed=0)
        with pytest.raises(ValueError, match="true_seeds"):
            fn(graph, [0], [2, 2], num_samples=10, seed=0)
        with pytest.raises(ValueError):
            fn(graph, [0], [10], num_samples=10, seed=0)
        with pytest.raises(ValueError, match="num_samples"):
            fn(graph, [0], [1], num_samples=0, seed=0)


def test_bad_input_to_model_functions():
    graph = random_graph(1, n=10, m=30)
    f, t = torch.tensor([0]), torch.tensor([1])
    with pytest.raises(ValueError, match="true_seeds"):
        simulate_competitive_ic(graph, f, torch.tensor([12]), 5)
    with pytest.raises(ValueError, match="disjoint"):
        simulate_competitive_ic(graph, f, torch.tensor([0]), 5)
    with pytest.raises(ValueError, match="edge_uniforms"):
        simulate_competitive_ic(graph, f, t, 5, edge_uniforms=torch.rand(4, graph.num_edges))
    with pytest.raises(ValueError, match=r"true_seed_sets\[1\]"):
        blocked_influence_batch(graph, f, [t, torch.tensor([0])], 5)
    with pytest.raises(TypeError, match="true_seed_sets"):
        blocked_influence_batch(graph, f, t, 5)
    with pytest.raises(ValueError, match="probabilities"):
        simulate_competitive_ic(graph.replace(edge_prob=None), f, t, 5)


def test_generator_reproducible_and_result_types():
    graph = random_graph(2, n=20, m=60)
    f, t = torch.tensor([0]), torch.tensor([1])
    a = simulate_competitive_ic(graph, f, t, 50, generator=torch.Generator().manual_seed(1))
    b = simulate_competitive_ic(graph, f, t, 50, generator=torch.Generator().manual_seed(1))
    assert a.extra["key"] == b.extra["key"] and torch.equal(a.false_spreads, b.false_spreads)
    assert a.color is None and a.false_spreads.shape == (50,)
    r = estimate_blocked_influence(graph, f, t, 50, generator=torch.Generator().manual_seed(1))
    assert isinstance(r, BlockedResult) and r.num_samples == 50 and r.key is not None


@pytest.mark.skipif(
    __import__("shutil").which("g++") is None, reason="no C++ compiler for the native kernel"
)
@pytest.mark.parametrize("gseed", range(3))
def test_native_false_counts_equal_torch_exactly(monkeypatch, gseed):
    from influence_gpu import typing as flags
    from influence_gpu.diffusion.competitive import blocked_influence_batch

    g = torch.Generator().manual_seed(gseed)
    n, m = 120, 700
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    graph = DiffusionGraph.from_edge_index(
        ei, num_nodes=n, edge_prob=torch.rand(ei.size(1), generator=g)
    )
    f = torch.tensor([0, 1, 2])
    sets = [torch.tensor([3]), torch.tensor([4, 5, 6]), torch.tensor([], dtype=torch.long)]
    native = blocked_influence_batch(graph, f, sets, 200, key=1234 + gseed)
    est_native = estimate_blocked_influence(graph, f, sets[1], 200, key=7)
    monkeypatch.setattr(flags, "USE_NATIVE_CPU", False)
    torch_path = blocked_influence_batch(graph, f, sets, 200, key=1234 + gseed)
    est_torch = estimate_blocked_influence(graph, f, sets[1], 200, key=7)
    assert torch.equal(native, torch_path)
    assert torch.equal(est_native.differences, est_torch.differences)
    assert native[1] > 0  # the check is not vacuous: truth seeds block something here
