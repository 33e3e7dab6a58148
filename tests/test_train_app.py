"""train.py / influence_gpu.apps.fit (any Lightning model, model=none) on composed configs."""

import json
from pathlib import Path

from omegaconf import open_dict

from influence_gpu.apps import fit
from influence_gpu.apps._run import main
from tests.hydra_app import clean_hydra, compose_app, run_entry_point  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def make_cfg(overrides, tmp_path):
    return compose_app("train", overrides, tmp_path)


def test_train_without_model_reports_status(tmp_path):
    cfg = make_cfg(["model=none", "data=none", "graph.source.n=50"], tmp_path)
    assert cfg.task._target_ == "influence_gpu.apps.fit.run"  # model=none chooses the task
    assert main(cfg) is None
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "no_model"
    assert saved["graph"]["num_nodes"] == 50
    assert "none" not in saved["available_models"]
    assert "model" in saved["message"]


def test_train_runs_a_lightning_model(tmp_path):
    cfg = make_cfg(
        [
            "task=fit",
            "graph.source.n=50",
            "callbacks=none",
            "trainer.max_epochs=1",
            "+trainer.limit_train_batches=2",
            "+trainer.limit_val_batches=1",
            "+trainer.enable_progress_bar=false",
            "+trainer.enable_model_summary=false",
        ],
        tmp_path,
    )
    with open_dict(cfg):
        cfg.model = {"_target_": "lightning.pytorch.demos.boring_classes.BoringModel"}
        cfg.data = {"_target_": "lightning.pytorch.demos.boring_classes.BoringDataModule"}
    metrics = fit.run(cfg)
    assert metrics["status"] == "trained"
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["status"] == "trained"


def test_train_script_subprocess(tmp_path):
    saved, stdout = run_entry_point(
        "train.py", ["debug=default", "model=none", "data=none"], tmp_path
    )
    assert saved["status"] == "no_model" and saved["graph"]["num_nodes"] == 200
    assert saved["task_name"] == "debug"
    assert "model" in stdout
