"""Every checkpoint carries its graph's hash and its model kind; readers refuse a mismatch.

LTNN / RWNN Lightning checkpoints and the MIPs' ``.pt`` files are reloaded by
``evaluate.py task=cascades`` only on the graph they were trained on; a file written without a
hash loads with a warning; truncated or foreign files are refused naming the file.
"""

import json
import warnings
from pathlib import Path

import pytest
import torch

from influence_gpu.apps._run import main
from influence_gpu.apps.cascades import check_checkpoint_graph, load_cascade_checkpoint
from influence_gpu.graph.diffusion_graph import DiffusionGraph, edge_index_hash
from influence_gpu.learn import LTNNLitModule
from influence_gpu.learn.mip import LTMIPModel, RWMIPModel
from tests.hydra_app import clean_hydra, compose_app  # noqa: F401

WS = ["data=synthetic", "graph=ws", "graph.source.n=12", "graph.source.k=4",
      "data.data.num_cascades=30"]
FAST = ["trainer.max_epochs=1", "callbacks.progress_bar=null", "callbacks.early_stopping=null",
        "+trainer.enable_model_summary=false"]


def run_task(cfg):
    assert main(cfg) is None
    return json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text())


def evaluate(ckpt, tmp_path, extra=()):
    cfg = compose_app("evaluate", ["task=cascades", f"ckpt_path={ckpt}", *WS, *extra], tmp_path)
    return main(cfg)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An LTNN checkpoint and an LT-MIP file trained on WS(12, 4) with seed 0."""
    from hydra.core.global_hydra import GlobalHydra

    root = tmp_path_factory.mktemp("trained")
    out = {}
    for name, over in (("ltnn", FAST), ("lt_mip", ["model=lt_mip", "model.time_limit=1",
                                                    "model.executor=serial",
                                                    "model.progress=false",
                                                    "model.checkpoint_path=null"])):
        GlobalHydra.instance().clear()
        out[name] = Path(run_task(compose_app("train", [*WS, *over], root / name))["checkpoint"])
    GlobalHydra.instance().clear()
    return out


@pytest.mark.parametrize("kind", ["ltnn", "lt_mip"])
def test_checkpoint_records_graph_hash_and_kind(trained, kind):
    ckpt = torch.load(trained[kind], map_location="cpu", weights_only=True)
    assert ckpt["model_kind"] == kind
    assert isinstance(ckpt["graph_hash"], str) and len(ckpt["graph_hash"]) == 64


@pytest.mark.parametrize("kind", ["ltnn", "lt_mip"])
def test_same_graph_reloads_and_other_graph_is_refused(trained, kind, tmp_path):
    evaluate(trained[kind], tmp_path / "same")
    assert (tmp_path / "same" / "metrics.json").exists()
    # same node count, another Watts-Strogatz draw: refused, naming the file and the kind
    with pytest.raises(ValueError, match=rf"{trained[kind].name}.*{kind}.*another graph"):
        evaluate(trained[kind], tmp_path / "other", ["graph.source.seed=123"])
    assert not (tmp_path / "other" / "metrics.json").exists()


def test_mip_file_hash_matches_the_data_graph():
    ei = torch.tensor([[0, 1, 2, 1], [1, 2, 0, 2]])
    for cls in (LTMIPModel, RWMIPModel):
        model = cls(ei, 3, progress=False)
        assert model.graph_hash == edge_index_hash(ei, 3)
        assert model.graph_hash == DiffusionGraph.from_edge_index(
            torch.tensor([[0, 1, 2], [1, 2, 0]]), 3).structure_hash()
        assert model.graph_hash != edge_index_hash(torch.tensor([[0, 1, 2], [2, 0, 1]]), 3)


def test_old_checkpoint_without_hash_loads_with_a_warning(trained, tmp_path):
    ckpt = torch.load(trained["ltnn"], map_location="cpu", weights_only=False)
    del ckpt["graph_hash"], ckpt["model_kind"]
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    model = load_cascade_checkpoint(old)
    assert model.graph_hash is None
    with pytest.warns(UserWarning, match="cannot be checked"):
        check_checkpoint_graph(model, old, torch.tensor([[0], [1]]), 12)


def test_ltnn_module_hashes_its_edge_index():
    ei = torch.tensor([[0, 1], [1, 2]])
    m = LTNNLitModule(3, ei)
    assert m.graph_hash == edge_index_hash(ei, 3)
    with pytest.raises(ValueError, match="another graph"):
        check_checkpoint_graph(m, "x.ckpt", torch.tensor([[0, 2], [1, 1]]), 3)


@pytest.mark.parametrize("damage", ["truncate", "foreign_dict", "tensor", "garbage", "empty"])
def test_corrupt_or_foreign_checkpoint_names_the_file(trained, damage, tmp_path):
    bad = tmp_path / f"bad_{damage}.ckpt"
    raw = trained["ltnn"].read_bytes()
    if damage == "truncate":
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "foreign_dict":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, bad)
    elif damage == "tensor":
        torch.save(torch.zeros(3), bad)
    elif damage == "garbage":
        bad.write_bytes(bytes(range(256)) * 4)
    else:
        bad.write_bytes(b"")
    with pytest.raises(ValueError, match=bad.name):
        load_cascade_checkpoint(bad)
    if damage == "truncate":  # the app refuses it too, writing nothing
        with pytest.raises(ValueError, match=bad.name):
            evaluate(bad, tmp_path / "eval")
        assert not (tmp_path / "eval" / "metrics.json").exists()


def test_foreign_class_and_damaged_mip_file(trained, tmp_path):
    state = torch.load(trained["lt_mip"], map_location="cpu", weights_only=True)
    nie_like = tmp_path / "nie.ckpt"
    torch.save({"influence_gpu_class": "influence_gpu.nie.lit.NIELitModule",
                "state_dict": {}, "pytorch-lightning_version": "2"}, nie_like)
    with pytest.raises(ValueError, match="nie.ckpt.*unknown model class"):
        load_cascade_checkpoint(nie_like)
    partial = dict(state)
    del partial["term_weight"]
    torch.save(partial, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match="partial.pt.*incomplete"):
        load_cascade_checkpoint(tmp_path / "partial.pt")
    wrong = dict(state, graph_hash="0" * 64)
    torch.save(wrong, tmp_path / "wrong.pt")
    with pytest.raises(ValueError, match="wrong.pt.*corrupt"):
        LTMIPModel.load(tmp_path / "wrong.pt")
    (tmp_path / "cut.pt").write_bytes(trained["lt_mip"].read_bytes()[:100])
    with pytest.raises(ValueError, match="cut.pt"):
        LTMIPModel.load(tmp_path / "cut.pt")


def test_nie_load_names_the_file_for_damaged_checkpoints(tmp_path):
    from influence_gpu.graph import barabasi_albert
    from influence_gpu.nie.estimator import NIE

    g = barabasi_albert(20, 2, seed=0)
    cases = {
        "cut.ckpt": b"PK\x03\x04 not a zip",
        "ltnn.ckpt": None,
    }
    (tmp_path / "cut.ckpt").write_bytes(cases["cut.ckpt"])
    torch.save({"state_dict": {}, "model_kind": "ltnn"}, tmp_path / "ltnn.ckpt")
    torch.save({"state_dict": {"net.x": torch.zeros(1)}, "nie": {"h": 2},
                "graph_hash": g.content_hash()}, tmp_path / "broken.ckpt")
    for name in ("cut.ckpt", "ltnn.ckpt", "broken.ckpt"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=name):
                NIE.load(tmp_path / name, g)
