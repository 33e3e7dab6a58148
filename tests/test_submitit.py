"""Multiruns through hydra-submitit-launcher: submitit_local really runs, slurm composes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.hydra_app import CONF, clean_hydra, compose_app  # noqa: F401

pytest.importorskip("hydra_plugins.hydra_submitit_launcher")


def test_submitit_local_runs_a_two_job_multirun(tmp_path):
    sweep = tmp_path / "sweep"
    out = subprocess.run(
        [
            sys.executable,
            str(CONF.parent / "evaluate.py"),
            "-m",
            "hydra/launcher=submitit_local",
            "task=spread",
            "seeds=[0,1,2]",
            "seed=0,1",
            f"hydra.sweep.dir={sweep}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1"),
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "Submitit 'local' sweep output dir" in out.stdout + out.stderr
    jobs = {}
    for num in (0, 1):
        metrics = json.loads((sweep / str(num) / "metrics.json").read_text())
        assert metrics["task"] == "spread" and metrics["seeds"] == [0, 1, 2]
        assert metrics["graph"]["name"] == "ba_default" and metrics["spread"] >= 3
        assert metrics["output_dir"] == str(sweep / str(num))
        jobs[metrics["seed"]] = metrics
    assert sorted(jobs) == [0, 1]  # one job per value of the swept override
    # submitit ran each job as its own process and kept its logs and result
    logs = sorted((sweep / ".submitit").glob("*/*_log.out"))
    results = sorted((sweep / ".submitit").glob("*/*_result.pkl"))
    assert len(logs) == 2 and len(results) == 2


@pytest.mark.parametrize(
    ("name", "target"),
    [("slurm", "SlurmLauncher"), ("submitit_slurm", "SlurmLauncher"),
     ("local", "LocalLauncher"), ("submitit_local", "LocalLauncher")],
)
def test_launcher_configs_compose(name, target, tmp_path):
    cfg = compose_app("train", [f"hydra/launcher={name}", "trainer=ddp"], tmp_path)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == f"hydra_plugins.hydra_submitit_launcher.submitit_launcher.{target}"
    assert launcher.submitit_folder.endswith("/.submitit/%j")  # under hydra.sweep.dir
    for key in ("timeout_min", "cpus_per_task", "gpus_per_node", "tasks_per_node", "nodes"):
        assert key in launcher
    if target == "SlurmLauncher":
        assert {"partition", "array_parallelism", "additional_parameters", "setup"} <= set(launcher)
    if name == "slurm":  # our documented defaults on top of the plugin's schema
        assert launcher.array_parallelism == 16 and launcher.cpus_per_task == 4
        assert launcher.timeout_min == 60 and launcher.tasks_per_node == 1


def test_slurm_launcher_takes_the_readme_overrides(tmp_path):
    cli = compose_app(
        "train",
        ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=4",
         "hydra.launcher.tasks_per_node=4", "hydra.launcher.timeout_min=240",
         "hydra.launcher.array_parallelism=2"],
        tmp_path,
    )
    assert cli.hydra.launcher.partition == "gpu" and cli.hydra.launcher.gpus_per_node == 4
    assert cli.hydra.launcher.array_parallelism == 2
