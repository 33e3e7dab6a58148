"""Triton LT and minimum threshold kernels under the interpreter: the torch and native runs."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys

import pytest
import torch

from influence_gpu.diffusion import _threshold_engine as engine
from influence_gpu.diffusion._threshold_engine import plan
from influence_gpu.diffusion.lt import estimate_lt_sets, simulate_lt
from influence_gpu.diffusion.threshold import (
    estimate_minimum_threshold_sets,
    estimate_multiplication_threshold_sets,
    simulate_minimum_threshold,
    simulate_multiplication_threshold,
)
from tests.diffusion.test_lt import TINY, _graph, exact_lt
from tests.diffusion.test_lt import _check_against_reference as _check_lt_reference
from tests.diffusion.test_lt_native import _assert_same, _model_graph
from tests.diffusion.test_threshold import _check_against_reference as _check_min_reference

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)

MODELS = ["lt", "minimum_threshold"]
SIM = {"lt": simulate_lt, "minimum_threshold": simulate_minimum_threshold}
EST = {"lt": estimate_lt_sets, "minimum_threshold": estimate_minimum_threshold_sets}


@pytest.fixture
def interpret(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")


def _alpha(model, n, seed):
    if model != "minimum_threshold":
        return {}
    return {"alpha": 0.5 + torch.rand(n, generator=torch.Generator().manual_seed(seed))}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("gseed", [0, 1, 2])
def test_runs_bit_identical_to_torch_and_native(interpret, model, gseed):
    graph = _model_graph(model, gseed)
    seeds = torch.tensor([0, 7, 13][: 1 + gseed])
    for key in (1, 99, 2**62 + 5):
        kw = dict(key=key, return_provenance=True, **_alpha(model, graph.num_nodes, key % 7))
        runs = {b: SIM[model](graph, seeds, 64, backend=b, **kw)
                for b in ("torch", "native", "triton")}
        assert runs["triton"].extra["backend"] == "triton"
        # spreads, blocked counts, node counts, steps, parents, max_steps, mean and stderr
        _assert_same(runs["triton"], runs["torch"], model)
        _assert_same(runs["triton"], runs["native"], model)
    assert int(runs["triton"].spreads.max()) > len(seeds)  # the cascades did spread


@pytest.mark.parametrize("model", MODELS)
def test_given_thresholds_chunks_and_pieces(interpret, monkeypatch, model):
    graph = _model_graph(model, 3)
    R, n = 41, graph.num_nodes
    theta = torch.rand(R, n, generator=torch.Generator().manual_seed(4)) ** 2
    kw = dict(thresholds=theta, return_provenance=True, **_alpha(model, n, 4))
    seeds = torch.tensor([1, 2])
    tor = SIM[model](graph, seeds, R, backend="torch", **kw)
    one = SIM[model](graph, seeds, R, backend="triton", **kw)
    _assert_same(one, tor, model)
    # a small budget: several chunks, and a step's pushes in several pieces
    budget = 40_000
    chunk, work = plan(graph, R, budget, True, "x", triton=True)
    assert 1 < chunk < R and work < graph.num_edges
    pieces, listed = [], engine.frontier_pieces

    def counted(*args):
        got = list(listed(*args))
        pieces.append(len(got))
        yield from got

    with monkeypatch.context() as m:
        m.setattr(engine, "frontier_pieces", counted)
        small = SIM[model](graph, seeds, R, backend="triton", memory_budget=budget, **kw)
    assert small.extra["runs_per_chunk"] == chunk and max(pieces) > 1
    _assert_same(small, tor, model)
    hashed = {k: v for k, v in kw.items() if k != "thresholds"}
    a = SIM[model](graph, seeds, R, backend="triton", memory_budget=budget, key=3, **hashed)
    _assert_same(a, SIM[model](graph, seeds, R, backend="native", key=3, **hashed), model)


def test_matches_the_pure_python_references(interpret):
    graph = _model_graph("lt", 1)
    theta = torch.rand(12, graph.num_nodes, generator=torch.Generator().manual_seed(8))
    seeds = torch.tensor([0, 4])
    res = simulate_lt(graph, seeds, 12, thresholds=theta, return_provenance=True,
                      backend="triton")
    _check_lt_reference(graph, seeds.tolist(), theta, res)
    graph = _model_graph("minimum_threshold", 1)
    theta = torch.rand(12, graph.num_nodes, generator=torch.Generator().manual_seed(9))
    alpha = _alpha("minimum_threshold", graph.num_nodes, 2)["alpha"]
    res = simulate_minimum_threshold(graph, seeds, 12, thresholds=theta, alpha=alpha,
                                     return_provenance=True, backend="triton")
    _check_min_reference("minimum", graph, seeds.tolist(), theta, res, alpha)


def test_tiny_lt_weights_sum_exactly_in_any_order(interpret):
    """Many tiny in-weights into one node: the atomic adds agree with torch's sums exactly."""
    k = 40
    arcs = [(i, k) for i in range(k)]
    weights = [0.5 / k + 1e-11 * (i % 3) for i in range(k)]
    graph = _graph(arcs, weights, n=k + 1)
    theta = torch.ones(8, k + 1)
    theta[:, k] = torch.tensor(sum(weights), dtype=torch.float64).float() + torch.arange(8) * 1e-9
    a = simulate_lt(graph, torch.arange(k), 8, thresholds=theta, backend="triton")
    b = simulate_lt(graph, torch.arange(k).flip(0), 8, thresholds=theta, backend="torch")
    assert torch.equal(a.spreads, b.spreads)


