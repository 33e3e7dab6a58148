"""Native threshold-model kernel: bit-identity with the torch engine, batching, budget, fallback."""

from __future__ import annotations

import math

import pytest
import torch

from influence_gpu import typing as flags
from influence_gpu.diffusion._threshold_engine import WEIGHT_QUANTUM, lt_weights
from influence_gpu.diffusion.lt import draw_thresholds, estimate_lt_sets, simulate_lt
from influence_gpu.diffusion.threshold import (
    estimate_minimum_threshold_sets,
    estimate_multiplication_threshold_sets,
    simulate_minimum_threshold,
    simulate_multiplication_threshold,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from tests.diffusion.test_lt import TINY, _graph, exact_lt, random_lt_graph
from tests.diffusion.test_threshold import random_graph

SIM = {
    "lt": simulate_lt,
    "minimum_threshold": simulate_minimum_threshold,
    "multiplication_threshold": simulate_multiplication_threshold,
}
EST = {
    "lt": estimate_lt_sets,
    "minimum_threshold": estimate_minimum_threshold_sets,
    "multiplication_threshold": estimate_multiplication_threshold_sets,
}
FIELDS = ("spreads", "activation_step", "parent", "node_prob")
BLOCK_FIELDS = ("blocked", "node_blocked_prob")


@pytest.fixture(params=[1, 2], ids=["threads1", "threads2"])
def threads(request, monkeypatch) -> int:
    monkeypatch.setenv("INFLUENCE_GPU_THREADS", str(request.param))
    return request.param


def _model_graph(model: str, seed: int) -> DiffusionGraph:
    return random_lt_graph(seed) if model == "lt" else random_graph(seed)


def _assert_same(a, b, model):
    for f in FIELDS + (BLOCK_FIELDS if model != "lt" else ()):
        x, y = getattr(a, f), getattr(b, f)
        assert (x is None) == (y is None), f
        if x is not None:
            assert torch.equal(x.cpu(), y.cpu()), f
    assert a.extra["max_steps"] == b.extra["max_steps"]
    assert a.mean == b.mean and a.stderr == b.stderr


# ------------------------------------------------------------------------------- the hash port
@pytest.mark.parametrize("key", [0, 1, 12345, 2**62 - 1, 2**63 + 17])
@pytest.mark.parametrize("offset", [0, 3, 10**9])
def test_hashed_thresholds_match_draw_thresholds(key, offset):
    from influence_gpu.diffusion._native.lt import load_lt_kernel

    fn = load_lt_kernel("lt_hash_thresholds")
    out = torch.empty(4, 257, dtype=torch.float32)
    assert fn(257, 4, offset, key, out.data_ptr()) == 0
    assert torch.equal(out, draw_thresholds(key, offset, 4, 257, "cpu"))


# ------------------------------------------------------------------- native == torch, bit for bit
@pytest.mark.parametrize("model", list(SIM))
@pytest.mark.parametrize("gseed", [0, 1, 2])
def test_native_equals_torch_with_hashed_thresholds(model, gseed, threads):
    graph = _model_graph(model, gseed)
    seeds = torch.tensor([0, 7, 13][: 1 + gseed])
    for key in (1, 99, 2**61 + 5):
        kw = dict(key=key, return_provenance=True)
        nat = SIM[model](graph, seeds, 64, backend="native", **kw)
        tor = SIM[model](graph, seeds, 64, backend="torch", **kw)
        assert nat.extra["backend"] == "native" and nat.extra["threads"] == threads
        assert tor.extra["backend"] == "torch"
        _assert_same(nat, tor, model)
    assert int(nat.spreads.max()) > len(seeds)  # not all trivial


@pytest.mark.parametrize("model", list(SIM))
def test_native_equals_torch_with_injected_thresholds_and_chunks(model, threads):
    graph = _model_graph(model, 3)
    R = 41
    g = torch.Generator().manual_seed(4)
    theta = torch.rand(R, graph.num_nodes, generator=g) ** 2
    alpha = 0.5 + torch.rand(graph.num_nodes, generator=g) if model == "minimum_threshold" else None
    seeds = torch.tensor([1, 2])
    kw = dict(thresholds=theta, return_provenance=True, alpha=alpha)
    if model == "lt":
        kw.pop("alpha")
    tor = SIM[model](graph, seeds, R, backend="torch", **kw)
    one = SIM[model](graph, seeds, R, backend="native", **kw)
    # a float32 threshold copy of 8 B per slot is the native kernel's only per-run memory
    n, E = graph.num_nodes, graph.num_edges
    budget = R * n * 12 + threads * n * 60 + 12 * E + 10 * 8 * n  # about 10 runs of copies
    small = SIM[model](graph, seeds, R, backend="native", memory_budget=budget, **kw)
    assert one.extra["runs_per_chunk"] == R and 1 <= small.extra["runs_per_chunk"] < R
    _assert_same(one, tor, model)
    _assert_same(small, tor, model)
    # float64 thresholds are read in place, with the same outcome
    f64 = {**kw, "thresholds": theta.double()}
    _assert_same(SIM[model](graph, seeds, R, backend="native", **f64), tor, model)


@pytest.mark.parametrize("model", list(SIM))
def test_exact_ties_native_equals_torch(model):
    """Dyadic weights and thresholds: sums / products / minima hit theta exactly."""
    n = 12
    arcs = [(u, v) for u in range(n) for v in range(n) if u != v and (3 * u + 5 * v) % 7 < 2]
    indeg = [sum(1 for _, v in arcs if v == x) for x in range(n)]
    w = [1.0 / 8 if indeg[v] * 0.25 > 1 else 0.25 for _, v in arcs]
    if model != "lt":
        w = [0.5 + 0.25 * ((u + v) % 3) for u, v in arcs]  # {.5, .75, 1}
    graph = _graph(arcs, w, n=n)
    theta = torch.randint(0, 9, (64, n), generator=torch.Generator().manual_seed(5)).float() / 8
    kw = dict(thresholds=theta, return_provenance=True)
    _assert_same(
        SIM[model](graph, torch.tensor([0, 1]), 64, backend="native", **kw),
        SIM[model](graph, torch.tensor([0, 1]), 64, backend="torch", **kw),
        model,
    )


def test_run_offset_of_the_kernel_picks_the_hashed_rows():
    """Runs ``offset ..`` of a key are the runs with ``draw_thresholds(key, offset, ...)``."""
    from influence_gpu.diffusion._native.lt import load_lt_kernel
    from influence_gpu.diffusion._threshold_engine import _native_arrays

    graph = random_lt_graph(5)
    key, offset, R = 77, 1000, 9
    rowptr, col, weight = _native_arrays(graph, "lt")
    seeds = torch.tensor([0, 4])
    ptr = torch.tensor([0, 2])
    spreads = torch.empty(R, dtype=torch.long)
    status = load_lt_kernel()(
        0, graph.num_nodes, rowptr.data_ptr(), col.data_ptr(), weight.data_ptr(), None,
        seeds.data_ptr(), ptr.data_ptr(), 1, R, offset, key, None, 2, spreads.data_ptr(),
        None, None, None, None, None, None,
    )
    assert status == 0
    theta = draw_thresholds(key, offset, R, graph.num_nodes, "cpu")
    ref = simulate_lt(graph, seeds, R, thresholds=theta, backend="torch")
    assert torch.equal(spreads, ref.spreads)


def test_tiny_weights_are_quantised_and_order_free():
    """Weights below 2**-29 are rounded up to multiples of 2**-52; sums are then exact."""
    w = torch.tensor([0.5, 3e-12, 1e-30, 0.0, 2.0**-29, 0.1], dtype=torch.float32)
    q = lt_weights(w)
    assert q.dtype == torch.float64
    assert torch.equal(q / WEIGHT_QUANTUM, torch.round(q / WEIGHT_QUANTUM))
    keep = w >= 2.0**-29
    assert torch.equal(q[keep], w[keep].double())  # practical weights unchanged
    assert float(q[2]) == WEIGHT_QUANTUM and float(q[3]) == 0.0  # positive stays positive
    # many tiny in-weights into one node: both engines agree whatever their summation order
    k = 40
    arcs = [(i, k) for i in range(k)]
    weights = [0.5 / k + 1e-11 * (i % 3) for i in range(k)]
    graph = _graph(arcs, weights, n=k + 1)
    theta = torch.ones(8, k + 1)
    theta[:, k] = torch.tensor(sum(weights), dtype=torch.float64).float() + torch.arange(8) * 1e-9
    seeds = torch.arange(k)
    a = simulate_lt(graph, seeds, 8, thresholds=theta, backend="native")
    b = simulate_lt(graph, seeds.flip(0), 8, thresholds=theta, backend="torch")
    assert torch.equal(a.spreads, b.spreads)


# ------------------------------------------------------------------------------- batched sets
@pytest.mark.parametrize("model", list(SIM))
@pytest.mark.parametrize("backend", ["native", "torch"])
def test_batched_sets_equal_per_set(model, backend):
    graph = _model_graph(model, 1)
    sets = [torch.tensor([0]), torch.tensor([3, 5, 8]), torch.tensor([], dtype=torch.long),
            torch.tensor([9, 2])]
    R, key = 50, 321
    means, stderrs = EST[model](graph, sets, R, key=key, backend=backend)
    assert means.dtype == stderrs.dtype == torch.float64 and means.shape == (len(sets),)
    for i, s in enumerate(sets):
        res = SIM[model](graph, s, R, key=key, backend=backend)
        assert means[i].item() == pytest.approx(res.mean, rel=1e-12, abs=1e-12)
        assert stderrs[i].item() == pytest.approx(res.stderr, rel=1e-9, abs=1e-12)
    if model != "lt":
        out = EST[model](graph, sets, R, key=key, backend=backend, return_blocked=True)
        assert len(out) == 4 and torch.equal(out[0], means)
        res = SIM[model](graph, sets[1], R, key=key, backend=backend)
        assert out[2][1].item() == pytest.approx(res.blocked_mean, rel=1e-12)


@pytest.mark.parametrize("model", list(SIM))
def test_batched_native_equals_batched_torch(model, threads):
    graph = _model_graph(model, 2)
    sets = [torch.tensor([i, (i + 5) % graph.num_nodes]) for i in range(6)]
    a = EST[model](graph, sets, 30, key=8, backend="native")
    b = EST[model](graph, sets, 30, key=8, backend="torch")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_batched_empty_and_bad_sets():
    graph = random_lt_graph(0)
    m, s = estimate_lt_sets(graph, [], 10, key=1)
    assert m.shape == (0,) and s.shape == (0,)
    with pytest.raises(ValueError, match=r"seed_sets\[1\]"):
        estimate_lt_sets(graph, [torch.tensor([0]), torch.tensor([999])], 10, key=1)


# ------------------------------------------------------------------------- exact enumeration
@pytest.mark.parametrize("case", range(len(TINY)))
def test_native_matches_live_edge_enumeration(case):
    n, arcs, weights, seeds = TINY[case]
    mean, var, node_prob = exact_lt(n, arcs, weights, seeds)
    graph = _graph(arcs, weights, n=n)
    R = 20_000
    res = simulate_lt(graph, torch.tensor(seeds), R, key=1000 + case, backend="native")
    assert res.extra["backend"] == "native"
    # 4 standard errors of the mean of R runs (exact variance), and of each node frequency
    assert abs(res.mean - mean) <= 4 * math.sqrt(var / R)
    for v in range(n):
        p = node_prob[v]
        assert abs(float(res.node_prob[v]) - p) <= 4 * math.sqrt(max(p * (1 - p), 0) / R) + 1e-6
    # the batched oracle on the same key gives the same mean
    m, _ = estimate_lt_sets(graph, [torch.tensor(seeds)], R, key=1000 + case, backend="native")
    assert m[0].item() == pytest.approx(res.mean, rel=1e-12)


# ------------------------------------------------------------------------ budget and fallback
@pytest.mark.parametrize("model", list(SIM))
def test_native_budget_refused_before_any_work(model):
    graph = _model_graph(model, 0)
    gen = torch.Generator().manual_seed(11)
    state = gen.get_state()
    with pytest.raises(MemoryError, match="memory_budget"):
        SIM[model](graph, torch.tensor([0]), 10, generator=gen, memory_budget=2000,
                   backend="native")
    with pytest.raises(MemoryError, match="memory_budget"):
        EST[model](graph, [torch.tensor([0])], 10, generator=gen, memory_budget=2000,
                   backend="native")
    assert torch.equal(gen.get_state(), state)  # no key drawn
    assert "threshold_native" not in graph._cache  # nor the per-graph arrays built


def test_native_budget_counts_the_per_graph_arrays():
    """A budget that fits the workspace but not the first-call arrays is refused."""
    n, deg = 2000, 50
    E = n * deg
    graph = DiffusionGraph(torch.arange(0, E + 1, deg), (torch.arange(E) * 7919 + 13) % n,
                           edge_prob=torch.full((E,), 1.0 / deg))
    budget = 2 * n * 24 + 2 * 16 * 1024 + 6 * E  # below the 12 B per arc of col + weights
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_lt(graph, torch.tensor([0]), 4, memory_budget=budget, backend="native", key=1)
    assert "threshold_native" not in graph._cache
    simulate_lt(graph, torch.tensor([0]), 4, memory_budget=budget + 12 * E, backend="native",
                key=1)
    assert "threshold_native" in graph._cache


@pytest.mark.parametrize("model", list(SIM))
def test_fallback_to_torch_when_native_is_off(model, monkeypatch):
    graph = _model_graph(model, 1)
    seeds = torch.tensor([0, 3])
    nat = SIM[model](graph, seeds, 20, key=5)
    assert nat.extra["backend"] == "native"
    monkeypatch.setattr(flags, "USE_NATIVE_CPU", False)
    off = SIM[model](graph, seeds, 20, key=5)
    assert off.extra["backend"] == "torch"
    assert torch.equal(off.spreads, nat.spreads)
    m, _ = EST[model](graph, [seeds], 20, key=5)
    assert m[0].item() == pytest.approx(nat.mean)


def test_backend_checks():
    graph = random_lt_graph(0)
    with pytest.raises(ValueError, match="backend"):
        simulate_lt(graph, torch.tensor([0]), 5, backend="gpu")
    with pytest.raises(ValueError, match="thresholds or key"):
        simulate_lt(graph, torch.tensor([0]), 2, key=1, thresholds=torch.rand(2, 25))
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="native"):
            simulate_lt(graph.to("cuda"), torch.tensor([0]), 5, backend="native")
