"""Blocking optimisers and the blocking RR sketch (paper B): exact cases and enumeration."""

from __future__ import annotations

import math

import pytest
import torch

from influence_gpu.diffusion import estimate_blocked_influence
from influence_gpu.graph import DiffusionGraph
from influence_gpu.graph.neighbourhoods import hop_neighbourhood
from influence_gpu.rr.blocking import sample_blocking_rr_sets
from influence_gpu.selection.blocking import (
    MCSCELF,
    RRCELF,
    DegreeBlocking,
    ProximityBlocking,
    RandomBlocking,
    paired_differences,
    reestimate,
)
from influence_gpu.selection.lazy_greedy import lazy_greedy
from tests.exact import bfs_dist, edge_worlds

INF = float("inf")


def _gen(seed):
    return None if seed is None else torch.Generator().manual_seed(seed)


def mcs_celf(g, f, k, num_samples=100, candidates=None, *, generator=None, **kw):
    sel = MCSCELF(num_samples=num_samples, candidates=candidates, **kw)
    return sel.select(g, k, false_seeds=f, generator=_gen(generator))


def rr_celf(g, f, k, num_sets=20000, candidates=None, *, generator=None, **kw):
    sel = RRCELF(num_sets=num_sets, candidates=candidates, **kw)
    return sel.select(g, k, false_seeds=f, generator=_gen(generator))


def degree_blocking(g, f, k):
    return DegreeBlocking().select(g, k, false_seeds=f)


def proximity_blocking(g, f, k, generator=None):
    return ProximityBlocking().select(g, k, false_seeds=f, generator=_gen(generator))


def random_blocking(g, f, k, generator=None):
    return RandomBlocking().select(g, k, false_seeds=f, generator=_gen(generator))


def arcs_graph(n, arcs, probs):
    ei = torch.tensor(arcs, dtype=torch.long).T
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=torch.tensor(probs))


def blocker_graph():
    """F = {0}: 0 -> 1 -> {2..9} (p = 1); decoy hub 10 -> {11..22} unreachable from F.

    Node 1 is the only single blocker that saves anything: with S_T = {1} node 1 and its eight
    children turn T, so f({1}) = 9 exactly; the decoy has the largest out-degree.
    """
    arcs = [(0, 1)] + [(1, v) for v in range(2, 10)] + [(10, v) for v in range(11, 23)]
    return arcs_graph(23, arcs, [1.0] * len(arcs))


# 7 nodes, 10 arcs (1,024 worlds), F = {0}
TINY_N = 7
TINY_ARCS = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 3), (5, 4), (5, 6), (6, 3), (3, 1), (4, 2)]
TINY_P = [0.7, 0.5, 0.6, 0.4, 0.8, 0.9, 0.5, 0.7, 0.3, 0.5]


def exact_blocked(n, arcs, probs, f, t):
    """f(S_T | S_F) = sum over worlds of #{v : d(S_T, v) < d(S_F, v) < inf} (F wins ties)."""
    total = 0.0
    for live, w in edge_worlds(probs):
        la = [a for a, keep in zip(arcs, live, strict=True) if keep]
        df = bfs_dist(n, la, f)
        dt = bfs_dist(n, la, t)
        total += w * sum(1 for v in range(n) if dt[v] < df[v] < INF)
    return total


def test_hop_neighbourhood_path():
    g = arcs_graph(5, [(0, 1), (1, 2), (2, 3), (3, 4)], [0.5] * 4)
    assert hop_neighbourhood(g, [1], 1).tolist() == [2]
    assert hop_neighbourhood(g, [1], 2).tolist() == [2, 3]
    assert hop_neighbourhood(g, [0, 2], 2).tolist() == [1, 3, 4]
    with pytest.raises(ValueError, match="h must be"):
        hop_neighbourhood(g, [1], 0)


@pytest.mark.parametrize("t", [[5], [4], [1], [5, 2], [6, 4]])
def test_rr_sketch_unbiased_against_enumeration(t):
    g = arcs_graph(TINY_N, TINY_ARCS, TINY_P)
    exact = exact_blocked(TINY_N, TINY_ARCS, TINY_P, [0], t)
    theta = 40000
    sketch = sample_blocking_rr_sets(g, [0], theta, generator=7)
    est = sketch.estimate(t)
    # n * Bernoulli(p) mean over theta sets: 4 standard errors
    p = exact / TINY_N
    tol = 4 * TINY_N * math.sqrt(p * (1 - p) / theta)
    assert abs(est - exact) < tol, (t, est, exact, tol)


def test_rr_sketch_same_with_any_chunking():
    g = arcs_graph(TINY_N, TINY_ARCS, TINY_P)
    a = sample_blocking_rr_sets(g, [0], 3000, generator=3, chunk_size=7, backend="torch")
    b = sample_blocking_rr_sets(g, [0], 3000, generator=3, chunk_size=3000, backend="torch")
    assert torch.equal(a.ptr, b.ptr) and torch.equal(a.nodes, b.nodes)


def test_rr_sketch_exact_on_deterministic_graph():
    g = blocker_graph()
    sk = sample_blocking_rr_sets(g, [0], 2000, generator=0)
    # every root in {1..9} has R = its ancestors strictly closer than F: node 1 (and itself)
    assert all(0 < sk.ptr[i + 1] - sk.ptr[i] <= 2 for i in range(2000) if sk.ptr[i + 1] > sk.ptr[i])
    assert sk.estimate([1]) == pytest.approx(23 * float(sk.covered([1]).float().mean()))
    assert sk.estimate([10]) == 0.0


