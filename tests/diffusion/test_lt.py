"""Linear threshold simulator: reference equality, live-edge exact values, checks, memory."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from influence_gpu.diffusion._reference import lt_reference
from influence_gpu.diffusion._threshold_engine import frontier_pieces as _frontier_pieces
from influence_gpu.diffusion._threshold_engine import push as _push
from influence_gpu.diffusion.lt import draw_thresholds, simulate_lt
from influence_gpu.graph.diffusion_graph import DiffusionGraph


def _graph(arcs, weights, n=None, **kw) -> DiffusionGraph:
    ei = torch.tensor(arcs, dtype=torch.long).t().reshape(2, -1)
    return DiffusionGraph.from_edge_index(
        ei, num_nodes=n, edge_prob=torch.tensor(weights, dtype=torch.float32), **kw
    )


def random_lt_graph(seed: int, n: int = 25, m: int = 90) -> DiffusionGraph:
    """Random digraph with LT weights: in-weights of v are random shares of a random total <= 1."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=g)
    dst = torch.randint(0, n, (m,), generator=g)
    keep = src != dst
    ei = torch.stack([src[keep], dst[keep]])
    ei = torch.unique(ei, dim=1)
    raw = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.05
    total = torch.zeros(n, dtype=torch.float64).index_add_(0, ei[1], raw)
    cap = torch.rand(n, generator=g, dtype=torch.float64) * 0.6 + 0.4  # in-weights sum to cap
    w = (raw / total[ei[1]] * cap[ei[1]]).float()
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=w)


def _check_against_reference(graph, seeds, theta, res):
    R = theta.shape[0]
    for r in range(R):
        step, parent = lt_reference(graph, seeds, theta[r].tolist())
        assert res.activation_step[r].tolist() == step, f"run {r}"
        assert res.parent[r].tolist() == parent, f"run {r}"
    active = res.activation_step >= 0
    assert torch.equal(res.spreads, active.sum(1))
    assert torch.allclose(res.node_prob.cpu(), active.double().mean(0).float())


# ------------------------------------------------------------------ equality with the reference
@pytest.mark.parametrize("gseed", [0, 1, 2, 3])
def test_matches_reference_random_graphs(gseed, devices):
    graph = random_lt_graph(gseed)
    g = torch.Generator().manual_seed(100 + gseed)
    R = 48
    # thresholds skewed low so that cascades go several steps deep
    theta = torch.rand(R, graph.num_nodes, generator=g) ** 2
    seeds = [0, 7, 13, 20][: 2 + gseed % 3]
    res = simulate_lt(
        graph.to(devices),
        torch.tensor(seeds, device=devices),
        R,
        thresholds=theta,
        return_provenance=True,
    )
    assert res.model == "lt" and res.num_samples == R
    # the runs must not all be trivial, or the comparison proves little
    assert int(res.spreads.max()) > len(seeds) + 3 and res.extra["max_steps"] >= 3
    _check_against_reference(graph, seeds, theta, res)


def test_matches_reference_with_exact_ties():
    """Dyadic weights and thresholds make ``acc == theta`` happen: ``>=`` must activate."""
    g = torch.Generator().manual_seed(5)
    n = 12
    arcs = [(u, v) for u in range(n) for v in range(n) if u != v and (3 * u + 5 * v) % 7 < 2]
    indeg = [sum(1 for _, v in arcs if v == x) for x in range(n)]
    # weights in {1/4, 1/2}, scaled down where needed so in-weights sum to <= 1
    w = []
    for _, v in arcs:
        base = 0.5 if indeg[v] <= 2 else 0.25
        w.append(base if indeg[v] * base <= 1 else 1.0 / 8)
    graph = _graph(arcs, w, n=n)
    R = 64
    theta = torch.randint(0, 5, (R, n), generator=g).float() / 4  # {0, .25, .5, .75, 1}
    res = simulate_lt(graph, torch.tensor([0, 1]), R, thresholds=theta, return_provenance=True)
    _check_against_reference(graph, [0, 1], theta, res)
    # some node must have activated exactly at acc == theta for this test to mean anything
    ties = 0
    wt = graph.edge_prob.double()
    for r in range(R):
        step = res.activation_step[r]
        for v in range(n):
            t = int(step[v])
            if t <= 0:
                continue
            acc = sum(
                float(wt[e])
                for e in range(graph.num_edges)
                if int(graph.col[e]) == v and 0 <= int(step[int(graph.src[e])]) < t
            )
            ties += acc == float(theta[r, v])
    assert ties > 0


