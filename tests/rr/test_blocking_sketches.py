"""Blocking sketches of competitive IC (paper B's RR peer and the world-rooted variant).

Checked three ways: the native and torch backends give the same sets for the same roots and
coins; every set equals a slow reference built from the same hash coins; and the estimates agree
with exact enumeration of all live-edge worlds on a tiny graph within 4 standard errors.
"""

from __future__ import annotations

import math
from collections import deque

import pytest
import torch

from influence_gpu.diffusion._common import _shr, hash_uniform
from influence_gpu.graph import DiffusionGraph
from influence_gpu.graph.generators import erdos_renyi
from influence_gpu.graph.probabilities import assign_probabilities
from influence_gpu.rr.blocking import sample_blocking_rr_sets, sample_blocking_world_sketch
from influence_gpu.rr.samplers import _hash64
from tests.exact import bfs_dist, edge_worlds

TINY_N = 7
TINY_ARCS = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 3), (5, 4), (5, 6), (6, 3), (3, 1), (4, 2)]
TINY_P = [0.7, 0.5, 0.6, 0.4, 0.8, 0.9, 0.5, 0.7, 0.3, 0.5]
INF = float("inf")


def _graph(n, arcs, probs):
    ei = torch.tensor(arcs, dtype=torch.long).T
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=torch.tensor(probs))


def _random_graphs():
    for seed in range(4):
        g = erdos_renyi(60, 0.06, seed=seed, directed=True)
        yield seed, assign_probabilities(g, "weighted_cascade")


def _saved_counts(t):
    """Exact mean and variance of the number of saved nodes per world, F = {0}."""
    mean = second = 0.0
    for live, w in edge_worlds(TINY_P):
        la = [a for a, keep in zip(TINY_ARCS, live, strict=True) if keep]
        df, dt = bfs_dist(TINY_N, la, [0]), bfs_dist(TINY_N, la, t)
        x = sum(1 for v in range(TINY_N) if dt[v] < df[v] < INF)
        mean += w * x
        second += w * x * x
    return mean, second - mean * mean


def _reference_world_sets(g, f, num_worlds, key, roots_per_world=0):
    """R_w(v) for every world and root v, from the same coins, by plain Python BFS (and weights)."""
    src, dst = g.src.tolist(), g.col.tolist()
    prob = g.edge_prob.tolist()
    n = g.num_nodes
    out, weights = [], []
    for w in range(num_worlds):
        coins = hash_uniform(key, torch.tensor(w), torch.arange(len(src))).tolist()
        live = [(src[e], dst[e]) for e in range(len(src)) if coins[e] < prob[e]]
        df = bfs_dist(n, live, f)
        radj = [[] for _ in range(n)]
        for u, v in live:
            radj[v].append(u)
        reached = [v for v in range(n) if 0 < df[v] < INF]
        roots = reached
        if roots_per_world:
            picks = [int(_shr(_hash64(key, torch.tensor(w), torch.tensor(-1 - j)), 1))
                     for j in range(roots_per_world)]
            roots = [reached[h % len(reached)] for h in picks] if reached else []
        for v in roots:
            weights.append(len(reached) / roots_per_world if roots_per_world else 1.0)
            d = {v: 0}
            q = deque([v])
            while q:
                x = q.popleft()
                if d[x] + 1 >= df[v]:
                    continue
                for u in radj[x]:
                    if u not in d:
                        d[u] = d[x] + 1
                        q.append(u)
            out.append(sorted(d))
    return out, weights


def _sets(sk):
    return [sk.nodes[sk.ptr[i]:sk.ptr[i + 1]].tolist() for i in range(sk.num_sets)]


@pytest.mark.parametrize("roots", [0, 3])
@pytest.mark.parametrize("backend", ["torch", "native"])
def test_world_sketch_sets_match_reference(backend, roots):
    for seed, g in _random_graphs():
        f = [0, 5, 17]
        sk = sample_blocking_world_sketch(g, f, 12, key=seed + 3, roots_per_world=roots,
                                          backend=backend)
        sets, weights = _reference_world_sets(g, f, 12, seed + 3, roots)
        assert _sets(sk) == sets, seed
        assert sk.weight == pytest.approx(1 / 12)
        if roots:
            assert sk.set_weights.tolist() == pytest.approx(weights)
        else:
            assert sk.set_weights is None and len(sets) > 0