def test_mcs_celf_picks_the_obvious_blocker():
    g = blocker_graph()
    res = mcs_celf(g, [0], 1, num_samples=20, candidates="all", generator=0)
    assert res.seeds == [1] and res.objective == pytest.approx(9.0)
    assert degree_blocking(g, [0], 1).seeds == [10]  # the decoy fools the degree heuristic
    res2 = mcs_celf(g, [0], 2, num_samples=20, generator=0)  # default candidates N_2({0})
    assert res2.seeds[0] == 1 and set(res2.seeds) <= set(range(1, 10))
    assert res2.prefix_objective[0] == pytest.approx(9.0) and res2.finished


def test_rr_celf_picks_the_obvious_blocker():
    g = blocker_graph()
    res = rr_celf(g, [0], 1, num_sets=3000, candidates="all", generator=0)
    assert res.seeds == [1]
    # 9 of 23 roots are saved by node 1: the estimate is 23 * Binomial(3000, 9/23) / 3000
    assert abs(res.objective - 9.0) < 4 * 23 * math.sqrt((9 / 23) * (14 / 23) / 3000)


def test_mcs_celf_matches_brute_force_greedy():
    g = arcs_graph(TINY_N, TINY_ARCS, TINY_P)
    key = 12345
    res = mcs_celf(g, [0], 3, num_samples=200, candidates="all", key=key, batch_size=2)
    chosen: list[int] = []
    for _ in range(3):
        rest = [v for v in range(1, TINY_N) if v not in chosen]
        vals = [
            estimate_blocked_influence(
                g, torch.tensor([0]), torch.tensor([*chosen, v]), 200, key=key
            ).mean
            for v in rest
        ]
        best = max(range(len(rest)), key=lambda i: (vals[i], -rest[i]))
        chosen.append(rest[best])
    assert res.seeds == chosen


def test_lazy_greedy_equals_greedy_on_coverage():
    gen = torch.Generator().manual_seed(0)
    sets = {v: set(torch.randint(0, 40, (6,), generator=gen).tolist()) for v in range(25)}

    class Cover:
        def values(self, base, batch):
            return torch.tensor([len(set().union(*(sets[u] for u in [*base, v]))) for v in batch])

    for bs in (1, 3, 50):
        lazy = lazy_greedy(5, range(25), Cover(), batch_size=bs).chosen
        plain = lazy_greedy(5, range(25), Cover(), mode="greedy").chosen
        assert lazy == plain
    trace = lazy_greedy(5, range(25), Cover(), time_limit=0.0)
    assert not trace.finished and len(trace.chosen) < 5


def test_baselines():
    g = blocker_graph()
    prox = proximity_blocking(g, [1], 3)
    assert prox.seeds == [2, 3, 4]  # out-neighbours of 1 (equal degree: lowest id first)
    assert proximity_blocking(g, [0], 3, generator=0).seeds[0] == 1  # fill after the only one
    r1 = random_blocking(g, [0, 1], 5, generator=4)
    r2 = random_blocking(g, [0, 1], 5, generator=4)
    assert r1.seeds == r2.seeds and not {0, 1} & set(r1.seeds) and len(set(r1.seeds)) == 5
    assert 10 not in degree_blocking(g, [10], 3).seeds
    with pytest.raises(ValueError, match="k must be"):
        degree_blocking(g, [0], 0)


def test_reestimate_matches_estimate_blocked_influence():
    g = arcs_graph(TINY_N, TINY_ARCS, TINY_P)
    f = torch.tensor([0])
    sets = [[5], [4, 6], []]
    got = reestimate(g, f, sets, 300, key=99)
    for s, (m, se) in zip(sets, got, strict=True):
        if not s:
            assert (m, se) == (0.0, 0.0)
            continue
        ref = estimate_blocked_influence(g, f, torch.tensor(s), 300, key=99)
        assert m == pytest.approx(ref.mean) and se == pytest.approx(ref.stderr, rel=1e-6)


def test_paired_differences_against_enumeration():
    g = arcs_graph(TINY_N, TINY_ARCS, TINY_P)
    f = torch.tensor([0])
    ref, others = [4], [[5], [4], [1, 6]]
    n = 4000
    got = paired_differences(g, f, ref, others, n, key=7)
    # the same worlds as reestimate: the mean difference is the difference of the means
    vals = reestimate(g, f, [ref, *others], n, key=7)
    for (d, se), (v, sv) in zip(got, vals[1:], strict=True):
        assert d == pytest.approx(vals[0][0] - v, abs=1e-9)
        # common worlds: the paired stderr is at most the two stderrs added
        assert se <= vals[0][1] + sv + 1e-12
    assert got[1] == (0.0, 0.0)  # the reference against itself, world by world
    # unbiased: within 4 paired standard errors of the exact difference (all 2^10 worlds)
    exact_ref = exact_blocked(TINY_N, TINY_ARCS, TINY_P, [0], ref)
    for s, (d, se) in zip(others, got, strict=True):
        exact = exact_ref - exact_blocked(TINY_N, TINY_ARCS, TINY_P, [0], s)
        assert abs(d - exact) <= 4 * se + 1e-9, (s, d, exact, se)
    assert paired_differences(g, f, ref, [], n, key=7) == []
    with pytest.raises(ValueError, match="true_seeds"):
        paired_differences(g, f, [99], others, n, key=7)
