"""IBM instance sampling, labels and the resumable training-set file."""

from __future__ import annotations

import math

import pytest
import torch

import influence_gpu.nie.instances as inst_mod
from influence_gpu.graph import DiffusionGraph, erdos_renyi
from influence_gpu.nie import (
    build_training_set,
    label_instances,
    load_training_set,
    sample_instances,
    unpack_instances,
)


@pytest.fixture(autouse=True)
def _private_stats_cache(tmp_path, monkeypatch):
    """Keep the statistics cache of these tests out of the user's cache folder."""
    import influence_gpu.graph.statistics as stats_mod

    monkeypatch.setattr(stats_mod, "stats_cache_dir", lambda: tmp_path / "stats-cache")


def _graph(seed: int = 0, n: int = 60) -> DiffusionGraph:
    g = erdos_renyi(n, 0.06, seed=seed, directed=True)
    return g.with_prob(0.3)


def test_sampling_rules():
    g = _graph(n=200)
    x = 0.1
    deg = g.out_degree()
    top = math.ceil(x * g.num_nodes)
    threshold = torch.sort(deg, descending=True).values[top - 1]
    items = sample_instances(g, 500, x=x, generator=torch.Generator().manual_seed(0))
    sizes = []
    for f, t in items:
        assert 1 <= t.numel() <= f.numel() <= 10
        assert torch.equal(f, torch.sort(f).values) and torch.equal(t, torch.sort(t).values)
        assert torch.unique(f).numel() == f.numel() and torch.unique(t).numel() == t.numel()
        assert not set(f.tolist()) & set(t.tolist())
        assert bool((deg[f] >= threshold).all())  # drawn from the top x|V| by out-degree
        sizes.append(f.numel())
    # |S_F| = ceil(10 U^(1/9)): P(10) = 1 - 0.9^9 = 0.613; 500 draws, sd 0.022, tolerance 4 sd
    p10 = sum(s == 10 for s in sizes) / len(sizes)
    assert abs(p10 - (1 - 0.9**9)) < 0.09
    again = sample_instances(g, 500, x=x, generator=torch.Generator().manual_seed(0))
    for a, b in zip(items, again, strict=True):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_sampling_is_clipped_to_the_high_impact_set():
    g = _graph(n=30)
    for f, t in sample_instances(g, 50, x=0.1, generator=torch.Generator().manual_seed(1)):
        assert f.numel() <= 3 and t.numel() <= f.numel()


def test_sampling_bad_arguments():
    g = _graph()
    with pytest.raises(ValueError, match="num_instances"):
        sample_instances(g, 0)
    with pytest.raises(ValueError, match="x must"):
        sample_instances(g, 1, x=0.0)


def test_local_sampling_draws_truth_sets_from_the_ball():
    from influence_gpu.graph.neighbourhoods import hop_neighbourhood

    g = erdos_renyi(300, 0.007, seed=0, directed=True).with_prob(0.3)  # out-degree ~2
    paper = sample_instances(g, 100, generator=torch.Generator().manual_seed(0))
    # local_fraction = 0 is the paper's recipe draw for draw
    again = sample_instances(g, 100, generator=torch.Generator().manual_seed(0),
                             local_fraction=0.0)
    for a, b in zip(paper, again, strict=True):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    items, local = sample_instances(g, 200, generator=torch.Generator().manual_seed(1),
                                    local_fraction=0.5, h=2, return_local=True)
    # Binomial(200, 0.5): sd 7.1, tolerance 4 sd
    assert abs(int(local.sum()) - 100) < 29
    inside = {True: [], False: []}
    for (f, t), flag in list(zip(items, local.tolist(), strict=True))[:80]:
        assert 1 <= t.numel() <= f.numel() and not set(f.tolist()) & set(t.tolist())
        ball = set(hop_neighbourhood(g, f, 2).tolist())
        inside[flag].append(set(t.tolist()) <= ball)
    assert inside[True] and all(inside[True])  # balls here hold ~100 nodes >= |S_T|
    # uniform S_T over 300 nodes rarely falls entirely inside a 2-hop ball of ~1/3 of V
    assert sum(inside[False]) < 0.8 * len(inside[False])


def test_local_sampling_degree_bias():
    # star-like graph: node 0 -> 1..40, nodes 1..40 -> 41..; node 1 has many out-edges
    src = [0] * 40 + [1] * 30 + list(range(2, 41))
    dst = list(range(1, 41)) + list(range(41, 71)) + list(range(41, 80))
    g = DiffusionGraph.from_edge_index([src, dst], num_nodes=80).with_prob(0.1)
    hits = {0.0: 0, 4.0: 0}
    for power in hits:
        items = sample_instances(g, 300, x=0.0125, scale=1.0,
                                 generator=torch.Generator().manual_seed(2),
                                 local_fraction=1.0, local_degree_power=power, h=1)
        hits[power] = sum(int(1 in t.tolist()) for _, t in items)
    # |S_F| = 1 ({0}), |S_T| = 1 from its 40 out-neighbours: uniform gives node 1 w.p. 1/40
    # (7.5 expected of 300); weights (deg+1)^4 give it w.p. 31^4/(31^4+39*2^4) = 0.999
    assert hits[0.0] < 25 and hits[4.0] > 280


