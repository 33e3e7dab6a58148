"""RR samplers: exact expectations on tiny graphs, the randomness contract, backend identity."""

from __future__ import annotations

import itertools
import math
from collections import deque

import pytest
import torch

from influence_gpu import typing as ig_typing
from influence_gpu.diffusion._common import _shr, hash_uniform
from influence_gpu.diffusion.base import IndependentCascade, LinearThreshold, TemporalIC
from influence_gpu.graph import DiffusionGraph, assign_probabilities
from influence_gpu.rr import RRSampler, RRSketch, sample_rr_sets
from influence_gpu.rr.samplers import _hash64, _native_available
from tests.rr._exact import arcs_graph, exact_ic_spread, exact_lt_spread

NATIVE = _native_available(torch.device("cpu"))
needs_native = pytest.mark.skipif(not NATIVE, reason="native RR kernel unavailable")

# (n, arcs, IC probabilities, LT weights with in-weights <= 1)
TINY = [
    (4, [(0, 1), (0, 2), (1, 2), (2, 3), (1, 3), (3, 1)], [0.5, 0.3, 0.4, 0.6, 0.2, 0.3],
     [0.5, 0.3, 0.4, 0.6, 0.2, 0.3]),
    (5, [(0, 1), (1, 2), (0, 2), (3, 4), (2, 4), (4, 0), (2, 3)],
     [0.7, 0.5, 0.25, 0.5, 0.5, 0.9, 0.35], [0.7, 0.5, 0.25, 0.5, 0.4, 0.9, 0.35]),
]
SEED_SETS = [[0], [1], [0, 3], [2, 4], [1, 2, 3]]


def random_graph(n=40, m=160, seed=0, scheme="weighted_cascade"):
    """A random digraph: weighted cascade (equal in-probabilities per node: pure skipping) or
    ``"random"`` probabilities in [0, 0.6] scaled to LT weights (skipping with thinning)."""
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=gen)
    ei = torch.unique(ei[:, ei[0] != ei[1]], dim=1)
    g = DiffusionGraph.from_edge_index(ei, num_nodes=n)
    if scheme == "random":
        w = torch.rand(g.num_edges, generator=gen) * 0.6
        w[::7] = 1.0  # some certain arcs
        sums = torch.zeros(n).index_add_(0, g.col, w)
        return g.with_prob(w / sums.clamp(min=1.0)[g.col])
    return assign_probabilities(g, scheme)


def check_within_4_se(sketch: RRSketch, seeds, exact: float):
    n, theta = sketch.num_nodes, sketch.num_sets
    q = exact / n
    se = n * math.sqrt(max(q * (1 - q), 0.0) / theta)  # sd of n * indicator / sqrt(theta)
    est = sketch.estimate(seeds)
    assert abs(est - exact) <= 4 * se + 1e-9, (seeds, est, exact, se)


def backends(device):
    return ["torch", "native"] if device == "cpu" and NATIVE else ["torch"]


@pytest.mark.parametrize("case", range(len(TINY)))
def test_ic_estimate_matches_live_edge_enumeration(case, devices):
    n, arcs, probs, _ = TINY[case]
    g = arcs_graph(n, arcs, probs).to(devices)
    for backend in backends(devices):
        sk = sample_rr_sets(g, 10000, key=11 + case, backend=backend)
        for seeds in SEED_SETS:
            seeds = [s for s in seeds if s < n]
            check_within_4_se(sk, seeds, exact_ic_spread(n, arcs, probs, seeds))


@pytest.mark.parametrize("case", range(len(TINY)))
def test_lt_estimate_matches_live_edge_enumeration(case, devices):
    n, arcs, _, weights = TINY[case]
    g = arcs_graph(n, arcs, weights).to(devices)
    for backend in backends(devices):
        sk = sample_rr_sets(g, 10000, LinearThreshold(), key=5 + case, backend=backend)
        for seeds in SEED_SETS:
            seeds = [s for s in seeds if s < n]
            check_within_4_se(sk, seeds, exact_lt_spread(n, arcs, weights, seeds))


