"""NIE features against a slow networkx reference, and the batched candidate path."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from influence_gpu.graph import DiffusionGraph, erdos_renyi
from influence_gpu.graph.statistics import compute_statistics
from influence_gpu.nie import FEATURE_NAMES, NIEFeaturizer
from influence_gpu.nie.features import _features_networkx


def _random_graph(seed: int, n: int = 40, p: float = 0.07) -> DiffusionGraph:
    g = erdos_renyi(n, p, seed=seed, directed=True)
    gen = torch.Generator().manual_seed(100 + seed)
    return g.with_prob(torch.rand(g.num_edges, generator=gen))


def _random_sets(n: int, seed: int, num: int = 6):
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=gen)
    f = perm[: 1 + seed % 4]
    rest = perm[f.numel() :]
    sets = [rest[:0]]  # an empty truth set gives I = 0
    for i in range(1, num):
        sets.append(rest[torch.randperm(rest.numel(), generator=gen)[: 1 + i % 5]])
    return f, sets


def _featurizer(g, h, weight_rule="alg1"):
    return NIEFeaturizer(g, compute_statistics(g, use_cache=False), h=h, dtype=torch.float64,
                         weight_rule=weight_rule)


def test_feature_names_order():
    assert FEATURE_NAMES == (
        "nbhd_false",
        "loc_false",
        "struct_false",
        "nbhd_true",
        "loc_true",
        "struct_true",
        "interrelation",
    )


def test_path_graph_by_hand():
    # 0 -> 1 -> 2 -> 3 -> 4 and 5 -> 2, all p = 0.5; S_F = {0}, S_T = {5}, h = 2
    ei = [[0, 1, 2, 3, 5], [1, 2, 3, 4, 2]]
    g = DiffusionGraph.from_edge_index(ei, num_nodes=6, edge_prob=[0.5] * 5)
    feat = _featurizer(g, 2).features(torch.tensor([0]), [torch.tensor([5])])[0]
    # N_2({0}) = {0, 1, 2}; w(1) = 0.5 * 1, w(2) = c(2) * w(1) = 0.5 * 0.5;
    # d({5}, 2) = 1 < d({0}, 2) = 2, so only node 2 is protected: I = 0.25
    assert feat[6].item() == pytest.approx(0.25)
    assert feat[0].item() == 1 and feat[3].item() == 1  # one out-neighbour each
    assert feat[2].item() == 0 and feat[5].item() == 0  # no triangles


def test_weight_rules_by_hand():
    # two false seeds 0 and 1 both point at 2 (p = 0.5 and 0.25), 2 -> 3 (p = 0.5); S_T = {4},
    # 4 -> 2 and 4 -> 3 (p = 1), so T is first at nothing (d_T(2) = 1 = d_F(2)) except node 3
    # (d_T = 1 < d_F = 2). Alg. 1: c(2) = (0.5 + 0.25 + 1) / 3, w(2) = c(2) * (1 - 0 * 0) = c(2),
    # c(3) = (0.5 + 1) / 2, w(3) = c(3) * w(2). Per arc: w(2) = 1 - 0.5 * 0.75 = 0.625,
    # w(3) = w(2) * 0.5.
    ei = [[0, 1, 2, 4, 4], [2, 2, 3, 2, 3]]
    g = DiffusionGraph.from_edge_index(ei, num_nodes=5, edge_prob=[0.5, 0.25, 0.5, 1.0, 1.0])
    f, t = torch.tensor([0, 1]), [torch.tensor([4])]
    c2, c3 = 1.75 / 3, 0.75
    assert _featurizer(g, 2).features(f, t)[0, 6].item() == pytest.approx(c3 * c2)
    assert _featurizer(g, 2, "edge").features(f, t)[0, 6].item() == pytest.approx(0.625 * 0.5)
    for rule in ("alg1", "edge"):
        assert _features_networkx(g, [0, 1], [4], 2, rule)[6] == pytest.approx(
            _featurizer(g, 2, rule).features(f, t)[0, 6].item(), abs=1e-12)


@pytest.mark.parametrize("weight_rule", ["alg1", "edge"])
@pytest.mark.parametrize("h", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_features_match_networkx_reference(seed, h, weight_rule):
    g = _random_graph(seed)
    f, sets = _random_sets(g.num_nodes, seed)
    got = _featurizer(g, h, weight_rule).features(f, sets)
    ref = torch.tensor(
        [_features_networkx(g, f.tolist(), t.tolist(), h, weight_rule) for t in sets],
        dtype=torch.float64,
    )
    assert got.shape == (len(sets), 7)
    assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12)
    assert float(ref[:, 6].max()) > 0  # the interrelation term is exercised


@pytest.mark.parametrize("weight_rule", ["alg1", "edge"])
@pytest.mark.parametrize("h", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_candidate_features_equal_one_at_a_time(seed, h, weight_rule):
    g = _random_graph(seed, n=50, p=0.06)
    fz = _featurizer(g, h, weight_rule)
    f, sets = _random_sets(g.num_nodes, seed)
    for base in (sets[0], sets[2]):
        cand = fz.candidates(f)
        cand = torch.cat([cand, base])  # a candidate already in S_T changes nothing
        batched = fz.features_with_candidates(f, base, cand)
        single = torch.cat(
            [fz.features(f, [torch.unique(torch.cat([base, v.view(1)]))]) for v in cand]
        )
        assert torch.allclose(batched, single, rtol=1e-12, atol=1e-12)


def test_candidates_are_the_h_ball_minus_false_seeds():
    g = _random_graph(2)
    G = nx.DiGraph(list(zip(g.src.tolist(), g.col.tolist(), strict=True)))
    G.add_nodes_from(range(g.num_nodes))
    f = torch.tensor([3, 17])
    for h in (1, 2):
        d = nx.multi_source_dijkstra_path_length(G, {3, 17}, cutoff=h, weight=lambda a, b, e: 1)
        want = sorted(set(d) - {3, 17})
        assert _featurizer(g, h).candidates(f).tolist() == want


def test_false_seed_context_is_refreshed():
    g = _random_graph(1)
    fz = _featurizer(g, 2)
    f1, sets1 = _random_sets(g.num_nodes, 1)
    f2, sets2 = _random_sets(g.num_nodes, 2)
    a = fz.features(f1, sets1)
    b = fz.features(f2, sets2)
    assert torch.equal(a, fz.features(f1, sets1))
    assert torch.equal(b, _featurizer(g, 2).features(f2, sets2))


def test_bad_inputs():
    g = _random_graph(0)
    fz = _featurizer(g, 2)
    with pytest.raises(ValueError, match="false seed"):
        fz.features(torch.tensor([1, 2]), [torch.tensor([2, 5])])
    with pytest.raises(ValueError, match="false seed"):
        fz.features_with_candidates(torch.tensor([1]), torch.tensor([3]), torch.tensor([1]))
    with pytest.raises(ValueError, match="empty"):
        fz.features(torch.tensor([], dtype=torch.long), [torch.tensor([1])])
    with pytest.raises(ValueError, match="more than once"):
        fz.features(torch.tensor([1, 1]), [torch.tensor([2])])
    with pytest.raises(ValueError, match="out of range"):
        fz.features(torch.tensor([1]), [torch.tensor([g.num_nodes])])
    with pytest.raises(ValueError, match="h must be"):
        NIEFeaturizer(g, fz.stats, h=0)
    with pytest.raises(ValueError, match="weight_rule must be one of"):
        NIEFeaturizer(g, fz.stats, weight_rule="mean")
    other = _random_graph(9)
    with pytest.raises(ValueError, match="another graph"):
        NIEFeaturizer(other, fz.stats)


def test_float32_default_and_device(devices):
    g = _random_graph(0).to(devices)
    fz = NIEFeaturizer(g, compute_statistics(g, use_cache=False))
    out = fz.features(torch.tensor([0, 1], device=devices), [torch.tensor([4], device=devices)])
    assert out.dtype == torch.float32 and out.device.type == torch.device(devices).type


@pytest.mark.parametrize("roots", [0, 4])
@pytest.mark.parametrize("seed", range(4))
def test_saved_feature_is_the_world_sketch_estimate(seed, roots):
    """Column 8 equals the world sketch's estimate, in both paths, and the 7 others are unchanged."""
    from influence_gpu.nie.features import feature_names, worlds_key
    from influence_gpu.rr.blocking import sample_blocking_world_sketch

    g = _random_graph(seed, n=50, p=0.06)
    stats = compute_statistics(g, use_cache=False)
    plain = NIEFeaturizer(g, stats, h=2, dtype=torch.float64)
    fz = NIEFeaturizer(g, stats, h=2, dtype=torch.float64, worlds=16, worlds_seed=seed,
                       roots_per_world=roots)
    assert fz.num_features == 8 and feature_names(16)[-1] == "saved"
    f, sets = _random_sets(g.num_nodes, seed)
    x = fz.features(f, sets)
    assert torch.equal(x[:, :7], plain.features(f, sets))
    sk = sample_blocking_world_sketch(g, f, 16, key=worlds_key(f.tolist(), seed),
                                      roots_per_world=roots)
    for row, t in zip(x, sets, strict=True):
        assert row[7].item() == pytest.approx(sk.estimate(t), abs=1e-12)
    assert x[0, 7] == 0.0  # the empty truth set saves nothing
    for base in (sets[0], sets[3]):
        cand = torch.cat([fz.candidates(f), base])
        batched = fz.features_with_candidates(f, base, cand)
        single = torch.cat(
            [fz.features(f, [torch.unique(torch.cat([base, v.view(1)]))]) for v in cand]
        )
        assert torch.allclose(batched, single, rtol=1e-12, atol=1e-12)
    # deterministic: the worlds depend on S_F and the seed only
    again = NIEFeaturizer(g, stats, h=2, dtype=torch.float64, worlds=16, worlds_seed=seed,
                          roots_per_world=roots)
    assert torch.equal(again.features(f, sets), x)
    ctx = again._ctx
    again.clear_cache()  # a cold call rebuilds the same context
    assert torch.equal(again.features(f, sets), x) and again._ctx is not ctx
    other = NIEFeaturizer(g, stats, h=2, dtype=torch.float64, worlds=16, worlds_seed=seed + 1,
                          roots_per_world=roots)
    assert not torch.equal(other.features(f, sets)[:, 7], x[:, 7])


def test_worlds_argument_is_checked():
    g = _random_graph(0)
    for bad in (-1, 1.5, True, "8"):
        with pytest.raises(ValueError, match="worlds must be"):
            NIEFeaturizer(g, compute_statistics(g, use_cache=False), h=2, worlds=bad)
