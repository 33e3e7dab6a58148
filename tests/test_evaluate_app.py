"""evaluate.py / influence_gpu.apps (select, spread) on composed configs with tiny sizes."""

import json
from pathlib import Path

import pytest
from omegaconf import open_dict

from influence_gpu.api import simulate
from influence_gpu.apps import select, spread
from influence_gpu.apps._run import build_graph, main, metric_value
from tests.hydra_app import clean_hydra, compose_app, run_entry_point  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TINY = ["graph.source.n=60", "k=3", "diffusion.num_samples=20", "progress=false"]


def make_cfg(overrides, tmp_path):
    return compose_app("evaluate", [*overrides, "device=cpu"], tmp_path)


def test_select_task_writes_metrics_and_plot(tmp_path):
    methods = ["celf", "greedy", "degree_discount", "degree", "random"]
    cfg = make_cfg([*TINY, f"selector=[{','.join(methods)}]"], tmp_path)
    assert cfg.task._target_ == "influence_gpu.apps.select.run"
    metrics = select.run(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["task"] == "select" and saved["k"] == 3
    assert saved["model"] == "ic" and saved["num_samples"] == 20
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
    assert len(saved["methods"]["celf"]["selection_spread"]) == 3
    assert saved["methods"]["degree"]["oracle_calls"] == 0
    png = tmp_path / "spread_vs_k.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_prefix_spreads_are_unbiased_estimates(tmp_path):
    cfg = make_cfg([*TINY, "selector=[degree]", "diffusion.num_samples=400", "plot=false"],
                   tmp_path)
    m = select.run(cfg)["methods"]["degree"]
    assert not (tmp_path / "spread_vs_k.png").exists()
    graph = build_graph(cfg.graph)
    check = simulate(graph, m["seeds"], num_samples=4000, seed=99)
    # independent estimates: 400 and 4000 runs; allow 4 combined standard errors
    tol = 4 * (m["stderr"][-1] ** 2 + check.stderr**2) ** 0.5
    assert abs(m["spread"][-1] - check.mean) < tol


def test_spread_task(tmp_path):
    cfg = make_cfg([*TINY, "task=spread", "seeds=[0,1]", "diffusion.num_samples=50"], tmp_path)
    assert main(cfg) is None  # no optimized_metric
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["task"] == "spread" and saved["seeds"] == [0, 1]
    graph = build_graph(cfg.graph)
    ref = simulate(graph, [0, 1], num_samples=50, seed=cfg.seed)
    assert saved["spread"] == pytest.approx(ref.mean) and saved["stderr"] == ref.stderr
    assert saved["spread"] >= 2
    assert spread.run(cfg)["spread"] == saved["spread"]  # seeded: the same number again


def test_main_returns_the_optimized_metric(tmp_path):
    cfg = make_cfg([*TINY, "selector=[degree]", "plot=false",
                    "optimized_metric=summary.degree/spread@3"], tmp_path)
    value = main(cfg)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert isinstance(value, float) and value == saved["summary"]["degree/spread@3"]
    cfg = make_cfg([*TINY, "task=spread", "seeds=[0]", "optimized_metric=spread"],
                   tmp_path / "spread")
    assert main(cfg) == json.loads((tmp_path / "spread" / "metrics.json").read_text())["spread"]
    with pytest.raises(KeyError, match="optimized_metric='nope'"):
        metric_value({"spread": 1.0}, "nope")
    assert metric_value({"a": {"b": 2}}, "a.b") == 2.0 and metric_value({}, None) is None


def test_bad_task_config_is_a_clear_error_and_writes_nothing(tmp_path):
    cfg = make_cfg(TINY, tmp_path)
    with open_dict(cfg):
        cfg.task = {"_target_": "influence_gpu.apps.no_such_task.run", "_partial_": True}
    with pytest.raises(ValueError, match="cannot build the task 'influence_gpu.apps.no_such_task"):
        main(cfg)
    with open_dict(cfg):
        cfg.task = {"name": "select"}
    with pytest.raises(ValueError, match="task config with a _target_"):
        main(cfg)
    assert not (tmp_path / "metrics.json").exists()


def test_unknown_task_name_is_a_composition_error(tmp_path):
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="task"):
        make_cfg([*TINY, "task=nope"], tmp_path)


def test_bad_method_and_missing_seeds(tmp_path):
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="pagerank"):
        make_cfg([*TINY, "selector=[pagerank]"], tmp_path)
    with pytest.raises(ValueError, match="at least one selector"):
        main(make_cfg([*TINY, "selector=[]"], tmp_path))
    with pytest.raises(ValueError, match="needs seeds"):
        main(make_cfg([*TINY, "task=spread"], tmp_path))
    assert not (tmp_path / "metrics.json").exists()


def test_evaluate_script_subprocess(tmp_path):
    saved, stdout = run_entry_point(
        "evaluate.py", ["debug=default", "progress=false", "selector=[celf,degree]"], tmp_path
    )
    assert saved["task_name"] == "debug"
    assert list(saved["methods"]) == ["celf", "degree"] and saved["k"] == 3
    assert saved["output_dir"] == str(tmp_path)
    assert (tmp_path / "spread_vs_k.png").exists()
    assert "celf" in stdout and "degree" in stdout  # the printed table


@pytest.mark.parametrize("model", ["minimum_threshold", "multiplication_threshold"])
def test_threshold_models_report_blocked_counts(model, tmp_path):
    from influence_gpu.apps import select, spread

    over = [*TINY, f"diffusion={model}", "graph.probabilities.scheme=lt_weights",
            "selector=[degree,random]", "plot=false", "diffusion.num_samples=50"]
    m = select.run(make_cfg(over, tmp_path))
    for name in ("degree", "random"):
        r = m["methods"][name]
        assert len(r["blocked"]) == len(r["spread"]) == len(r["blocked_stderr"])
        # active + blocked can never exceed the node count
        assert all(a + b <= m["graph"]["num_nodes"] + 1e-9 for a, b in
                   zip(r["spread"], r["blocked"], strict=True))
        assert f"{name}/blocked@{m['k']}" in m["summary"]
    s = spread.run(make_cfg([*over, "task=spread", "seeds=[0,1]"], tmp_path))
    assert s["blocked"] >= 0 and s["blocked_stderr"] >= 0