def test_deterministic_cases():
    # path 0 -> 1 -> 2 with p = 1: the RR set of root v is {0..v}
    g = arcs_graph(3, [(0, 1), (1, 2)], [1.0, 1.0])
    for model in (None, LinearThreshold()):
        sk = sample_rr_sets(g, 300, model, key=3, backend="torch")
        for i in range(sk.num_sets):
            got = sk.nodes[sk.ptr[i]: sk.ptr[i + 1]].tolist()
            assert got == list(range(got[0], -1, -1))  # root first, then backwards
        assert sk.estimate([0]) == pytest.approx(3.0)
    # p = 0: every set is its root alone
    sk = sample_rr_sets(arcs_graph(3, [(0, 1), (1, 2)], [0.0, 0.0]), 200, key=1)
    assert torch.equal(sk.sizes, torch.ones(200, dtype=torch.long))


def _root(key, i, n):
    return int(_shr(_hash64(key, torch.tensor([i]), torch.tensor([-1])), 1) % n)


def reference_rr_set(graph: DiffusionGraph, key: int, i: int, model: str) -> list[int]:
    """RR set ``i`` straight from the documented coins (slow, pure Python)."""
    n = graph.num_nodes
    src, dst = graph.edge_index.tolist()
    prob = graph.edge_prob.tolist()
    inn = [[] for _ in range(n)]  # in-CSR order: by source within each target
    for e, (u, v) in enumerate(zip(src, dst, strict=True)):
        inn[v].append((e, u))
    root = _root(key, i, n)
    seen, order = {root}, [root]  # discovery order: the root, then FIFO / the walk
    if model == "ic":
        num_edges = len(prob)
        starts = [0] * n
        for v in range(1, n):
            starts[v] = starts[v - 1] + len(inn[v - 1])
        q = deque([root])
        while q:
            w = q.popleft()
            row, j0 = inn[w], starts[w]
            if not row:
                continue
            p = torch.tensor([prob[e] for e, _ in row], dtype=torch.float32)
            p_max = p.max()
            acc = (p / p_max).tolist() if float(p_max) > 0 else [1.0] * len(row)
            qq = 1.0 - float(p_max)
            pos, t = 0, 0
            while pos < len(row):  # geometric skips over candidates, then thinning
                h = _hash64(key, torch.tensor(i), torch.tensor(num_edges + j0 + t))
                u = (int(_shr(h, 40)) + 1) / 2**24
                t += 1
                rem = len(row) - pos
                c = next((m - 1 for m in range(1, rem + 1) if not qq**m >= u), rem)
                if c == rem:
                    break
                e, src = row[pos + c]
                coin = float(hash_uniform(key, torch.tensor(i), torch.tensor(j0 + pos + c)))
                pos += c + 1
                if src not in seen and (acc[pos - 1] >= 1.0 or coin < acc[pos - 1]):
                    seen.add(src)
                    order.append(src)
                    q.append(src)
    else:
        w = root
        while True:
            u = float(hash_uniform(key, torch.tensor(i), torch.tensor(w)))
            cum, pick = 0.0, None
            for e, s in inn[w]:
                cum += prob[e]
                if u < cum:
                    pick = s
                    break
            if pick is None or pick in seen:
                break
            seen.add(pick)
            order.append(pick)
            w = pick
    return order


@pytest.mark.parametrize("scheme", ["weighted_cascade", "random"])
@pytest.mark.parametrize("model", ["ic", "lt"])
def test_sets_follow_the_documented_coins(model, scheme):
    g = random_graph(30, 120, seed=2, scheme=scheme)
    diffusion = LinearThreshold() if model == "lt" else IndependentCascade()
    key = 987654321
    for backend in ["torch"] + (["native"] if NATIVE else []):
        sk = sample_rr_sets(g, 60, diffusion, key=key, start=40, backend=backend)
        for j in range(sk.num_sets):
            got = sk.nodes[sk.ptr[j]: sk.ptr[j + 1]].tolist()
            assert got == reference_rr_set(g, key, 40 + j, model), (backend, j)


