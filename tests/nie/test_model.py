"""NIE model: checkpoint round trip, graph-hash check, plain-Python estimate / select (paper B)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import lightning as L
import pytest
import torch

from influence_gpu.graph import DiffusionGraph, assign_probabilities, erdos_renyi
from influence_gpu.nie.datamodule import NIEDataModule
from influence_gpu.nie.estimator import NIE, NIEMLP
from influence_gpu.nie.features import NIEFeaturizer
from influence_gpu.nie.lit import NIELitModule
from influence_gpu.selection.blocking import NIECELF


@pytest.fixture(autouse=True)
def _private_stats_cache(tmp_path, monkeypatch):
    """Keep the statistics cache of these tests out of the user's cache folder."""
    import influence_gpu.graph.statistics as stats_mod

    monkeypatch.setattr(stats_mod, "stats_cache_dir", lambda: tmp_path / "stats-cache")


def _graph(seed: int = 0, n: int = 50) -> DiffusionGraph:
    g = erdos_renyi(n, 0.08, seed=seed, directed=True)
    labels = [f"user{i}" for i in range(n)]
    g = DiffusionGraph.from_edge_index(g.edge_index, num_nodes=n, node_labels=labels)
    return assign_probabilities(g, "weighted_cascade")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny NIE trained for a few epochs on 60 instances x 20 runs; its checkpoint path."""
    import influence_gpu.graph.statistics as stats_mod

    tmp = tmp_path_factory.mktemp("nie")
    old = stats_mod.stats_cache_dir
    stats_mod.stats_cache_dir = lambda: tmp / "stats-cache"
    try:
        g = _graph()
        dm = NIEDataModule(
            tmp / "train.pt",
            graph=g,
            num_instances=60,
            num_samples=20,
            generation={"progress": False},
            batch_size=16,
        )
        dm.prepare_data()
        dm.setup("fit")
        opt = lambda params: torch.optim.Adam(params, lr=0.01)  # noqa: E731
        model = NIELitModule(optimizer=opt, graph_hash=g.content_hash(), h=dm.h)
        model.fit_scaler(dm.train_features, dm.train_labels)
        L.seed_everything(0)
        trainer = L.Trainer(
            max_epochs=3,
            accelerator="cpu",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(model, datamodule=dm)
        ckpt = tmp / "nie.ckpt"
        trainer.save_checkpoint(ckpt)
    finally:
        stats_mod.stats_cache_dir = old
    return g, model, dm, ckpt


def test_mlp_shape_and_scaler():
    net = NIEMLP(7, [128, 128])
    assert [m.out_features for m in net.mlp if isinstance(m, torch.nn.Linear)] == [128, 128, 1]
    x = torch.randn(40, 7) * torch.arange(1, 8) + 5.0
    y = torch.randn(40) * 3 + 10
    net.fit_scaler(x, y)
    assert torch.allclose(net.feature_mean, x.mean(0)) and torch.allclose(net.feature_std, x.std(0))
    assert net(x).shape == (40,)
    z = (x - net.feature_mean) / net.feature_std
    assert torch.allclose(z.mean(0), torch.zeros(7), atol=1e-5)
    with pytest.raises(ValueError, match="features must be"):
        net.fit_scaler(torch.zeros(5, 6), torch.zeros(5))


def test_residual_mlp_predicts_the_feature_plus_a_correction():
    torch.manual_seed(0)
    x = torch.rand(64, 8) * 10
    y = x[:, 7] * 1.1 + 2.0
    net = NIEMLP(8, [16], residual=7)
    net.fit_scaler(x, y)
    r = y - x[:, 7]
    assert net.residual_mean == pytest.approx(float(r.mean()))
    assert net.residual_std == pytest.approx(float(r.std()))
    with torch.no_grad():
        z = (x - net.feature_mean) / net.feature_std
        corr = net.mlp(z).squeeze(-1) * net.residual_std + net.residual_mean
        assert torch.allclose(net(x), x[:, 7] + corr, atol=1e-5)
        # the training target's units: forward_standardized is the standardised prediction
        assert torch.allclose(net.forward_standardized(x) * net.label_std + net.label_mean,
                              net(x), atol=1e-4)
    with pytest.raises(ValueError, match="residual must index"):
        NIEMLP(8, [16], residual=8)
    with pytest.raises(ValueError, match="needs the sampled-world feature"):
        NIELitModule(residual=True)


def test_fit_without_scaler_refused():
    model = NIELitModule(optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    with pytest.raises(RuntimeError, match="fit_scaler"):
        model.on_fit_start()


def test_checkpoint_round_trip_keeps_scaler_and_predictions(trained):
    g, model, dm, ckpt = trained
    nie = NIE.load(ckpt, g)
    for name in ("feature_mean", "feature_std", "label_mean", "label_std"):
        assert torch.equal(getattr(nie.net, name), getattr(model.net, name).cpu()), name
    assert not torch.equal(nie.net.feature_std, torch.ones(7))  # a fitted, non-trivial scaler
    x = dm.data_val.tensors[0]
    model.eval()
    with torch.no_grad():
        assert torch.allclose(nie.net(x), model(x))
    # and through the Lightning loader too
    again = NIELitModule.load_from_checkpoint(ckpt)
    assert again.graph_hash == g.content_hash()
    with torch.no_grad():
        assert torch.allclose(again(x), model(x))


def test_graph_hash_mismatch_refused(trained, tmp_path):
    _, _, _, ckpt = trained
    other = _graph(seed=1)
    with pytest.raises(ValueError, match="another graph"):
        NIE.load(ckpt, other)
    with pytest.raises(ValueError, match="does not exist"):
        NIE.load(tmp_path / "missing.ckpt", other)


def test_estimate_and_select_in_labels(trained):
    g, _, _, ckpt = trained
    nie = NIE.load(ckpt, g)
    f = ["user0", "user3"]
    ids_f = g.index_of(f)
    res = NIECELF(nie).select(g, 3, false_seeds=ids_f)
    picked = res.seeds
    assert len(picked) == 3 and all(isinstance(p, str) for p in picked)
    assert not set(picked) & set(f)
    assert g.labels_of(res.ids) == picked
    with pytest.raises(ValueError, match="not the graph the NIE was trained for"):
        NIECELF(nie).select(assign_probabilities(g, "uniform", p=0.5), 3, false_seeds=ids_f)
    # the estimate of the chosen set is the NIE's own objective
    assert nie.estimate(f, picked) == pytest.approx(res.objective, rel=1e-5, abs=1e-5)
    with pytest.raises(ValueError, match="not a node"):
        nie.estimate(["nobody"], picked)


def test_nie_greedy_equals_brute_force(trained):
    """lazy=False (batched candidate features) == greedy asking the NIE one set at a time."""
    g, _, _, ckpt = trained
    nie = NIE.load(ckpt, g)
    f = torch.tensor([0, 3])
    cand = nie.featurizer.candidates(f).tolist()
    res = NIECELF(nie, lazy=False).select(g, 4, false_seeds=f)
    chosen: list[int] = []
    for _ in range(4):
        rest = [v for v in cand if v not in chosen]
        vals = [float(nie.predict(f, [torch.tensor([*chosen, v])])[0]) for v in rest]
        best = max(range(len(rest)), key=lambda i: (vals[i], -rest[i]))
        chosen.append(rest[best])
    assert res.ids == chosen
    # CELF's first pick is the best singleton, like greedy's
    assert NIECELF(nie).select(None, 1, false_seeds=f).ids == chosen[:1]


def test_estimate_and_select_without_hydra(trained):
    g, _, _, ckpt = trained
    root = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(f"""
        import sys, torch
        import influence_gpu.graph.statistics as stats_mod
        from pathlib import Path
        stats_mod.stats_cache_dir = lambda: Path({str(ckpt.parent)!r}) / "stats-cache"
        from influence_gpu.graph import DiffusionGraph, assign_probabilities, erdos_renyi
        from influence_gpu.nie.estimator import NIE
        g = erdos_renyi(50, 0.08, seed=0, directed=True)
        g = DiffusionGraph.from_edge_index(g.edge_index, num_nodes=50,
                                           node_labels=[f"user{{i}}" for i in range(50)])
        g = assign_probabilities(g, "weighted_cascade")
        nie = NIE.load({str(ckpt)!r}, g)
        from influence_gpu.selection import NIECELF
        f = g.index_of(["user0", "user3"])
        s = NIECELF(nie).select(g, 2, false_seeds=f).seeds
        print(len(s), nie.estimate(["user0", "user3"], s) == nie.estimate(["user0", "user3"], s))
        assert "hydra" not in sys.modules and "omegaconf" not in sys.modules
        assert "lightning" not in sys.modules and "pytorch_lightning" not in sys.modules
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2", "True"]


