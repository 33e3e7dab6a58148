"""Greedy max coverage against brute force, the OPIM-C bound, backends and generic sketches."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
import torch

from influence_gpu.rr import RRSketch, build_inverted_index, coverage_greedy, max_coverage
from influence_gpu.rr.samplers import _native_available

NATIVE = _native_available(torch.device("cpu"))


def random_sketch(n, theta, seed, max_size=4):
    gen = torch.Generator().manual_seed(seed)
    sets = []
    for _ in range(theta):
        size = int(torch.randint(0, max_size + 1, (1,), generator=gen))
        sets.append(sorted(torch.randperm(n, generator=gen)[:size].tolist()))
    return sets, make_sketch(n, sets)


def make_sketch(n, sets):
    sizes = torch.tensor([len(s) for s in sets], dtype=torch.long)
    ptr = torch.zeros(len(sets) + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(sizes, 0)
    nodes = torch.tensor([v for s in sets for v in s], dtype=torch.int32)
    return RRSketch(n, ptr, nodes)


def cov(sets, chosen):
    chosen = set(chosen)
    return sum(1 for s in sets if chosen & set(s))


def reference_greedy(sets, n, k, cands):
    picked = []
    for _ in range(k):
        best = max((c for c in cands if c not in picked),
                   key=lambda c: (cov(sets, picked + [c]), -c))
        picked.append(best)
    return picked


BACKENDS = ["torch"] + (["native"] if NATIVE else [])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("backend", BACKENDS)
def test_greedy_matches_reference_and_bound_holds(seed, backend):
    n = 7
    sets, sk = random_sketch(n, 25, seed)
    for k in (1, 2, 3):
        res = coverage_greedy(sk, k, backend=backend)
        assert res.ids == reference_greedy(sets, n, k, range(n))
        assert res.covered == [cov(sets, res.ids[: i + 1]) for i in range(k)]
        opt = max(cov(sets, c) for c in itertools.combinations(range(n), k))
        assert res.covered[-1] <= opt <= res.upper_bound
        assert len(res.prefix_bounds) == k + 1 and res.upper_bound == min(res.prefix_bounds)
        # the i = 0 bound is the sum of the k largest degrees
        deg = sorted((sum(v in s for s in sets) for v in range(n)), reverse=True)
        assert res.prefix_bounds[0] == sum(deg[:k])
        assert max_coverage(sk, k) == (res.ids, res.covered)


@pytest.mark.parametrize("backend", BACKENDS)
def test_candidates_restrict_the_choice(backend):
    n = 8
    sets, sk = random_sketch(n, 30, 11)
    cands = [1, 4, 6, 7]
    mask = torch.zeros(n, dtype=torch.bool)
    mask[cands] = True
    for c in (cands, torch.tensor(cands), mask):
        res = coverage_greedy(sk, 3, c, backend=backend)
        assert res.ids == reference_greedy(sets, n, 3, cands)
        opt = max(cov(sets, s) for s in itertools.combinations(cands, 3))
        assert res.covered[-1] <= opt <= res.upper_bound
    with pytest.raises(ValueError, match="number of candidates"):
        coverage_greedy(sk, 5, cands, backend=backend)


def test_ties_go_to_the_lowest_id_and_zero_gains_still_pick():
    sk = make_sketch(5, [[3], [1], [], [1, 3]])
    assert max_coverage(sk, 4) == ([1, 3, 0, 2], [2, 3, 3, 3])


@pytest.mark.skipif(not NATIVE, reason="native RR kernel unavailable")
def test_native_and_torch_agree_on_a_larger_sketch():
    from influence_gpu.rr import sample_rr_sets
    from tests.rr.test_samplers import random_graph

    sk = sample_rr_sets(random_graph(200, 1200, seed=4), 5000, key=9)
    a = coverage_greedy(sk, 20, backend="native")
    b = coverage_greedy(sk, 20, backend="torch")
    assert (a.ids, a.covered, a.prefix_bounds) == (b.ids, b.covered, b.prefix_bounds)


def test_inverted_index_and_generic_sketch_objects(monkeypatch):
    sets, sk = random_sketch(6, 20, 3)
    for native in (True, False):
        monkeypatch.setattr("influence_gpu.typing.USE_NATIVE_CPU", native)
        inv_ptr, inv_sets = build_inverted_index(sk)
        for v in range(6):
            got = inv_sets[inv_ptr[v]: inv_ptr[v + 1]].tolist()
            assert got == [i for i, s in enumerate(sets) if v in s]
    # any object with num_nodes / num_sets / ptr / nodes (e.g. the blocking sketch, int64 nodes)
    generic = SimpleNamespace(num_nodes=6, num_sets=sk.num_sets, ptr=sk.ptr, nodes=sk.nodes.long())
    assert max_coverage(generic, 3) == max_coverage(sk, 3)


def test_bad_arguments():
    _, sk = random_sketch(5, 10, 0)
    with pytest.raises(TypeError):
        max_coverage(sk, 1.5)
    with pytest.raises(ValueError):
        max_coverage(sk, 0)
    with pytest.raises(ValueError, match="out of range"):
        max_coverage(sk, 1, [7])
    with pytest.raises(ValueError, match="shape"):
        max_coverage(sk, 1, torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="backend"):
        coverage_greedy(sk, 1, backend="gpu")
