import pytest
import torch

import influence_gpu.api as api
from influence_gpu import DiffusionGraph
from influence_gpu.api import METHODS
from influence_gpu.diffusion.base import IndependentCascade, LinearThreshold
from influence_gpu.selection import SelectionResult, SpreadOracle


def run_selection(g, k, method, *, generator=None, **kw):
    """select_seeds returning internal ids, the old dispatcher's contract."""
    return api.select_seeds(g, k, method, seed=generator, return_result=True, **kw).ids


def make_spread_oracle(g, model="ic", num_samples=1000, *, generator=None, memory_budget=None,
                       **kw):
    cls = api.resolve_model(model)
    return SpreadOracle(g, cls(num_samples, memory_budget), generator=generator, **kw)


def star_graph():
    # hub "h" -> 9 leaves with p = 0.5, and two isolated nodes
    labels = ["h", *[f"l{i}" for i in range(9)], "x", "y"]
    src = torch.zeros(9, dtype=torch.long)
    dst = torch.arange(1, 10)
    return DiffusionGraph.from_edge_index(
        torch.stack([src, dst]), num_nodes=12, node_labels=labels
    ).with_prob(0.5)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_returns_k_distinct_ids(method):
    g = star_graph()
    ids = run_selection(
        g, 3, method, num_samples=20, generator=torch.Generator().manual_seed(0), progress=False
    )
    assert len(ids) == 3 and len(set(ids)) == 3
    assert all(isinstance(i, int) and 0 <= i < 12 for i in ids)
    if method == "sga":  # genetic search returns a set: its order means nothing
        assert 0 in ids
    elif method not in ("random", "c_sga"):
        # (c_sga scores sets inside communities; on this star Louvain isolates the hub, see
        # tests/selection/test_community.py for its own checks)
        assert ids[0] == 0


def test_return_result_and_options():
    g = star_graph()
    res = api.select_seeds(
        g,
        2,
        "celf",
        num_samples=20,
        return_result=True,
        progress=False,
        batch_size=2,
        candidate_batch=3,
        seed=torch.Generator().manual_seed(1),
    )
    assert isinstance(res, SelectionResult)
    assert res.method == "celf" and res.oracle_calls >= 2 and res.seconds > 0
    assert res.seeds[0] == "h" and res.ids[0] == 0
    res = api.select_seeds(g, 2, "degree", return_result=True)
    assert res.ids[0] == 0 and res.oracle_calls == 0 and res.prefix_objective == []


def test_select_seeds_returns_labels():
    g = star_graph()
    assert api.select_seeds(g, 1, "celf", num_samples=50, seed=0, progress=False) == ["h"]
    assert api.select_seeds(g, 1, "degree_discount") == ["h"]


def test_unknown_method_and_bad_options():
    g = star_graph()
    with pytest.raises(ValueError, match="unknown method 'pagerank'; known methods: .*celf, "):
        api.select_seeds(g, 2, "pagerank")
    with pytest.raises(ValueError, match="unknown method"):
        api.select_seeds(g, 2, "pagerank")
    with pytest.raises(ValueError, match="k must be between 1"):
        api.select_seeds(g, 13, "degree")
    with pytest.raises(ValueError, match="k must be between 1"):
        run_selection(g, 13, "celf", progress=False)
    with pytest.raises(TypeError, match="p"):
        api.select_seeds(g, 2, "degree", p=0.1)
    with pytest.raises(TypeError, match="k must be an integer"):
        api.select_seeds(g, 2.0, "degree")
    import numpy as np

    assert api.select_seeds(g, np.int64(1), "degree") == ["h"]  # numpy integers are integers


def test_oracle_batches_and_counts():
    g = star_graph()
    oracle = make_spread_oracle(
        g, "ic", 40, generator=torch.Generator().manual_seed(0), candidate_batch=2
    )
    sets = [[0], [1], [0, 1], [10], [11]]
    means, stderrs = oracle.estimate(sets)
    assert means.shape == (5,) and stderrs.shape == (5,)
    assert means[1] == 1 and means[3] == 1 and stderrs[1] == 0
    assert means[0] > 2  # expected 5.5
    assert oracle.calls == 1 and oracle.evaluations == 5
    # common random numbers: the same set gets the same estimate in another call
    assert torch.equal(oracle([[0]]), means[:1])
    # exact value on a deterministic graph (p = 1): spread of the hub = 10
    sure = g.with_prob(1.0)
    assert make_spread_oracle(sure, "ic", 5)([[0], [0, 10]]).tolist() == [10.0, 11.0]


def test_oracle_errors():
    g = star_graph()
    with pytest.raises(ValueError, match="unknown model"):
        api.resolve_model("sir")
    with pytest.raises(ValueError, match="num_samples must be at least 1"):
        IndependentCascade(0)
    with pytest.raises(ValueError, match="candidate_batch must be at least 1"):
        SpreadOracle(g, IndependentCascade(10), candidate_batch=0)
    with pytest.raises(TypeError, match="graph must be a DiffusionGraph"):
        SpreadOracle("g")
    with pytest.raises(TypeError, match="diffusion must be a Diffusion"):
        SpreadOracle(g, "ic")


def path_graph(p):
    e = torch.tensor([[0, 1], [1, 2]])
    return DiffusionGraph.from_edge_index(e, num_nodes=4).with_prob(p)


def test_oracle_other_models_loop_over_sets():
    # LT with in-weight 1 on every arc: every threshold is reached, spread is the reach
    gen = torch.Generator().manual_seed(0)
    oracle = SpreadOracle(path_graph(1.0), LinearThreshold(10), generator=gen)
    means, stderrs = oracle.estimate([[0], [1], [3], [0, 3]])
    assert means.tolist() == [3.0, 2.0, 1.0, 4.0] and stderrs.abs().sum() == 0
    assert oracle.calls == 1 and oracle.evaluations == 4
    assert not oracle.common_random_numbers
    assert run_selection(path_graph(1.0), 1, "celf", model="lt", num_samples=5, progress=False) == [
        0
    ]


def test_oracle_without_common_random_numbers_and_memory_budget():
    g = star_graph()
    gen = torch.Generator().manual_seed(0)
    noisy = make_spread_oracle(g, "ic", 30, generator=gen, common_random_numbers=False)
    assert not noisy.common_random_numbers
    draws = torch.stack([noisy([[0]]) for _ in range(5)])
    assert draws.unique().numel() > 1  # fresh worlds on every call
    with pytest.raises(MemoryError):
        make_spread_oracle(g, "ic", 10, memory_budget=1)([[0]])
    with pytest.raises(MemoryError):
        run_selection(g, 1, "celf", num_samples=10, memory_budget=1, progress=False)