def test_local_sampling_bad_arguments():
    g = _graph()
    with pytest.raises(ValueError, match="local_fraction"):
        sample_instances(g, 1, local_fraction=1.5)
    with pytest.raises(ValueError, match="local_degree_power"):
        sample_instances(g, 1, local_degree_power=-1.0)
    with pytest.raises(ValueError, match="h must"):
        sample_instances(g, 1, h=0)


def test_labels_are_exact_on_a_deterministic_path():
    # 0 -> 1 -> 2 -> 3 with p = 1: F alone takes 4 nodes; T at 2 keeps 2 and 3
    g = DiffusionGraph.from_edge_index([[0, 1, 2], [1, 2, 3]], num_nodes=4, edge_prob=[1.0] * 3)
    inst = [(torch.tensor([0]), torch.tensor([2])), (torch.tensor([0]), torch.tensor([1]))]
    labels = label_instances(g, inst, 20, generator=torch.Generator().manual_seed(0))
    assert labels.tolist() == [2.0, 3.0]


def _build(g, path, **kw):
    kw = {"seed": 3, "chunk_size": 4, "progress": False, **kw}
    return build_training_set(g, 10, 20, path, **kw)


def _assert_same(a, b):
    for k in ("features", "labels", "keys"):
        assert torch.equal(a[k], b[k]), k
    for k in a["instances"]:
        assert torch.equal(a["instances"][k], b["instances"][k])
    assert a["config"] == b["config"] and a["graph_hash"] == b["graph_hash"]


def test_build_resume_gives_the_same_file(tmp_path, monkeypatch):
    g = _graph()
    full = _build(g, tmp_path / "full.pt")
    assert full["complete"] and full["num_done"] == 10
    assert float(full["labels"].max()) > 0

    calls = {"n": 0}
    real = inst_mod.label_instances

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(inst_mod, "label_instances", flaky)
    with pytest.raises(KeyboardInterrupt):
        _build(g, tmp_path / "part.pt")
    partial = load_training_set(tmp_path / "part.pt", g)
    assert partial["num_done"] == 4 and not partial["complete"]
    with pytest.raises(ValueError, match="incomplete"):
        load_training_set(tmp_path / "part.pt", g, require_complete=True)
    monkeypatch.setattr(inst_mod, "label_instances", real)
    resumed = _build(g, tmp_path / "part.pt")
    _assert_same(full, resumed)
    _assert_same(full, load_training_set(tmp_path / "part.pt", g, require_complete=True))


def test_build_contents_match_direct_calls(tmp_path):
    g = _graph()
    state = _build(g, tmp_path / "d.pt")
    from influence_gpu.nie import NIEFeaturizer

    items = unpack_instances(state["instances"])
    fz = NIEFeaturizer(g)
    feats = torch.stack([fz.features(f, [t])[0] for f, t in items])
    assert torch.allclose(state["features"], feats)
    labels = label_instances(g, items, 20, keys=state["keys"])
    assert torch.allclose(state["labels"], labels.float())


def test_mismatched_graph_or_config_is_refused(tmp_path):
    g = _graph()
    path = tmp_path / "t.pt"
    _build(g, path)
    other = g.with_prob(0.2)
    with pytest.raises(ValueError, match="another graph"):
        _build(other, path)
    with pytest.raises(ValueError, match="another graph"):
        load_training_set(path, other)
    with pytest.raises(ValueError, match="config differs"):
        _build(g, path, seed=4)
    with pytest.raises(ValueError, match="local_fraction"):
        _build(g, path, local_fraction=0.5)
    fresh = _build(other, path, resume=False)  # starting afresh overwrites
    assert fresh["graph_hash"] == other.content_hash()


def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable"):
        load_training_set(path)