@pytest.mark.parametrize("model", MODELS)
def test_batched_sets_and_split_runs(interpret, model):
    graph = _model_graph(model, 2)
    sets = [torch.tensor([i, (i + 5) % graph.num_nodes]) for i in range(5)]
    sets.append(torch.tensor([], dtype=torch.long))
    kw = dict(key=8, **_alpha(model, graph.num_nodes, 1))
    if model != "lt":
        kw["return_blocked"] = True
    got = EST[model](graph, sets, 30, backend="triton", **kw)
    for b in ("torch", "native"):
        want = EST[model](graph, sets, 30, backend=b, **kw)
        assert all(torch.equal(x, y) for x, y in zip(got, want, strict=True)), b
    # runs split over two devices: each piece hashes the thresholds of its global runs
    one = SIM[model](graph, sets[1], 30, key=8, backend="torch")
    two = SIM[model](graph, sets[1], 30, key=8, backend="triton", devices=["cpu", "cpu"])
    assert torch.equal(one.spreads, two.spreads) and torch.equal(one.node_prob, two.node_prob)


def test_agrees_with_live_edge_enumeration(interpret):
    n, arcs, weights, seeds = TINY[0]
    mean, var, node_prob = exact_lt(n, arcs, weights, seeds)
    R = 8000
    res = simulate_lt(_graph(arcs, weights, n=n), torch.tensor(seeds), R, key=31,
                      backend="triton")
    # 4 standard errors of the mean of R runs (exact variance), and of each node frequency
    assert abs(res.mean - mean) <= 4 * math.sqrt(var / R)
    for v in range(n):
        p = node_prob[v]
        assert abs(float(res.node_prob[v]) - p) <= 4 * math.sqrt(max(p * (1 - p), 0) / R) + 1e-6


def test_forced_triton_refuses_what_it_cannot_run(monkeypatch):
    graph = _model_graph("multiplication_threshold", 0)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend='triton' needs triton and a CUDA device"):
        simulate_lt(_model_graph("lt", 0), torch.tensor([0]), 4, key=1, backend="triton")
    with pytest.raises(ValueError, match="backend='triton' needs triton and a CUDA device"):
        simulate_minimum_threshold(graph, torch.tensor([0]), 4, key=1, backend="triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(ValueError, match="does not apply.*multiplication model"):
        simulate_multiplication_threshold(graph, torch.tensor([0]), 4, key=1, backend="triton")
    with pytest.raises(ValueError, match="does not apply.*multiplication model"):
        estimate_multiplication_threshold_sets(graph, [torch.tensor([0])], 4, key=1,
                                               backend="triton")
    # auto never picks the interpreter
    assert simulate_lt(_model_graph("lt", 0), torch.tensor([0]), 4, key=1).extra["backend"] in (
        "native", "torch")


def test_threshold_modules_do_not_import_triton():
    code = (
        "import sys; import influence_gpu.diffusion.lt, influence_gpu.diffusion.threshold, "
        "influence_gpu.diffusion.temporal; assert 'triton' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("model", MODELS)
def test_compiled_kernels_on_cuda(monkeypatch, model):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    graph = _model_graph(model, 1)
    cuda = graph.to("cuda")
    seeds = torch.tensor([0, 7])
    kw = dict(key=5, return_provenance=True, **_alpha(model, graph.num_nodes, 3))
    got = SIM[model](cuda, seeds.cuda(), 200, **kw)  # auto picks triton on CUDA
    assert got.extra["backend"] == "triton"
    _assert_same(got, SIM[model](graph, seeds, 200, backend="native", **kw), model)
    _assert_same(got, SIM[model](cuda, seeds.cuda(), 200, backend="torch", **kw), model)
