"""train.py trainer=ddp with two CPU processes (gloo): LTNN, RWNN and the NIE.

Every test really starts two ranks: ``python train.py trainer=ddp`` (Lightning re-runs the
command line for rank 1 inside ``Trainer.fit``) or ``torchrun --nproc_per_node=2`` (both ranks
started by the launcher, as ``srun`` does on SLURM). They check that the global batch is kept
(``data.batch_size`` split over the ranks), that the logged epoch metrics are reduced over both
ranks (they equal the same metric computed in plain Python over the whole split), that only rank
0 writes ``metrics.json``, and that the checkpoint reloads without Lightning's trainer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from influence_gpu.apps._run import build_graph, global_rank, per_device_batch_size
from influence_gpu.apps.cascades import cascade_accuracy, split_tensors
from influence_gpu.learn import LTNNLitModule, RWNNLitModule
from tests.hydra_app import CONF, clean_hydra, compose_app  # noqa: F401

DDP_CPU = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]
# 40 cascades: 32 train (= validation, data=synthetic), 8 test; global batch 10 -> 5 per rank
CASCADES = [
    "graph=er",
    "data=synthetic",
    "data.data.num_cascades=40",
    "trainer.max_epochs=2",
    "callbacks.progress_bar=null",
    "callbacks.early_stopping=null",
    "+trainer.enable_model_summary=false",
]


def nie_overrides(tmp_path):
    # 40 instances: 32 train, 4 validation, 4 test; global batch 512 -> 256 per rank
    return [
        "model=nie",
        "graph=ba_default",
        "graph.source.n=80",
        f"data.path={tmp_path}/nie_train.pt",
        "data.num_instances=40",
        "data.num_samples=10",
        "data.generation.progress=false",
        "trainer.max_epochs=2",
        "callbacks=none",
    ]


def run_ranks(launcher, overrides, run_dir):
    """Run train.py with two ranks; return (metrics.json, stdout, stderr)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [*launcher, str(CONF.parent / "train.py"), *overrides, f"hydra.run.dir={run_dir}"],
        capture_output=True,
        text=True,
        cwd=run_dir,
        env=dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1"),
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads((run_dir / "metrics.json").read_text()), out.stdout, out.stderr


def assert_one_writer(root, run_dir, stdout):
    """Two ranks ran; rank 0 alone wrote metrics.json (once, in the run folder)."""
    assert [p.parent for p in Path(root).rglob("metrics.json")] == [run_dir]
    log = (run_dir / "train.log").read_text()  # both ranks log into the run folder's file
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in log
    wrote = f"wrote {run_dir / 'metrics.json'}"
    assert log.count(wrote) == 1 and stdout.count(wrote) <= 1


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]


# LTNN with Lightning's own launcher, RWNN under torchrun (its ranks start at once: quicker)
@pytest.mark.parametrize(
    ("model", "lit", "launcher"),
    [("ltnn", LTNNLitModule, [sys.executable]), ("rwnn", RWNNLitModule, TORCHRUN)],
    ids=["ltnn-lightning-launcher", "rwnn-torchrun"],
)
def test_ddp_cascade_models_sync_metrics_and_write_once(model, lit, launcher, tmp_path):
    run = tmp_path / "run"
    overrides = [f"model={model}", *CASCADES, *DDP_CPU]
    metrics, stdout, _ = run_ranks(launcher, overrides, run)
    assert metrics["world_size"] == 2
    assert metrics["batch_size"] == 10 and metrics["per_device_batch_size"] == 5
    # global batch kept: 32 training cascades, 16 per rank in batches of 5 -> 4 steps an
    # epoch, as one process with batches of 10
    assert metrics["steps"] == 2 * 4
    assert_one_writer(tmp_path, run, stdout)
    assert stdout.count("learning influence from") == 1  # rank 0 alone prints the table
    ckpt = Path(metrics["checkpoint"])
    assert ckpt.parent == run / "checkpoints" and ckpt.is_file()
    # the checkpoint reloads in plain Python, and the logged validation metrics are those of
    # the whole validation split (both ranks' halves), not of rank 0's half
    reloaded = lit.load_from_checkpoint(ckpt, map_location="cpu").eval()
    dm = instantiate(compose_app("train", overrides, tmp_path / "compose").data)
    dm.setup("fit")
    x0, xT = split_tensors(dm, "val")
    assert x0.shape[0] == 32
    with torch.no_grad():
        val_loss = float(torch.nn.functional.mse_loss(reloaded(x0), xT))
    assert metrics["val/loss"] == pytest.approx(val_loss, rel=1e-5, abs=1e-7)
    assert metrics["val/accuracy"] == pytest.approx(cascade_accuracy(reloaded, x0, xT), abs=1e-6)
    assert metrics["train_accuracy"] == pytest.approx(metrics["val/accuracy"], abs=1e-6)