def _corruptions():
    """(name, edit of a good state dict) pairs: each must be refused with the file named."""

    def drop(key):
        return lambda st: st.pop(key)

    def put(key, value):
        return lambda st: st.__setitem__(key, value)

    return [
        ("no labels", drop("labels")),
        ("no config", drop("config")),
        ("labels short", lambda st: st.__setitem__("labels", st["labels"][:-1])),
        ("features 6 wide", lambda st: st.__setitem__("features", st["features"][:, :6])),
        ("features float64", lambda st: st.__setitem__("features", st["features"].double())),
        ("keys a list", lambda st: st.__setitem__("keys", st["keys"].tolist())),
        ("num_done too big", put("num_done", 10**6)),
        ("num_done negative", put("num_done", -1)),
        ("num_done a float", put("num_done", 2.0)),
        ("complete lies", lambda st: st.__setitem__("complete", not st["complete"])),
        ("graph_hash int", put("graph_hash", 5)),
        ("instances gone", lambda st: st["instances"].pop("true_ptr")),
        ("ptr decreasing", lambda st: st["instances"]["false_ptr"].__setitem__(1, -3)),
        ("ptr wrong end", lambda st: st["instances"].__setitem__(
            "true_idx", st["instances"]["true_idx"][:-1])),
        ("negative ids", lambda st: st["instances"]["true_idx"].__setitem__(0, -7)),
        ("nan label", lambda st: st["labels"].__setitem__(0, float("nan"))),
        ("config not a dict", put("config", [1, 2])),
        ("id past n", lambda st: st["instances"]["false_idx"].__setitem__(0, 10**6)),
    ]


@pytest.mark.parametrize("name,edit", _corruptions(), ids=[c[0] for c in _corruptions()])
def test_corrupt_training_set_files_are_refused_naming_the_file(tmp_path, name, edit):
    g = _graph()
    good = tmp_path / "good.pt"
    _build(g, good)
    state = torch.load(good, weights_only=True)
    edit(state)
    bad = tmp_path / "bad.pt"
    torch.save(state, bad)
    with pytest.raises(ValueError, match="bad.pt"):
        load_training_set(bad, g)
    with pytest.raises(ValueError, match="bad.pt"):  # and a resumed build refuses it too
        _build(g, bad)


def test_truncated_training_set_file_is_refused(tmp_path):
    g = _graph()
    good = tmp_path / "good.pt"
    _build(g, good)
    blob = good.read_bytes()
    for cut in (10, len(blob) // 2, len(blob) - 3):
        bad = tmp_path / f"cut{cut}.pt"
        bad.write_bytes(blob[:cut])
        with pytest.raises(ValueError, match=f"cut{cut}.pt"):
            load_training_set(bad, g)


def test_refeaturize_equals_a_direct_build_with_the_new_h(tmp_path):
    from influence_gpu.nie import refeaturize_training_set

    g = erdos_renyi(120, 0.02, seed=4, directed=True).with_prob(0.4)
    kw = {"local_fraction": 0.5, "local_h": 2}
    src = _build(g, tmp_path / "h2.pt", h=2, **kw)
    direct = _build(g, tmp_path / "h3.pt", h=3, **kw)
    copied = refeaturize_training_set(g, tmp_path / "h2.pt", tmp_path / "h3copy.pt", 3)
    _assert_same(direct, copied)
    assert torch.equal(direct["local"], copied["local"])
    # h changes the interrelation feature on this graph, so the comparison above can fail
    assert not torch.equal(src["features"][:, 6], direct["features"][:, 6])
    # the copy is accepted where the direct build's config is expected
    again = _build(g, tmp_path / "h3copy.pt", h=3, **kw)
    _assert_same(direct, again)
    with pytest.raises(ValueError, match="h must"):
        refeaturize_training_set(g, tmp_path / "h2.pt", tmp_path / "x.pt", 0)


def test_weight_rule_is_recorded_and_refeaturized(tmp_path):
    from influence_gpu.nie import refeaturize_training_set

    g = erdos_renyi(120, 0.03, seed=5, directed=True).with_prob(0.4)
    alg1 = _build(g, tmp_path / "alg1.pt", h=2)
    assert alg1["config"]["weight_rule"] == "alg1"
    direct = _build(g, tmp_path / "edge.pt", h=2, weight_rule="edge")
    assert direct["config"]["weight_rule"] == "edge"
    copied = refeaturize_training_set(g, tmp_path / "alg1.pt", tmp_path / "copy.pt", 2,
                                      weight_rule="edge")
    _assert_same(direct, copied)
    # only the interrelation column may differ, and it does on this graph
    assert torch.equal(alg1["features"][:, :6], direct["features"][:, :6])
    assert not torch.equal(alg1["features"][:, 6], direct["features"][:, 6])
    assert torch.equal(alg1["labels"], direct["labels"])
    with pytest.raises(ValueError, match="weight_rule"):
        _build(g, tmp_path / "alg1.pt", h=2, weight_rule="edge")  # resume with another rule
    with pytest.raises(ValueError, match="weight_rule must be one of"):
        _build(g, tmp_path / "bad.pt", weight_rule="exact")
    # a file written before weight_rule was recorded reads as paper B's Alg. 1
    state = torch.load(tmp_path / "alg1.pt", weights_only=False)
    del state["config"]["weight_rule"]
    torch.save(state, tmp_path / "old.pt")
    assert load_training_set(tmp_path / "old.pt", g)["config"]["weight_rule"] == "alg1"