@needs_native
@pytest.mark.parametrize("scheme", ["weighted_cascade", "random"])
@pytest.mark.parametrize("model", [None, LinearThreshold()])
def test_torch_and_native_are_bit_identical_across_chunks_and_threads(model, scheme):
    g = random_graph(60, 400, seed=1, scheme=scheme)
    key = 2**61 + 12345
    ref = sample_rr_sets(g, 3000, model, key=key, backend="torch", chunk_size=3000)
    threads = torch.get_num_threads()
    runs = [("torch", 1100, threads)] + [
        ("native", chunk, nt) for chunk, nt in itertools.product([3000, 7], [1, 2])
    ]
    try:
        for backend, chunk, nt in runs:
            torch.set_num_threads(nt)
            sk = sample_rr_sets(g, 3000, model, key=key, backend=backend, chunk_size=chunk)
            assert torch.equal(sk.ptr, ref.ptr) and torch.equal(sk.nodes, ref.nodes), (
                backend, chunk, nt)
            assert sk.nodes.dtype == torch.int32 and sk.ptr.dtype == torch.int64
    finally:
        torch.set_num_threads(threads)
    # a later range of the stream is the matching slice of the whole
    part = sample_rr_sets(g, 1000, model, key=key, start=1500, backend="native")
    lo, hi = int(ref.ptr[1500]), int(ref.ptr[2500])
    assert torch.equal(part.nodes, ref.nodes[lo:hi])
    assert torch.equal(part.ptr, ref.ptr[1500:2501] - lo)


@pytest.mark.parametrize("model", [None, LinearThreshold()])
def test_extend_equals_one_call(model):
    g = random_graph(50, 200, seed=3)
    sampler = RRSampler(g, model, key=77)
    whole = sampler.sample(2500)
    sk = sampler.sample(300)
    sampler.extend(sk, 1100)
    sampler.extend(sk, 2500)
    sampler.extend(sk, 2000)  # already large enough: no-op
    assert sk.num_sets == 2500
    assert torch.equal(sk.ptr, whole.ptr) and torch.equal(sk.nodes, whole.nodes)


def test_key_from_generator_is_reproducible():
    g = random_graph()
    a = sample_rr_sets(g, 200, generator=torch.Generator().manual_seed(4))
    b = sample_rr_sets(g, 200, generator=4)
    assert a.key == b.key and torch.equal(a.nodes, b.nodes)


def test_memory_budget_refused_before_sampling(monkeypatch):
    g = random_graph(60, 300, seed=5)
    sampler = RRSampler(g, key=1, memory_budget=400_000)
    calls = []
    original = sampler._append
    monkeypatch.setattr(sampler, "_append", lambda sk, c: (calls.append(c), original(sk, c)))
    with pytest.raises(ValueError, match=r"need about .* but memory_budget is 390\.6 KiB"):
        sampler.sample(10_000)
    assert len(calls) == 1 and calls[0] < 1000  # only the pilot was sampled
    # a sketch too large even at one node per set is refused before the pilot
    calls.clear()
    with pytest.raises(ValueError, match="memory_budget"):
        sampler.sample(10**7)
    assert calls == []
    # what fits is sampled
    assert sampler.sample(2000).num_sets == 2000


def test_bad_arguments():
    g = random_graph()
    with pytest.raises(ValueError, match="backend"):
        RRSampler(g, backend="cuda")
    with pytest.raises(TypeError, match="IndependentCascade and LinearThreshold"):
        RRSampler(g, TemporalIC())
    with pytest.raises(ValueError, match="num_sets"):
        sample_rr_sets(g, -1, key=0)
    over = g.with_prob(torch.full((g.num_edges,), 0.9))
    with pytest.raises(ValueError, match="LT weights"):
        RRSampler(over, LinearThreshold())
    with pytest.raises(ValueError, match="edge_prob"):
        RRSampler(DiffusionGraph.from_edge_index(torch.tensor([[0], [1]])))


def test_native_off_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(ig_typing, "USE_NATIVE_CPU", False)
    g = random_graph()
    assert RRSampler(g).backend == "torch"
    with pytest.raises(RuntimeError, match="native RR kernel"):
        RRSampler(g, backend="native")