def test_chunked_equals_single_chunk_with_provenance():
    graph = random_lt_graph(7, n=40, m=200)
    R = 37
    theta = torch.rand(R, graph.num_nodes, generator=torch.Generator().manual_seed(1))
    seeds = torch.tensor([2, 3])
    one = simulate_lt(graph, seeds, R, thresholds=theta, return_provenance=True)
    # the torch engine chunks under a small budget (the native kernel has no per-run state)
    small = simulate_lt(
        graph, seeds, R, thresholds=theta, return_provenance=True, memory_budget=60_000,
        backend="torch",
    )
    assert one.extra["runs_per_chunk"] == R
    assert 1 <= small.extra["runs_per_chunk"] < R
    assert torch.equal(one.spreads, small.spreads)
    assert torch.equal(one.activation_step, small.activation_step)
    assert torch.equal(one.parent, small.parent)
    assert torch.equal(one.node_prob, small.node_prob)


def test_generator_thresholds_do_not_depend_on_chunking():
    graph = random_lt_graph(8, n=40, m=200)
    seeds = torch.tensor([0, 1, 2])
    a = simulate_lt(graph, seeds, 200, generator=torch.Generator().manual_seed(3))
    b = simulate_lt(
        graph, seeds, 200, generator=torch.Generator().manual_seed(3), memory_budget=40_000,
        backend="torch",
    )
    assert b.extra["runs_per_chunk"] < 200
    assert torch.equal(a.spreads, b.spreads)
    # and they are the hashed thresholds of draw_thresholds for the key drawn from the generator
    from influence_gpu.diffusion._common import draw_key

    key = draw_key(torch.Generator().manual_seed(3))
    theta = draw_thresholds(key, 0, 200, graph.num_nodes, "cpu")
    assert float(theta.min()) > 0.0 and float(theta.max()) <= 1.0
    c = simulate_lt(graph, seeds, 200, thresholds=theta)
    assert torch.equal(a.spreads, c.spreads)


def test_frontier_pieces_split_and_cover():
    graph = random_lt_graph(9, n=30, m=150)
    new = torch.rand(5, 30, generator=torch.Generator().manual_seed(0)) < 0.5
    frontier = torch.nonzero(new.reshape(-1)).flatten()
    whole = list(_frontier_pieces(graph, frontier, work=10**9))
    assert len(whole) == 1
    pieces = list(_frontier_pieces(graph, frontier, work=7))
    assert len(pieces) > 3
    max_out = int(graph.out_degree().max())
    assert all(p[0].numel() <= max(7, max_out) for p in pieces)
    for i in range(3):
        assert torch.equal(torch.cat([p[i] for p in pieces]), whole[0][i])
    # the items are exactly the out-edges of the (run, node) pairs of `new`
    expected = sorted(
        (r * 30 + int(graph.col[e]), e)
        for r, u in new.nonzero().tolist()
        for e in range(int(graph.rowptr[u]), int(graph.rowptr[u + 1]))
    )
    got = sorted(zip(whole[0][0].tolist(), whole[0][1].tolist(), strict=True))
    assert got == expected
    # _push reports the distinct touched slots the same way with one piece or many
    seen = []
    mark = torch.zeros(5 * 30, dtype=torch.bool)
    one = _push(graph, frontier, 10**9, mark, lambda f, e, s: seen.append(f))
    many = _push(graph, frontier, 7, mark, lambda f, e, s: None)
    assert torch.equal(one, torch.unique(seen[0]))
    assert torch.equal(one, many.sort().values)
    assert not bool(mark.any())