def nie_checks(metrics, run, tmp_path, overrides):
    """world size, the best checkpoint's synced val/mse, and a plain-Python reload of nie.ckpt."""
    from influence_gpu.graph.probabilities import assign_probabilities
    from influence_gpu.nie.estimator import NIE

    assert metrics["world_size"] == 2
    assert metrics["batch_size"] == 512 and metrics["per_device_batch_size"] == 256
    ckpt = Path(metrics["ckpt"])
    assert ckpt == run / "checkpoints" / "nie.ckpt" and ckpt.is_file()
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    best = next(v for k, v in state["callbacks"].items() if k.startswith("ModelCheckpoint"))
    # val/mse monitored by the checkpoint = the MSE over all 4 validation instances (2 a rank),
    # which fit_nie recomputes in plain Python from the best weights
    assert float(best["best_model_score"]) == pytest.approx(metrics["val/mse"], rel=1e-4)
    cfg = compose_app("train", overrides, tmp_path / "compose")
    graph = build_graph(cfg.graph)
    if graph.edge_prob is None:  # as fit_nie does
        graph = assign_probabilities(graph, "weighted_cascade")
    nie = NIE.load(ckpt, graph)  # no Lightning
    dm = instantiate(cfg.data, graph=graph)
    dm.setup("fit")
    x, y = dm.data_val.tensors
    with torch.no_grad():
        mse = float(((nie.net(x).double() - y.double()) ** 2).mean())
    assert mse == pytest.approx(metrics["val/mse"], rel=1e-6)


def test_ddp_nie_syncs_val_mse_and_writes_once(tmp_path):
    run = tmp_path / "run"
    overrides = [*nie_overrides(tmp_path), *DDP_CPU]
    metrics, stdout, _ = run_ranks([sys.executable], overrides, run)
    assert_one_writer(tmp_path, run, stdout)
    nie_checks(metrics, run, tmp_path, overrides)


def test_torchrun_nie_builds_training_set_on_rank_zero(tmp_path):
    # torchrun starts both ranks at once: rank 0 builds the training set while rank 1 waits
    run = tmp_path / "run"
    overrides = [*nie_overrides(tmp_path), *DDP_CPU]
    metrics, stdout, _ = run_ranks(TORCHRUN, overrides, run)
    assert [p.parent for p in tmp_path.rglob("metrics.json")] == [run]
    assert stdout.count("NIE on ") == 1
    assert (tmp_path / "nie_train.pt").is_file()
    nie_checks(metrics, run, tmp_path, overrides)


def test_per_device_batch_size_keeps_the_global_batch():
    assert per_device_batch_size(10, 1) == 10
    assert per_device_batch_size(512, 2) == 256
    assert per_device_batch_size(12, 4) == 3
    with pytest.raises(ValueError, match="multiple of the world size 4.*data.batch_size=8"):
        per_device_batch_size(10, 4)
    with pytest.raises(ValueError, match="data.batch_size=3"):
        per_device_batch_size(2, 3)


def test_global_rank_reads_the_launchers_environment(monkeypatch):
    for key in ("RANK", "SLURM_PROCID"):
        monkeypatch.delenv(key, raising=False)
    assert global_rank() == 0
    monkeypatch.setenv("SLURM_PROCID", "3")
    assert global_rank() == 3
    monkeypatch.setenv("RANK", "1")  # torchrun's, read first
    assert global_rank() == 1


def test_ddp_refuses_a_global_batch_it_cannot_split(tmp_path):
    from influence_gpu.apps._run import main

    cfg = compose_app("train", [*CASCADES, *DDP_CPU, "trainer.devices=3"], tmp_path)
    with pytest.raises(ValueError, match="data.batch_size=10 is the global batch"):
        main(cfg)  # fails before any process is started
    assert not (tmp_path / "metrics.json").exists()
