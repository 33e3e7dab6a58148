"""IMM: guarantee against brute force on a tiny graph, extras, Chen's fresh sketch, validation."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from influence_gpu.diffusion.base import IndependentCascade, LinearThreshold, MinimumThreshold
from influence_gpu.graph import DiffusionGraph, assign_probabilities
from influence_gpu.selection import imm as imm_module
from influence_gpu.selection.base import SelectionResult
from influence_gpu.selection.imm import IMM, imm_sample_sizes, opim_bounds
from tests.exact import edge_worlds, exact_ic
from tests.rr._exact import exact_lt_spread

ARCS = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 0), (6, 7), (7, 5), (2, 6),
        (4, 1), (6, 3)]
PROBS = [0.6, 0.3, 0.5, 0.4, 0.7, 0.2, 0.3, 0.8, 0.4, 0.5, 0.1, 0.6]
N = 8


def tiny(probs=PROBS):
    ei = torch.tensor(ARCS).T
    return DiffusionGraph.from_edge_index(ei, num_nodes=N, edge_prob=torch.tensor(probs))


def random_graph(n=300, m=1500, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=gen)
    ei = torch.unique(ei[:, ei[0] != ei[1]], dim=1)
    return assign_probabilities(DiffusionGraph.from_edge_index(ei, num_nodes=n),
                                "weighted_cascade")


def exact_ic_all(k):
    """Exact IC spread of every k-set of the tiny graph: one pass over the 2^E edge worlds, each
    node's reachable set as a bit mask, a set's spread as the popcount of their union."""
    sets = list(itertools.combinations(range(N), k))
    total = dict.fromkeys(sets, 0.0)
    for live, w in edge_worlds(PROBS):
        adj = [[] for _ in range(N)]
        for (u, v), keep in zip(ARCS, live, strict=True):
            if keep:
                adj[u].append(v)
        reach = []
        for s in range(N):
            seen, stack = 1 << s, [s]
            while stack:
                for v in adj[stack.pop()]:
                    if not seen >> v & 1:
                        seen |= 1 << v
                        stack.append(v)
            reach.append(seen)
        for c in sets:
            m = 0
            for v in c:
                m |= reach[v]
            total[c] += w * bin(m).count("1")
    return total


@pytest.mark.parametrize("k", [1, 2, 3])
def test_spread_meets_the_guarantee_against_brute_force(k):
    g = tiny()
    eps = 0.2
    res = IMM(eps=eps).select(g, k, generator=torch.Generator().manual_seed(k))
    assert isinstance(res, SelectionResult) and res.method == "imm"
    assert len(res.ids) == k and len(set(res.ids)) == k
    spread = exact_ic_all(k)
    first = tuple(range(k))  # the fast enumeration agrees with tests/exact.py
    assert spread[first] == pytest.approx(exact_ic(N, ARCS, PROBS, list(first))[0])
    opt = max(spread.values())
    got = spread[tuple(sorted(res.ids))]
    assert got >= (1 - 1 / math.e - eps) * opt
    # the prefix objectives are the final sketch's estimates
    assert len(res.prefix_objective) == k == len(res.prefix_seconds)
    assert all(b >= a for a, b in itertools.pairwise(res.prefix_objective))
    assert res.objective == pytest.approx(got, rel=0.1)


def test_extras_and_certificate():
    g = random_graph()
    res = IMM(eps=0.3).select(g, 10, generator=torch.Generator().manual_seed(0))
    ex = res.extra
    for key in ("num_rr_sets", "lower_bound", "approximation", "sketch_seconds"):
        assert key in ex
    assert 0.0 < ex["approximation"] <= 1.0
    assert ex["approximation"] <= ex["coverage_ratio"] <= 1.0
    assert ex["spread_lower_bound"] <= res.objective <= ex["opt_upper_bound"]
    c = imm_sample_sizes(g.num_nodes, 10, 0.3, 1.0)
    assert ex["num_rr_sets"] == math.ceil(c["lambda_star"] / ex["lower_bound"])
    assert 1.0 <= ex["lower_bound"] <= ex["opt_upper_bound"]
    assert ex["sketch_seconds"] > 0 and res.seconds >= ex["sketch_seconds"]
    # the objective is n * coverage / theta of the chosen set
    assert res.objective * ex["num_rr_sets"] / g.num_nodes == pytest.approx(
        round(res.objective * ex["num_rr_sets"] / g.num_nodes))


def test_final_sketch_is_fresh(monkeypatch):
    keys = []
    original = imm_module.RRSampler

    def spy(*args, **kw):
        keys.append(kw["key"])
        return original(*args, **kw)

    monkeypatch.setattr(imm_module, "RRSampler", spy)
    IMM(eps=0.5).select(random_graph(), 5, generator=torch.Generator().manual_seed(1))
    assert len(keys) == 2 and keys[0] != keys[1]


def test_reproducible_and_backend_independent():
    g = random_graph(120, 500, seed=2)
    a = IMM(eps=0.5, backend="torch").select(g, 5, generator=torch.Generator().manual_seed(3))
    b = IMM(eps=0.5).select(g, 5, generator=torch.Generator().manual_seed(3))
    assert a.ids == b.ids and a.prefix_objective == b.prefix_objective
    assert a.extra["num_rr_sets"] == b.extra["num_rr_sets"]


def test_linear_threshold():
    weights = [0.6, 0.3, 0.5, 0.4, 0.7, 0.2, 0.3, 0.8, 0.4, 0.5, 0.1, 0.1]
    g = tiny(weights)
    res = IMM(LinearThreshold(), eps=0.2).select(g, 2, generator=torch.Generator().manual_seed(0))
    assert res.extra["model"] == "lt" and len(set(res.ids)) == 2
    spread = {c: exact_lt_spread(N, ARCS, weights, list(c))
              for c in itertools.combinations(range(N), 2)}
    assert spread[tuple(sorted(res.ids))] >= (1 - 1 / math.e - 0.2) * max(spread.values())


def test_memory_budget_refused_with_the_estimate():
    g = random_graph()
    with pytest.raises(ValueError, match=r"RR sets of about .* need about .* memory_budget is"):
        IMM(eps=0.05, memory_budget=2_000_000).select(g, 10, generator=0)
    # the diffusion's budget is used when IMM has none
    with pytest.raises(ValueError, match="memory_budget"):
        IMM(IndependentCascade(memory_budget=2_000_000), eps=0.05).select(g, 10, generator=0)


def test_validation():
    for eps in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="eps"):
            IMM(eps=eps)
    with pytest.raises(ValueError, match="ell"):
        IMM(ell=0)
    with pytest.raises(TypeError):
        IMM(eps="0.1")
    with pytest.raises(TypeError, match="RR sets"):
        IMM(MinimumThreshold())  # not submodular: no RR sets, no IMM
    with pytest.raises(ValueError, match="backend"):
        IMM(backend="cuda")
    with pytest.raises(ValueError, match="k must be"):
        IMM().select(tiny(), 9)
    with pytest.raises(TypeError, match="DiffusionGraph"):
        IMM().select("graph", 1)


@pytest.mark.parametrize("n", [2, 3])
def test_graphs_too_small_for_estimation_rounds(n):
    ei = torch.tensor([[0], [1]])
    g = DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=torch.tensor([0.5]))
    res = IMM(eps=0.3).select(g, 1, generator=0)
    assert res.ids == [0] and 0.0 < res.extra["approximation"] <= 1.0


def test_single_node_graph():
    g = DiffusionGraph.from_edge_index(torch.zeros((2, 0), dtype=torch.long), num_nodes=1,
                                       edge_prob=torch.zeros(0))
    res = IMM().select(g, 1)
    assert res.ids == [0] and res.extra["approximation"] == 1.0


def test_opim_bounds():
    low, up = opim_bounds(100, 1000, 300, 400, 5.0, 5.0)
    assert low < 100 * 300 / 1000 < 100 * 400 / 1000 < up
    # more sets at the same coverage rates tighten both bounds
    low2, up2 = opim_bounds(100, 100000, 30000, 40000, 5.0, 5.0)
    assert low < low2 < 30.0 < 40.0 < up2 < up
    assert opim_bounds(100, 10, 0, 1, 5.0, 5.0)[0] == 0.0