def test_blocking_rr_native_equals_torch():
    for seed, g in _random_graphs():
        a = sample_blocking_rr_sets(g, [1, 2], 3000, generator=seed, backend="torch")
        b = sample_blocking_rr_sets(g, [1, 2], 3000, generator=seed, backend="native")
        assert a.key == b.key
        assert torch.equal(a.ptr, b.ptr) and torch.equal(a.nodes, b.nodes), seed
        assert a.nodes.numel() > 0


@pytest.mark.parametrize("backend", ["torch", "native"])
@pytest.mark.parametrize("t", [[5], [4], [1], [5, 2], [6, 4]])
def test_world_sketch_unbiased_against_enumeration(t, backend):
    g = _graph(TINY_N, TINY_ARCS, TINY_P)
    mean, var = _saved_counts(t)
    worlds = 20000
    sk = sample_blocking_world_sketch(g, [0], worlds, generator=11, backend=backend)
    tol = 4 * math.sqrt(var / worlds)  # mean of `worlds` i.i.d. per-world counts
    assert abs(sk.estimate(t) - mean) < tol, (t, sk.estimate(t), mean, tol)


@pytest.mark.parametrize("t", [[5], [4], [1], [5, 2], [6, 4]])
def test_sampled_roots_sketch_unbiased_against_enumeration(t):
    """r sampled roots per world: each world's term m_w / r * #hit has mean E[#saved]."""
    g = _graph(TINY_N, TINY_ARCS, TINY_P)
    mean, _ = _saved_counts(t)
    worlds, r = 20000, 2
    sk = sample_blocking_world_sketch(g, [0], worlds, generator=13, roots_per_world=r)
    # per-world term X_w = m_w / r * (hits among its r roots); its variance from the sketch
    hit = sk.covered(t).double() * sk.set_weights
    world_of_set = torch.arange(sk.num_sets) // r  # every world with m_w > 0 has r sets
    x = torch.zeros(worlds, dtype=torch.float64)
    m = torch.bincount(world_of_set, minlength=worlds)  # empty worlds hold no sets: X_w = 0
    x[: int((m > 0).sum())] = torch.zeros(int((m > 0).sum()), dtype=torch.float64).index_add_(
        0, world_of_set, hit)
    tol = 4 * float(x.std()) / math.sqrt(worlds)
    assert abs(sk.estimate(t) - mean) < tol, (t, sk.estimate(t), mean, tol)


def test_world_sketch_exact_on_deterministic_graph():
    # F = {0}: 0 -> 1 -> {2..9} (p = 1); S_T = {1} saves 1 and its 8 children in every world
    arcs = [(0, 1)] + [(1, v) for v in range(2, 10)] + [(10, v) for v in range(11, 14)]
    g = _graph(14, arcs, [1.0] * len(arcs))
    sk = sample_blocking_world_sketch(g, [0], 3, key=5)
    assert sk.num_sets == 27  # 9 reached nodes x 3 worlds
    assert sk.estimate([1]) == 9.0
    assert sk.estimate([2]) == 1.0
    assert sk.estimate([10]) == 0.0


def test_world_sketch_rejects_bad_input():
    g = _graph(TINY_N, TINY_ARCS, TINY_P)
    with pytest.raises(ValueError, match="num_worlds"):
        sample_blocking_world_sketch(g, [0], 0)
    with pytest.raises(ValueError, match="at least one"):
        sample_blocking_world_sketch(g, [], 4)
    with pytest.raises(ValueError, match="out of range"):
        sample_blocking_world_sketch(g, [9], 4)
    with pytest.raises(ValueError, match="backend"):
        sample_blocking_world_sketch(g, [0], 4, backend="gpu")


def test_weighted_max_coverage_matches_brute_force():

    from influence_gpu.rr.coverage import weighted_max_coverage

    for seed, g in _random_graphs():
        sk = sample_blocking_world_sketch(g, [0, 5], 30, key=seed, roots_per_world=3)
        ids, covered = weighted_max_coverage(sk, 3)
        # greedy by hand: each step the node with the largest uncovered weight (lowest id)
        sets = _sets(sk)
        w = sk.set_weights.tolist()
        done, chosen, acc = set(), [], []
        for _ in range(3):
            gains = [sum(w[i] for i, s in enumerate(sets) if v in s and i not in done)
                     if v not in chosen else -1 for v in range(g.num_nodes)]
            v = max(range(g.num_nodes), key=lambda u: (round(gains[u] * 1e9), -u))
            chosen.append(v)
            done |= {i for i, s in enumerate(sets) if v in s}
            acc.append(sum(w[i] for i in done))
        assert ids == chosen and covered == pytest.approx(acc), seed
        assert sk.estimate(ids) == pytest.approx(acc[-1] / 30)
