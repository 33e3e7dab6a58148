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
    fresh = _build(other, path, resume=False)  # starting afresh overwrites
    assert fresh["graph_hash"] == other.content_hash()


def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable"):
        load_training_set(path)
