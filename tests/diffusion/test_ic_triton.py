"""The Triton IC kernel (hash coins) under the interpreter: bit-identical to torch and native."""

import importlib.util

import pytest
import torch

from influence_gpu.diffusion import ic
from influence_gpu.diffusion.ic import simulate_ic, simulate_ic_batch
from influence_gpu.kernels import choose_backend, native_threads
from tests.diffusion.test_ic import random_graph
from tests.exact import exact_ic

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)


@pytest.fixture
def interpret(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")


@pytest.mark.parametrize("n,m,gseed", [(40, 160, 0), (80, 400, 1), (25, 300, 2)])
@pytest.mark.parametrize("key", [1, 2**61 + 12345])
def test_counts_bit_identical_to_torch_and_native(interpret, n, m, gseed, key):
    graph = random_graph(n, m, gseed)
    seeds = torch.tensor([0, 3, 7])
    runs = {
        b: simulate_ic(graph, seeds, 150, sampler="hash", key=key, backend=b)
        for b in ("torch", "native", "triton")
    }
    assert runs["triton"].extra["backend"] == "triton"
    for b in ("torch", "native"):
        assert torch.equal(runs["triton"].spreads, runs[b].spreads), b
    assert torch.equal(runs["triton"].node_prob, runs["torch"].node_prob)
    assert runs["triton"].extra["max_steps"] == runs["torch"].extra["max_steps"]


def test_batched_sets_and_chunking_identical(interpret):
    graph = random_graph(60, 300, 3)
    sets = [torch.tensor([0]), torch.tensor([1, 2]), torch.tensor([5, 9, 11])]
    ref = simulate_ic_batch(graph, sets, 120, sampler="hash", key=9, backend="torch")
    got = simulate_ic_batch(graph, sets, 120, sampler="hash", key=9, backend="triton")
    assert torch.equal(ref[0], got[0]) and torch.equal(ref[1], got[1])
    # a small budget forces several chunks: each run's coins depend on its run index only
    fixed = ic._fixed_bytes(graph, "hash") + ic._result_bytes(1, 120, 60, False)
    budget = int(fixed + 30 * ic._bytes_per_run(60, False))  # chunks of about 30 runs
    small = simulate_ic(graph, sets[2], 120, sampler="hash", key=9, backend="triton",
                        memory_budget=budget)
    one = simulate_ic(graph, sets[2], 120, sampler="hash", key=9, backend="torch")
    assert torch.equal(small.spreads, one.spreads)


def test_agrees_with_exact_enumeration(interpret):
    graph = random_graph(6, 14, 1)
    arcs = list(zip(graph.src.tolist(), graph.col.tolist(), strict=False))
    exact = exact_ic(graph.num_nodes, arcs, graph.edge_prob.tolist(), [0, 3])[0]
    res = simulate_ic(graph, torch.tensor([0, 3]), 4000, sampler="hash", key=5, backend="triton")
    # 4 standard errors of the 4000-run mean
    assert abs(res.mean - exact) <= 4 * res.stderr + 1e-9


def test_forced_triton_refuses_what_it_cannot_run(monkeypatch):
    graph = random_graph(20, 60, 0)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend='triton' needs triton and a CUDA device"):
        simulate_ic(graph, torch.tensor([0]), 10, sampler="hash", backend="triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(ValueError, match="does not apply"):
        simulate_ic(graph, torch.tensor([0]), 10, backend="triton")  # sampler 'skip'
    with pytest.raises(ValueError, match="does not apply"):
        simulate_ic(graph, torch.tensor([0]), 10, sampler="hash", backend="triton",
                    return_provenance=True)


def test_auto_never_picks_the_interpreter(interpret):
    graph = random_graph(20, 60, 0)
    res = simulate_ic(graph, torch.tensor([0]), 10, sampler="hash")
    assert res.extra.get("backend") in ("native", "torch")


def test_choose_backend_contract(monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of"):
        choose_backend("X", "cuda", "cpu")
    with pytest.raises(ValueError, match="has no native kernel"):
        choose_backend("X", "native", "cpu")
    with pytest.raises(ValueError, match="has no Triton kernel"):
        choose_backend("X", "triton", "cpu")
    with pytest.raises(RuntimeError, match="not available"):
        choose_backend("X", "native", "cpu", native=lambda: None)
    assert choose_backend("X", "auto", "cpu", native=lambda: None) == "torch"
    assert choose_backend("X", "auto", "cpu", native=lambda: object()) == "native"
    from influence_gpu import typing as flags

    monkeypatch.setattr(flags, "USE_NATIVE_CPU", False)
    assert choose_backend("X", "auto", "cpu", native=lambda: object()) == "torch"


def test_native_threads_honours_the_environment(monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_THREADS", "1")
    assert native_threads() == 1
    monkeypatch.setenv("INFLUENCE_GPU_THREADS", "zero")
    with pytest.raises(ValueError, match="INFLUENCE_GPU_THREADS"):
        native_threads()
    monkeypatch.delenv("INFLUENCE_GPU_THREADS")
    assert native_threads() >= 1