def test_checkpoint_carries_the_weight_rule(trained, tmp_path):
    g, _, _, ckpt = trained
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert state["nie"]["weight_rule"] == "alg1"
    assert NIE.load(ckpt, g).featurizer.weight_rule == "alg1"
    state["nie"]["weight_rule"] = "edge"
    torch.save(state, tmp_path / "edge.ckpt")
    nie = NIE.load(tmp_path / "edge.ckpt", g)
    assert nie.weight_rule == "edge" and nie.featurizer.weight_rule == "edge"
    del state["nie"]["weight_rule"]  # written before the rule was saved: paper B's Alg. 1
    torch.save(state, tmp_path / "old.ckpt")
    assert NIE.load(tmp_path / "old.ckpt", g).weight_rule == "alg1"
    with pytest.raises(ValueError, match="weight_rule must be one of"):
        NIELitModule(weight_rule="mean")


def test_ensemble_is_the_mean_of_its_members():
    from influence_gpu.nie.estimator import NIEEnsemble, build_nie_net

    assert type(build_nie_net(7, [8], 1)) is NIEMLP
    torch.manual_seed(0)
    ens = build_nie_net(7, [8, 8], 3)
    assert isinstance(ens, NIEEnsemble) and ens.num_members == 3
    x, y = torch.randn(20, 7), torch.randn(20) * 3 + 1
    ens.fit_scaler(x, y)
    assert bool(ens.scaler_fitted) and torch.equal(ens.label_mean, ens.members[2].label_mean)
    members = torch.stack([m(x) for m in ens.members])
    assert not torch.allclose(members[0], members[1])  # independent initialisations
    assert torch.allclose(ens(x), members.mean(0))
    assert ens.forward_standardized(x).shape == (3, 20)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="num_members"):
            build_nie_net(7, [8], bad)


