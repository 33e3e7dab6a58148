"""Bad input is refused at the edge with a TypeError / ValueError naming the argument.

One module (:mod:`influence_gpu.validation`) holds every rule; these tests drive the public
functions with the classes of bad input found by trying the library as a new user would.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from influence_gpu import blocked_influence, select_seeds, simulate, simulate_competitive
from influence_gpu import validation as v
from influence_gpu.graph import assign_probabilities, barabasi_albert
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import check_ids, check_k
from influence_gpu.selection.blocking import MCSCELF, RRCELF
from influence_gpu.selection.blocking_baselines import (
    DegreeBlocking,
    ProximityBlocking,
    RandomBlocking,
)


@pytest.fixture(scope="module")
def graph():
    return assign_probabilities(barabasi_albert(30, 2, seed=0), "weighted_cascade")


@pytest.fixture(scope="module")
def labelled():
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    return DiffusionGraph.from_edge_index(ei, edge_prob=[0.5, 0.5, 0.5], node_labels=[10, 1, 0, 7])


# ------------------------------------------------------------------------- silently wrong before
def test_duplicate_node_labels_are_refused():
    with pytest.raises(ValueError, match="node_labels must be distinct: 'a'"):
        DiffusionGraph.from_edge_index([[0], [1]], node_labels=["a", "a"])
    with pytest.raises(TypeError, match="hashable"):
        DiffusionGraph.from_edge_index([[0], [1]], node_labels=[[1], [2]])
    # True and 1 are distinct labels (a dict alone would merge them)
    DiffusionGraph.from_edge_index([[0], [1]], node_labels=[True, 1])


@pytest.mark.parametrize("bad", [True, False, 1.0, 0.0])
def test_bool_or_float_is_not_an_int_label(labelled, bad):
    with pytest.raises(TypeError, match="seeds contains"):
        simulate(labelled, [bad], num_samples=2, seed=0)
    assert simulate(labelled, [1], num_samples=2, seed=0).mean >= 1
    assert simulate(labelled, [np.int64(1)], num_samples=2, seed=0).mean >= 1


@pytest.mark.parametrize("seed", [1.5, 1.0, "abc", b"1", [1], object(), float("nan")])
def test_seed_of_the_wrong_type(graph, seed):
    with pytest.raises(TypeError, match="seed must be an integer or a torch.Generator"):
        simulate(graph, [0], num_samples=2, seed=seed)
    with pytest.raises(TypeError, match="seed"):
        select_seeds(graph, 2, "degree", seed=seed)


def test_seed_out_of_range_and_numpy_seed(graph):
    with pytest.raises(ValueError, match="seed must lie in"):
        simulate(graph, [0], num_samples=2, seed=2**70)
    a = simulate(graph, [0], num_samples=5, seed=np.int64(3)).spreads
    assert torch.equal(a, simulate(graph, [0], num_samples=5, seed=3).spreads)


@pytest.mark.parametrize("budget", [-5, -1, float("nan"), float("inf")])
def test_negative_or_non_finite_memory_budget(graph, budget):
    with pytest.raises(ValueError, match="memory_budget"):
        simulate(graph, [0], num_samples=2, seed=0, memory_budget=budget)
    with pytest.raises(ValueError, match="memory_budget"):
        select_seeds(graph, 2, "celf", num_samples=2, memory_budget=budget)


@pytest.mark.parametrize("budget", ["1GB", True, 1.5, [1]])
def test_memory_budget_of_the_wrong_type(graph, budget):
    with pytest.raises(TypeError, match="memory_budget"):
        simulate(graph, [0], num_samples=2, seed=0, memory_budget=budget)


# ------------------------------------------------------------------------- numeric options
@pytest.mark.parametrize(
    "value,exc",
    [("10", TypeError), (1.5, TypeError), (True, TypeError), (None, TypeError),
     (0, ValueError), (-3, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
     (2**64, ValueError), ([3], TypeError)],
)
def test_bad_num_samples_everywhere(graph, value, exc):
    for call in (
        lambda: simulate(graph, [0], num_samples=value, seed=0),
        lambda: simulate(graph, [0], model="lt", num_samples=value, seed=0)
        if False else simulate(graph, [0], num_samples=value, seed=0),
        lambda: simulate_competitive(graph, [0], [1], num_samples=value, seed=0),
        lambda: blocked_influence(graph, [0], [1], num_samples=value, seed=0),
        lambda: select_seeds(graph, 2, "celf", num_samples=value),
    ):
        with pytest.raises(exc, match="num_samples"):
            call()


def test_integral_float_counts_still_accepted(graph):
    assert simulate(graph, [0], num_samples=1e1, seed=0).num_samples == 10
    assert v.check_memory_budget(1e9) == 10**9


@pytest.mark.parametrize("k,exc", [(2.0, TypeError), ("2", TypeError), (True, TypeError),
                                   (0, ValueError), (31, ValueError), (-1, ValueError)])
def test_bad_k(graph, k, exc):
    with pytest.raises(exc, match="k must"):
        select_seeds(graph, k, "degree")
    with pytest.raises(exc, match="k must"):
        DegreeBlocking().select(graph, k if k != 31 else 0, false_seeds=[0])


def test_numpy_integer_k_accepted_everywhere(graph):
    for k in (np.int64(2), np.int32(2), np.uint8(2)):
        assert len(select_seeds(graph, k, "degree")) == 2
        assert len(DegreeBlocking().select(graph, k, false_seeds=[0]).ids) == 2
        assert check_k(k, 5) == 2


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_probabilities_and_floats(p):
    exc = TypeError if isinstance(p, (str, bool)) else ValueError
    with pytest.raises(exc, match="p "):
        v.check_probability(p, "p")
    assert v.check_probability(np.float32(0.25), "p") == 0.25
    with pytest.raises(ValueError, match=r"x must lie in \(0.0, inf\)"):
        v.check_float(0.0, "x", minimum=0.0, min_inclusive=False)


# ------------------------------------------------------------------------- devices
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_without_cuda_is_a_clear_error(graph, device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        simulate(graph, [0], num_samples=2, seed=0, device=device)
    with pytest.raises(ValueError, match="CUDA is not available"):
        select_seeds(graph, 2, "degree", device=device)
    with pytest.raises(ValueError, match="CUDA is not available"):
        blocked_influence(graph, [0], [1], num_samples=2, device=device)


@pytest.mark.parametrize("device,exc", [("gpu", ValueError), ("banana", ValueError),
                                        ("meta", ValueError), (0, TypeError),
                                        (["cpu"], TypeError), ("cuda:99", ValueError)])
def test_unknown_or_unusable_devices(graph, device, exc):
    with pytest.raises(exc, match="device"):
        simulate(graph, [0], num_samples=2, seed=0, device=device)


def test_cpu_device_spellings(graph):
    for device in ("cpu", torch.device("cpu"), None):
        assert simulate(graph, [0], num_samples=2, seed=0, device=device).mean >= 1


# ------------------------------------------------------------------------- ids and option types
def test_string_and_overflowing_edge_index():
    with pytest.raises(TypeError, match="edge_index must hold numbers"):
        DiffusionGraph.from_edge_index([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match="edge_index"):
        DiffusionGraph.from_edge_index(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match="int64 range"):
        DiffusionGraph.from_edge_index([[0], [2**64]])
    with pytest.raises(ValueError, match="int64 range"):
        DiffusionGraph.from_edge_index(torch.tensor([[0.0], [1e30]]))
    with pytest.raises(TypeError, match="num_nodes"):
        DiffusionGraph.from_edge_index([[0], [1]], num_nodes=2.5)
    with pytest.raises(TypeError, match="edge_prob"):
        DiffusionGraph.from_edge_index([[0], [1]], edge_prob=["x"])
    with pytest.raises(ValueError, match="edge_delay must be finite"):
        DiffusionGraph.from_edge_index([[0], [1]], edge_delay=[float("nan")])
    with pytest.raises(ValueError, match="edge_sign must hold integers"):
        DiffusionGraph.from_edge_index([[0], [1]], edge_sign=[-1.5])


@pytest.mark.parametrize("seeds,exc", [([2**64], ValueError), ([1.5], TypeError),
                                       ([True], TypeError), ("ab", TypeError),
                                       ([0, 0], ValueError), ([30], ValueError),
                                       ([-1], ValueError)])
def test_bad_seed_sets(graph, seeds, exc):
    with pytest.raises(exc, match="seeds"):
        simulate(graph, seeds, num_samples=2, seed=0)


@pytest.mark.parametrize("ids,exc", [(torch.tensor([1.5]), TypeError),
                                     (torch.tensor([True]), TypeError),
                                     ([2**64], ValueError), (["x"], TypeError),
                                     (torch.tensor([30]), ValueError)])
def test_internal_id_checks_of_every_simulator(graph, ids, exc):
    from influence_gpu.diffusion import simulate_ic, simulate_lt
    from influence_gpu.diffusion.competitive import estimate_blocked_influence

    lt = assign_probabilities(graph, "lt_weights")
    for call in (
        lambda: simulate_ic(graph, ids, 2),
        lambda: simulate_lt(lt, ids, 2),
        lambda: estimate_blocked_influence(graph, ids, [], 2),
        lambda: check_ids(graph, ids, "seeds"),
    ):
        with pytest.raises(exc):
            call()


@pytest.mark.parametrize("opts,exc,what", [
    ({"return_provenance": "yes"}, TypeError, "return_provenance"),
    ({"sampler": 5}, ValueError, "sampler"),
    ({"sampler": "fast"}, ValueError, "sampler"),
    ({"backend": ["torch"]}, ValueError, "backend"),
    ({"key": 1.5}, TypeError, "key"),
    ({"key": "k"}, TypeError, "key"),
    ({"nope": 1}, TypeError, "nope"),
])
def test_wrong_option_types_ic(graph, opts, exc, what):
    with pytest.raises(exc, match=what):
        simulate(graph, [0], num_samples=2, seed=0, **opts)


@pytest.mark.parametrize("model", ["ic", "lt", "minimum_threshold", "temporal_ic"])
@pytest.mark.parametrize("key,exc", [(1.5, TypeError), ("k", TypeError), (True, TypeError),
                                     (2**70, ValueError)])
def test_one_key_rule_for_every_model(graph, model, key, exc):
    g = graph
    if model == "temporal_ic":
        g = DiffusionGraph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), num_nodes=3,
                                           edge_time=torch.tensor([1, 2]), edge_prob=[0.5, 0.5])
    elif model != "ic":
        g = assign_probabilities(graph, "lt_weights")
    with pytest.raises(exc, match="key"):
        simulate(g, [0], model=model, num_samples=2, seed=0, key=key)
    assert simulate(g, [0], model=model, num_samples=2, key=-3).num_samples == 2  # any int64


def test_wrong_option_types_lt(graph):
    lt = assign_probabilities(graph, "lt_weights")
    with pytest.raises(TypeError, match="return_provenance"):
        simulate(lt, [0], model="lt", num_samples=2, seed=0, return_provenance="no")
    with pytest.raises(TypeError, match="thresholds"):
        simulate(lt, [0], model="lt", num_samples=2, seed=0, thresholds=torch.zeros(2, 30,
                                                                              dtype=torch.long))


# ------------------------------------------------------------------------- k larger than the pool
@pytest.mark.parametrize("make", [DegreeBlocking, ProximityBlocking, RandomBlocking,
                                  lambda: MCSCELF(num_samples=4, candidates="all"),
                                  lambda: RRCELF(num_sets=50, candidates="all")])
def test_blocking_k_above_the_pool_warns_and_is_marked(make):
    g = DiffusionGraph.from_edge_index([[0, 1, 2], [1, 2, 3]], edge_prob=[0.5, 0.5, 0.5])
    with pytest.warns(UserWarning, match="k=10 but only 3 candidate"):
        res = make().select(g, 10, false_seeds=[0], generator=0)
    assert len(res.ids) <= 3 and res.finished is False
    assert res.extra["short_of_k"] == {"k": 10, "pool": 3, "returned": len(res.ids)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = make().select(g, 2, false_seeds=[0], generator=0)
    assert "short_of_k" not in ok.extra


def test_validation_module_imports_only_torch_and_typing():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(v))
    mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
            for a in n.names}
    mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert mods <= {"torch", "math", "numbers", "collections.abc", "typing", "__future__",
                    "influence_gpu.typing"}, mods
    assert math.isfinite(v.INT64_MAX)


# ------------------------------------------------------------------------- the apps
@pytest.mark.parametrize("over,exc,what", [
    (["seeds=abc"], TypeError, "seeds"),
    (["seeds=[0]", "seed=1.5"], TypeError, "seed"),
    (["seeds=[0]", "device=banana"], ValueError, "device"),
    (["seeds=[0]", "diffusion.num_samples=abc"], TypeError, "num_samples"),
])
def test_evaluate_spread_refuses_bad_input_without_metrics(over, exc, what, tmp_path):
    from hydra.core.global_hydra import GlobalHydra

    from influence_gpu.apps._run import main
    from tests.hydra_app import compose_app

    GlobalHydra.instance().clear()
    try:
        cfg = compose_app("evaluate", ["task=spread", "graph.source.n=40",
                                       "diffusion.num_samples=5", "device=cpu", *over], tmp_path)
        with pytest.raises(exc, match=what):
            main(cfg)
    finally:
        GlobalHydra.instance().clear()
    assert not (tmp_path / "metrics.json").exists()
