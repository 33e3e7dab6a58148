"""Minimum / multiplication threshold simulators: references, closed forms, blocking, memory."""

from __future__ import annotations

import math

import pytest
import torch

from influence_gpu.diffusion._reference import (
    minimum_threshold_reference,
    multiplication_threshold_reference,
)
from influence_gpu.diffusion.threshold import (
    simulate_minimum_threshold,
    simulate_multiplication_threshold,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph

MODELS = ["minimum", "multiplication"]


def _sim(model, *args, **kw):
    fn = simulate_minimum_threshold if model == "minimum" else simulate_multiplication_threshold
    return fn(*args, **kw)


def _ref(model, graph, seeds, theta_run, alpha=None):
    if model == "minimum":
        return minimum_threshold_reference(graph, seeds, theta_run, alpha)
    return multiplication_threshold_reference(graph, seeds, theta_run)


def _graph(arcs, weights, n=None) -> DiffusionGraph:
    ei = torch.tensor(arcs, dtype=torch.long).t().reshape(2, -1)
    return DiffusionGraph.from_edge_index(
        ei, num_nodes=n, edge_prob=torch.tensor(weights, dtype=torch.float32)
    )


def random_graph(seed: int, n: int = 30, m: int = 110) -> DiffusionGraph:
    """Random digraph with weights in [0.3, 1] (high enough for cascades to go deep)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=g)
    dst = torch.randint(0, n, (m,), generator=g)
    keep = src != dst
    ei = torch.unique(torch.stack([src[keep], dst[keep]]), dim=1)
    w = 0.3 + 0.7 * torch.rand(ei.size(1), generator=g)
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=w)


def _check_against_reference(model, graph, seeds, theta, res, alpha=None):
    for r in range(theta.shape[0]):
        step, blocked, parent = _ref(
            model, graph, seeds, theta[r].tolist(), None if alpha is None else alpha.tolist()
        )
        assert res.activation_step[r].tolist() == step, f"run {r}"
        assert res.parent[r].tolist() == parent, f"run {r}"
        assert res.blocked[r].item() == sum(blocked), f"run {r}"
    active = res.activation_step >= 0
    assert torch.equal(res.spreads, active.sum(1))


# ------------------------------------------------------------------ equality with the reference
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("gseed", [0, 1, 2])
def test_matches_reference_random_graphs(model, gseed, devices):
    graph = random_graph(gseed)
    R = 48
    g = torch.Generator().manual_seed(50 + gseed)
    theta = torch.rand(R, graph.num_nodes, generator=g) * 0.8
    alpha = None
    if model == "minimum" and gseed > 0:
        alpha = 0.5 + torch.rand(graph.num_nodes, generator=g)
    seeds = [0, 9, 17][: 1 + gseed]
    res = _sim(
        model,
        graph.to(devices),
        torch.tensor(seeds, device=devices),
        R,
        thresholds=theta,
        alpha=alpha,
        return_provenance=True,
    )
    assert res.model == f"{model}_threshold"
    # non-trivial runs: deep cascades and blocked nodes both occur
    assert res.extra["max_steps"] >= 3 and res.blocked_mean > 0
    _check_against_reference(model, graph, seeds, theta, res, alpha)
    # blocked nodes never become active; node_blocked_prob agrees with the counts
    assert res.node_blocked_prob.sum().item() == pytest.approx(res.blocked_mean, rel=1e-5)


@pytest.mark.parametrize("model", MODELS)
def test_matches_reference_with_exact_ties(model):
    """Weights and thresholds on a dyadic grid: products / minima equal theta exactly."""
    g = torch.Generator().manual_seed(3)
    n = 14
    arcs = [(u, v) for u in range(n) for v in range(n) if u != v and (2 * u + 3 * v) % 5 < 2]
    w = (torch.randint(1, 5, (len(arcs),), generator=g).float() / 4).tolist()  # {.25,.5,.75,1}
    graph = _graph(arcs, w, n=n)
    R = 64
    theta = torch.randint(0, 9, (R, n), generator=g).float() / 16  # {0, 1/16, ..., 1/2}
    res = _sim(model, graph, torch.tensor([0]), R, thresholds=theta, return_provenance=True)
    _check_against_reference(model, graph, [0], theta, res)
    assert res.blocked_mean > 0 and res.mean > 3


# --------------------------------------------------------------------------------- closed forms
def _grid_thresholds(K: int, n: int, node: int) -> torch.Tensor:
    """K runs; node ``node`` takes the thresholds k/K (k = 1..K), the others 1 (inert)."""
    theta = torch.ones(K, n)
    theta[:, node] = (torch.arange(K, dtype=torch.float32) + 1) / K
    return theta


@pytest.mark.parametrize("model", MODELS)
def test_single_in_neighbour_activates_with_probability_b(model):
    b = 0.3
    graph = _graph([(0, 1)], [b], n=2)
    # exact on a threshold grid: theta in {1/K, ..., 1}, active iff theta <= b
    K = 1000
    res = _sim(model, graph, torch.tensor([0]), K, thresholds=_grid_thresholds(K, 2, 1))
    assert float(res.node_prob[1]) == pytest.approx(math.floor(b * K) / K, abs=1e-7)
    assert float(res.node_blocked_prob[1]) == pytest.approx(1 - math.floor(b * K) / K, abs=1e-7)
    assert float(res.node_blocked_prob[0]) == 0.0  # seeds are never blocked
    # statistical, drawn thresholds: 4 standard errors of a frequency over R runs
    R = 20_000
    res = _sim(model, graph, torch.tensor([0]), R, generator=torch.Generator().manual_seed(1))
    tol = 4 * math.sqrt(b * (1 - b) / R)
    assert abs(float(res.node_prob[1]) - b) <= tol
    assert abs(res.blocked_mean - (1 - b)) <= tol
    assert torch.equal(res.spreads + res.blocked, torch.full((R,), 2))


@pytest.mark.parametrize("model", MODELS)
def test_two_in_neighbours_active_at_the_same_step(model):
    """Seeds 0, 1 both feed node 2: product (multiplication) or minimum (minimum) of weights."""
    b0, b1 = 0.75, 0.5
    alpha = torch.tensor([0.5, 1.0, 1.0]) if model == "minimum" else None
    graph = _graph([(0, 2), (1, 2)], [b0, b1], n=3)
    if model == "minimum":
        p = min(0.5 * b0, 1.0 * b1)  # 0.375
    else:
        p = b0 * b1  # 0.375
    K = 1024
    res = _sim(
        model, graph, torch.tensor([0, 1]), K, thresholds=_grid_thresholds(K, 3, 2), alpha=alpha
    )
    assert float(res.node_prob[2]) == pytest.approx(p, abs=1e-7)  # p * K is an integer
    assert res.blocked_mean == pytest.approx(1 - p, abs=1e-7)
    assert res.mean == pytest.approx(2 + p, abs=1e-7)
    # without alpha the minimum model uses min(b0, b1) = 0.5
    if model == "minimum":
        res = _sim(model, graph, torch.tensor([0, 1]), K, thresholds=_grid_thresholds(K, 3, 2))
        assert float(res.node_prob[2]) == pytest.approx(0.5, abs=1e-7)


@pytest.mark.parametrize("model", MODELS)
def test_first_test_decides_and_later_neighbours_are_ignored(model):
    """0 -> 2 directly and 0 -> 1 -> 2: node 2 is tested once, at step 1, against {0} only.

    So P(2 active) = b02 whatever b01, b12 (a later active in-neighbour 1 cannot block or help
    it), and P(1 blocked) = 1 - b01.
    """
    b01, b02, b12 = 0.5, 0.75, 0.25
    graph = _graph([(0, 1), (0, 2), (1, 2)], [b01, b02, b12], n=3)
    K = 64
    grid = (torch.arange(K, dtype=torch.float32) + 1) / K
    t1, t2 = torch.meshgrid(grid, grid, indexing="ij")  # all K*K threshold pairs
    theta = torch.stack([torch.ones(K * K), t1.reshape(-1), t2.reshape(-1)], 1)
    res = _sim(model, graph, torch.tensor([0]), K * K, thresholds=theta, return_provenance=True)
    assert res.node_prob.tolist() == pytest.approx([1.0, b01, b02], abs=1e-7)
    assert res.node_blocked_prob.tolist() == pytest.approx([0.0, 1 - b01, 1 - b02], abs=1e-7)
    steps = res.activation_step
    assert set(steps[:, 2].tolist()) == {-1, 1}  # never activated at step 2


@pytest.mark.parametrize("model", MODELS)
def test_chain_blocked_counts(model):
    """Path 0 -> 1 -> 2: P(2 active) = b01 b12; E[blocked] = (1 - b01) + b01 (1 - b12)."""
    b01, b12 = 0.75, 0.5
    graph = _graph([(0, 1), (1, 2)], [b01, b12], n=3)
    K = 32
    grid = (torch.arange(K, dtype=torch.float32) + 1) / K
    t1, t2 = torch.meshgrid(grid, grid, indexing="ij")
    theta = torch.stack([torch.ones(K * K), t1.reshape(-1), t2.reshape(-1)], 1)
    res = _sim(model, graph, torch.tensor([0]), K * K, thresholds=theta)
    assert float(res.node_prob[2]) == pytest.approx(b01 * b12, abs=1e-7)
    assert res.blocked_mean == pytest.approx((1 - b01) + b01 * (1 - b12), abs=1e-7)
    assert float(res.node_prob[2] + res.node_blocked_prob[2]) == pytest.approx(b01, abs=1e-7)


def test_models_are_not_monotone():
    """Adding a seed with a weak edge into node 2 lowers its activation probability."""
    graph = _graph([(0, 2), (1, 2)], [0.875, 0.125], n=3)
    K = 64
    theta = _grid_thresholds(K, 3, 2)
    for model in MODELS:
        one = _sim(model, graph, torch.tensor([0]), K, thresholds=theta)
        two = _sim(model, graph, torch.tensor([0, 1]), K, thresholds=theta)
        assert float(one.node_prob[2]) == pytest.approx(0.875)
        assert float(two.node_prob[2]) < 0.2
        assert two.mean < one.mean + 1  # the extra seed gained less than itself


# ----------------------------------------------------------------------------- checks and edges
@pytest.mark.parametrize("model", MODELS)
def test_seeds_active_and_empty_seeds(model):
    graph = _graph([(0, 1), (1, 2), (2, 0)], [1.0, 1.0, 1.0], n=5)
    res = _sim(model, graph, torch.tensor([0]), 10, generator=torch.Generator().manual_seed(0))
    assert res.mean == 3.0 and res.blocked_mean == 0.0  # weight 1 always passes
    res = _sim(model, graph, torch.tensor([3, 4]), 10, generator=torch.Generator().manual_seed(0))
    assert res.mean == 2.0 and res.node_prob.tolist() == [0, 0, 0, 1, 1]
    empty = _sim(model, graph, torch.tensor([], dtype=torch.long), 10, return_provenance=True)
    assert empty.mean == 0.0 and empty.blocked_mean == 0.0 and empty.stderr == 0.0
    assert bool((empty.activation_step == -1).all())


@pytest.mark.parametrize("model", MODELS)
def test_zero_weight_blocks_and_zero_threshold_passes(model):
    graph = _graph([(0, 1), (0, 2)], [0.0, 0.0], n=3)
    drawn = _sim(model, graph, torch.tensor([0]), 100, generator=torch.Generator().manual_seed(0))
    assert drawn.mean == 1.0 and drawn.blocked_mean == 2.0  # drawn thresholds are > 0
    theta = torch.tensor([[1.0, 0.0, 0.5]])  # injected 0: passes its first test (x >= 0)
    res = _sim(model, graph, torch.tensor([0]), 1, thresholds=theta)
    assert res.node_prob.tolist() == [1, 1, 0] and res.node_blocked_prob.tolist() == [0, 0, 1]


def test_alpha_checks():
    graph = _graph([(0, 1)], [0.5], n=2)
    with pytest.raises(ValueError, match="alpha must have shape"):
        simulate_minimum_threshold(graph, torch.tensor([0]), 5, alpha=torch.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        simulate_minimum_threshold(graph, torch.tensor([0]), 5, alpha=torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="minimum threshold model only"):
        simulate_multiplication_threshold(graph, torch.tensor([0]), 5, alpha=torch.ones(2))
    # alpha scales the sender's weight: alpha_0 = 2 makes 2 * 0.5 = 1 always pass
    res = simulate_minimum_threshold(
        graph,
        torch.tensor([0]),
        50,
        alpha=torch.tensor([2.0, 1.0]),
        generator=torch.Generator().manual_seed(0),
    )
    assert res.mean == 2.0


@pytest.mark.parametrize("model", MODELS)
def test_bad_thresholds_and_seeds(model):
    graph = _graph([(0, 1)], [0.5], n=2)
    with pytest.raises(ValueError, match="thresholds must have shape"):
        _sim(model, graph, torch.tensor([0]), 3, thresholds=torch.rand(2, 2))
    with pytest.raises(ValueError, match="thresholds"):
        _sim(model, graph, torch.tensor([0]), 1, thresholds=torch.tensor([[0.5, -0.1]]))
    with pytest.raises(ValueError, match="seeds"):
        _sim(model, graph, torch.tensor([2]), 3)


@pytest.mark.parametrize("model", MODELS)
def test_chunking_gives_identical_results(model):
    graph = random_graph(4, n=40, m=180)
    R = 33
    theta = torch.rand(R, 40, generator=torch.Generator().manual_seed(0)) * 0.8
    seeds = torch.tensor([1, 2])
    one = _sim(model, graph, seeds, R, thresholds=theta, return_provenance=True)
    # the torch engine chunks under a small budget (the native kernel has no per-run state)
    small = _sim(
        model, graph, seeds, R, thresholds=theta, return_provenance=True, memory_budget=60_000,
        backend="torch",
    )
    assert one.extra["runs_per_chunk"] == R and small.extra["runs_per_chunk"] < R
    for f in ("spreads", "blocked", "activation_step", "parent", "node_prob", "node_blocked_prob"):
        assert torch.equal(getattr(one, f), getattr(small, f)), f
    # drawn thresholds: the same generator seed gives the same runs under any chunking
    a = _sim(model, graph, seeds, 100, generator=torch.Generator().manual_seed(9))
    b = _sim(
        model, graph, seeds, 100, generator=torch.Generator().manual_seed(9), memory_budget=50_000,
        backend="torch",
    )
    assert torch.equal(a.spreads, b.spreads) and torch.equal(a.blocked, b.blocked)


@pytest.mark.parametrize("model", MODELS)
def test_impossible_budget_raises_before_work(model):
    graph = random_graph(0)
    gen = torch.Generator().manual_seed(2)
    state = gen.get_state()
    with pytest.raises(MemoryError, match="memory_budget"):
        _sim(model, graph, torch.tensor([0]), 10, generator=gen, memory_budget=64)
    assert torch.equal(gen.get_state(), state)


def test_public_simulate_dispatches_to_threshold_models():
    from influence_gpu.api import simulate

    graph = _graph([(0, 1)], [0.25], n=2)
    for name in ("minimum_threshold", "multiplication_threshold"):
        res = simulate(graph, [0], model=name, num_samples=4000, seed=0)
        assert res.model == name
        assert abs(float(res.node_prob[1]) - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / 4000)
        assert res.blocked_mean == pytest.approx(1 - float(res.node_prob[1]))