def test_ensemble_trains_and_round_trips(trained, tmp_path):
    g, _, dm, _ = trained
    opt = lambda params: torch.optim.Adam(params, lr=0.01)  # noqa: E731
    model = NIELitModule(optimizer=opt, graph_hash=g.content_hash(), h=dm.h, num_members=2)
    model.fit_scaler(dm.train_features, dm.train_labels)
    before = [p.detach().clone() for p in model.net.members[1].parameters()]
    L.seed_everything(0)
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, datamodule=dm)
    after = list(model.net.members[1].parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))  # both train
    trainer.save_checkpoint(tmp_path / "ens.ckpt")
    nie = NIE.load(tmp_path / "ens.ckpt", g)
    assert nie.net.num_members == 2
    x = dm.data_val.tensors[0]
    model.eval()
    with torch.no_grad():
        assert torch.allclose(nie.net(x), model(x))
    f = torch.tensor([0, 1])
    assert nie.predict(f, [torch.tensor([5])]).shape == (1,)


def test_worlds_variant_trains_round_trips_and_selects(tmp_path):
    """The 8-feature NIE (sampled-world feature): file, training, checkpoint and NIE-CELF."""
    g = _graph(seed=2)
    dm = NIEDataModule(tmp_path / "train8.pt", graph=g, num_instances=60, num_samples=20,
                       generation={"progress": False, "worlds": 8, "worlds_seed": 3,
                                   "roots_per_world": 2},
                       batch_size=16)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.train_features.shape[1] == 8 and dm.worlds == 8 and dm.worlds_seed == 3
    with pytest.raises(ValueError, match="in_features=7 but worlds=8"):
        NIELitModule(in_features=7, worlds=8)
    model = NIELitModule(optimizer=lambda params: torch.optim.Adam(params, lr=0.01),
                         graph_hash=g.content_hash(), h=dm.h, worlds=dm.worlds,
                         worlds_seed=dm.worlds_seed, roots_per_world=dm.roots_per_world,
                         residual=True)
    model.fit_scaler(dm.train_features, dm.train_labels)
    L.seed_everything(0)
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(model, datamodule=dm)
    ckpt = tmp_path / "nie8.ckpt"
    trainer.save_checkpoint(ckpt)
    nie = NIE.load(ckpt, g)
    assert nie.worlds == 8 and nie.worlds_seed == 3 and nie.featurizer.num_features == 8
    assert nie.roots_per_world == 2 and nie.net.residual == 7
    x = dm.data_val.tensors[0]
    model.eval()
    with torch.no_grad():
        assert torch.allclose(nie.net(x), model(x))
    res = NIECELF(nie).select(g, 3, false_seeds=g.index_of(["user0", "user5"]))
    assert len(res.ids) == 3
    # the file's features are those of the NIE's featurizer (same worlds)
    from influence_gpu.nie.instances import load_training_set, unpack_instances

    state = load_training_set(tmp_path / "train8.pt", g)
    f, t = unpack_instances(state["instances"])[0]
    assert torch.equal(nie.featurizer.features(f, [t])[0], state["features"][0])
    # more worlds when answering: only the saved column changes, and it is that featurizer's
    more = NIE.load(ckpt, g, worlds=64)
    assert more.worlds == 64 and more.worlds_seed == 3 and more.roots_per_world == 2
    ref = NIEFeaturizer(g, h=dm.h, weight_rule=dm.weight_rule, worlds=64, worlds_seed=3,
                        roots_per_world=2).features(f, [t])[0]
    got = more.featurizer.features(f, [t])[0]
    assert torch.equal(got, ref) and torch.equal(got[:7], state["features"][0][:7])
    with pytest.raises(ValueError, match="worlds=0: .*trained with worlds=8"):
        NIE.load(ckpt, g, worlds=0)
    with pytest.raises(ValueError, match="worlds must be an integer"):
        NIE.load(ckpt, g, worlds=-1)


def test_rr_celf_world_sketch_picks_the_obvious_blocker():
    ei = torch.tensor([(0, 1)] + [(1, v) for v in range(2, 10)] + [(10, v) for v in range(11, 23)]).T
    g = DiffusionGraph.from_edge_index(ei, num_nodes=23, edge_prob=torch.ones(ei.size(1)))
    from influence_gpu.selection.blocking import RRCELF

    res = RRCELF(num_worlds=4, candidates="all").select(g, 1, false_seeds=[0], generator=0)
    assert res.ids == [1] and res.objective == 9.0
    assert res.extra["num_sets"] == 36 and res.extra["num_worlds"] == 4
