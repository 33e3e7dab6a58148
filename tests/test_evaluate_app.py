"""evaluate.py / pipeline.evaluate on composed configs with tiny sizes."""

import json
from pathlib import Path

import pytest

from influence_gpu.api import simulate
from influence_gpu.pipeline import build_graph, evaluate
from tests.hydra_app import clean_hydra, compose_app, run_entry_point  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TINY = ["graph.source.n=60", "k=3", "diffusion.num_samples=20", "progress=false"]


def make_cfg(overrides, tmp_path):
    return compose_app("evaluate", [*overrides, "device=cpu"], tmp_path)


def test_select_task_writes_metrics_and_plot(tmp_path):
    methods = ["celf", "greedy", "degree_discount", "degree", "random"]
    cfg = make_cfg([*TINY, f"methods=[{','.join(methods)}]"], tmp_path)
    metrics = evaluate(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["task"] == "select" and saved["k"] == 3
    assert saved["graph"]["num_nodes"] == 60
    assert list(saved["methods"]) == methods
    assert saved == json.loads(json.dumps(metrics, default=str))
    for name in methods:
        m = saved["methods"][name]
        assert len(m["seeds"]) == 3 and len(set(m["seeds"])) == 3
        assert len(m["spread"]) == 3 and len(m["stderr"]) == 3
        # prefixes share the same simulated worlds: the estimate cannot decrease with k
        assert all(b >= a for a, b in zip(m["spread"], m["spread"][1:], strict=False))
        assert m["spread"][0] >= 1 and m["seconds"] >= 0
        assert saved["summary"][f"{name}/spread@3"] == m["spread"][-1]
    # with common random numbers and the same seed, CELF and greedy pick the same seeds
    assert saved["methods"]["celf"]["seeds"] == saved["methods"]["greedy"]["seeds"]
    assert saved["methods"]["celf"]["evaluations"] < saved["methods"]["greedy"]["evaluations"]
    assert saved["methods"]["degree"]["oracle_calls"] == 0
    png = tmp_path / "spread_vs_k.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_prefix_spreads_are_unbiased_estimates(tmp_path):
    cfg = make_cfg([*TINY, "methods=[degree]", "diffusion.num_samples=400", "plot=false"], tmp_path)
    metrics = evaluate(cfg)
    m = metrics["methods"]["degree"]
    assert not (tmp_path / "spread_vs_k.png").exists()
    graph = build_graph(cfg.graph)
    check = simulate(graph, m["seeds"], num_samples=4000, seed=99)
    # independent estimates: 400 and 4000 runs; allow 4 combined standard errors
    tol = 4 * (m["stderr"][-1] ** 2 + check.stderr**2) ** 0.5
    assert abs(m["spread"][-1] - check.mean) < tol


def test_spread_task(tmp_path):
    cfg = make_cfg([*TINY, "task=spread", "seeds=[0,1]", "diffusion.num_samples=50"], tmp_path)
    metrics = evaluate(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["task"] == "spread" and saved["seeds"] == [0, 1]
    graph = build_graph(cfg.graph)
    ref = simulate(graph, [0, 1], num_samples=50, seed=cfg.seed)
    assert saved["spread"] == pytest.approx(ref.mean) and metrics["stderr"] == ref.stderr
    assert saved["spread"] >= 2


def test_bad_task_method_and_missing_seeds(tmp_path):
    with pytest.raises(ValueError, match="task must be"):
        evaluate(make_cfg([*TINY, "task=nope"], tmp_path))
    with pytest.raises(ValueError, match="no selector config"):
        evaluate(make_cfg([*TINY, "methods=[pagerank]"], tmp_path))
    with pytest.raises(ValueError, match="needs seeds"):
        evaluate(make_cfg([*TINY, "task=spread"], tmp_path))


def test_evaluate_script_subprocess(tmp_path):
    saved, stdout = run_entry_point(
        "evaluate.py", ["debug=default", "progress=false", "methods=[celf,degree]"], tmp_path
    )
    assert saved["task_name"] == "debug"
    assert list(saved["methods"]) == ["celf", "degree"] and saved["k"] == 3
    assert saved["output_dir"] == str(tmp_path)
    assert (tmp_path / "spread_vs_k.png").exists()
    assert "celf" in stdout and "degree" in stdout  # the printed table