# ------------------------------------------------------------- exact values by live-edge worlds
def exact_lt(n, arcs, weights, seeds):
    """Expected LT spread and node probabilities via the live-edge view (Kempe et al. 2003).

    Each node picks at most one in-arc, arc (u, v) with probability b(u, v), none with
    1 - sum; the spread is the set reachable from the seeds over picked arcs.
    """
    choices = []
    for v in range(n):
        opts = [(i, weights[i]) for i, (_, t) in enumerate(arcs) if t == v]
        opts.append((None, 1.0 - sum(p for _, p in opts)))
        choices.append(opts)
    mean = second = 0.0
    node_prob = [0.0] * n
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
        k = len(reached)
        mean += w * k
        second += w * k * k
        for v in reached:
            node_prob[v] += w
    return mean, second - mean * mean, node_prob


TINY = [
    # a cycle 1 -> 3 -> 1, two routes into 2 and 3
    (4, [(0, 1), (0, 2), (1, 2), (2, 3), (1, 3), (3, 1)], [0.5, 0.3, 0.4, 0.6, 0.2, 0.3], [0]),
    # path 0 -> 1 -> 2 plus a shortcut, two seeds feeding node 4
    (5, [(0, 1), (1, 2), (0, 2), (3, 4), (2, 4), (4, 0)], [0.7, 0.5, 0.25, 0.5, 0.5, 0.9], [0, 3]),
]


@pytest.mark.parametrize("case", range(len(TINY)))
def test_expected_spread_matches_live_edge_enumeration(case):
    n, arcs, weights, seeds = TINY[case]
    mean, var, node_prob = exact_lt(n, arcs, weights, seeds)
    graph = _graph(arcs, weights, n=n)
    R = 20_000
    res = simulate_lt(graph, torch.tensor(seeds), R, generator=torch.Generator().manual_seed(case))
    # 4 standard errors of the mean of R runs (exact variance), and of each node frequency
    assert abs(res.mean - mean) <= 4 * math.sqrt(var / R)
    for v in range(n):
        p = node_prob[v]
        assert abs(float(res.node_prob[v]) - p) <= 4 * math.sqrt(max(p * (1 - p), 0) / R) + 1e-6
    assert abs(res.stderr - math.sqrt(var / R)) < 0.2 * math.sqrt(var / R)


def test_path_closed_form_on_threshold_grid():
    """Path 0 -> 1 -> 2: with thresholds enumerating the grid k/K, P(v active) is exact."""
    K = 40
    b01, b12 = 0.625, 0.375
    graph = _graph([(0, 1), (1, 2)], [b01, b12], n=3)
    grid = (torch.arange(K, dtype=torch.float32) + 1) / K  # U(0, 1] on a grid
    t1, t2 = torch.meshgrid(grid, grid, indexing="ij")
    theta = torch.stack([torch.ones(K * K), t1.reshape(-1), t2.reshape(-1)], 1)
    res = simulate_lt(graph, torch.tensor([0]), K * K, thresholds=theta)
    p1 = math.floor(b01 * K) / K
    p2 = p1 * math.floor(b12 * K) / K
    assert res.node_prob.tolist() == pytest.approx([1.0, p1, p2], abs=1e-7)
    assert res.mean == pytest.approx(1 + p1 + p2)


# ----------------------------------------------------------------------------- checks and edges
def test_rejects_in_weights_above_one_naming_the_node():
    labels = ["a", "b", "c", "hub"]
    graph = _graph([(0, 3), (1, 3), (2, 3), (0, 1)], [0.5, 0.4, 0.2, 0.3], n=4, node_labels=labels)
    with pytest.raises(ValueError, match=r"node 'hub'.*1\.1"):
        simulate_lt(graph, torch.tensor([0]), 10)
    # float32 rounding slack is accepted, a visible excess is not
    ok = _graph([(0, 2), (1, 2)], [0.5, 0.5 + 4e-7], n=3)
    assert float(ok.edge_prob.double().sum()) > 1.0
    assert simulate_lt(ok, torch.tensor([0, 1]), 5).mean == 3.0
    bad = _graph([(0, 2), (1, 2)], [0.5, 0.5 + 1e-5], n=3)
    with pytest.raises(ValueError, match="node 2"):
        simulate_lt(bad, torch.tensor([0]), 5)


def test_missing_weights_and_bad_arguments():
    graph = DiffusionGraph.from_edge_index(torch.tensor([[0], [1]]), num_nodes=2)
    with pytest.raises(ValueError, match="edge probabilities"):
        simulate_lt(graph, torch.tensor([0]), 5)
    graph = graph.with_prob(0.5)
    with pytest.raises(ValueError, match="thresholds must have shape"):
        simulate_lt(graph, torch.tensor([0]), 5, thresholds=torch.rand(4, 2))
    with pytest.raises(ValueError, match=r"thresholds must lie in \[0, 1\]"):
        simulate_lt(graph, torch.tensor([0]), 2, thresholds=torch.full((2, 2), 1.5))
    with pytest.raises(ValueError, match="seeds"):
        simulate_lt(graph, torch.tensor([5]), 2)
    with pytest.raises(ValueError, match="more than once"):
        simulate_lt(graph, torch.tensor([0, 0]), 2)
    with pytest.raises(ValueError, match="num_samples"):
        simulate_lt(graph, torch.tensor([0]), 0)


def test_seeds_count_and_empty_seeds():
    # isolated seeds: spread is exactly the number of seeds
    graph = _graph([(0, 1), (1, 2)], [1.0, 1.0], n=6)
    res = simulate_lt(graph, torch.tensor([3, 4]), 50, generator=torch.Generator().manual_seed(0))
    assert res.mean == 2.0 and res.stderr == 0.0
    assert res.node_prob.tolist() == [0, 0, 0, 1, 1, 0]
    # weight 1 edges always pass: 0 reaches 1 and 2
    res = simulate_lt(graph, torch.tensor([0]), 50, generator=torch.Generator().manual_seed(0))
    assert res.mean == 3.0
    empty = simulate_lt(graph, torch.tensor([], dtype=torch.long), 20, return_provenance=True)
    assert empty.mean == 0.0 and empty.stderr == 0.0
    assert int(empty.spreads.sum()) == 0 and float(empty.node_prob.sum()) == 0.0
    assert bool((empty.activation_step == -1).all())


def test_zero_threshold_needs_positive_weight():
    """theta = 0 activates a node only once positive weight arrives (live-edge consistent)."""
    graph = _graph([(0, 1), (0, 2), (3, 4)], [0.0, 0.25, 0.5], n=5)
    theta = torch.zeros(1, 5)
    res = simulate_lt(graph, torch.tensor([0]), 1, thresholds=theta, return_provenance=True)
    assert res.activation_step[0].tolist() == [0, -1, 1, -1, -1]
    assert res.parent[0].tolist() == [-1, -1, 0, -1, -1]


def test_memory_budget_refused_before_any_work():
    graph = random_lt_graph(0)
    gen = torch.Generator().manual_seed(11)
    state = gen.get_state()
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_lt(graph, torch.tensor([0]), 10, generator=gen, memory_budget=100)
    assert torch.equal(gen.get_state(), state)  # nothing drawn


def test_public_simulate_dispatches_to_lt():
    from influence_gpu.api import simulate

    graph = _graph([(0, 1), (1, 2)], [0.5, 0.5], n=3, node_labels=["x", "y", "z"])
    res = simulate(graph, ["x"], model="lt", num_samples=4000, seed=1)
    assert res.model == "lt"
    # E = 1 + 0.5 + 0.25, variance of the count: 0.5 (P(2 nodes) = .25, P(3) = .25)
    exp = 1.75
    var = 0.5 * 1 + 0.25 * 4 + 0.25 * 9 - exp**2
    assert abs(res.mean - exp) <= 4 * math.sqrt(var / 4000)
