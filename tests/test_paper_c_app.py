"""evaluate.py experiment=paper_c_random / paper_c_bitcoin (task=paper_c) through Hydra."""

import json
import math

import pytest
import torch
from hydra.utils import instantiate

from influence_gpu.apps._run import main
from influence_gpu.graph.signed_instances import random_signed_instance
from influence_gpu.selection.signed import signed_cost
from tests.hydra_app import clean_hydra, compose_app  # noqa: F401

SMALL = ["experiment=paper_c_random", "paper_c.experiment.sizes=[8,12]",
         "paper_c.experiment.per_size=2", "paper_c.experiment.cap=30",
         "paper_c.experiment.grow=false", "device=cpu"]
KEYS = {"instance", "instance_seed", "n", "m", "method", "formulation", "cost", "optimal",
        "gap", "seconds", "seeds", "gap_to_optimum"}


def test_small_random_experiment_records(tmp_path):
    cfg = compose_app("evaluate", SMALL, tmp_path)
    assert cfg.hydra.runtime.choices.task == "paper_c"
    assert main(cfg) is None
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["task"] == "paper_c" and saved["task_name"] == "paper_c_random"
    assert saved["experiment"] == "random_instances_experiment"
    records = saved["results"]
    methods = ["milp_bellman", "milp_kkt", "milp_paths", "local_search"]
    assert len(records) == 2 * 2 * len(methods)  # 2 sizes x 2 instances x 4 methods
    p = cfg.paper_c.experiment
    by_instance = {}
    for r in records:
        assert KEYS <= set(r)
        by_instance.setdefault(r["instance"], []).append(r)
    assert len(by_instance) == 4
    for name, rs in by_instance.items():
        assert [r["method"] for r in rs] == methods
        n, seed = rs[0]["n"], rs[0]["instance_seed"]
        # instance i of size n is drawn with seed `seed * 100000 + n * 100 + i`
        assert name == f"random_n{n}_s{seed}" and seed // 100 == p.seed * 1000 + n
        assert seed % 100 < 2
        inst = random_signed_instance(n, p.density, p.negative_share, p.delay_range,
                                      p.cost_range, p.penalty_range, seed=seed)
        assert inst.name == name and rs[0]["m"] == inst.graph.num_edges // 2
        for r in rs:
            # the reported cost is the simulator's cost of the returned seeds
            cost = signed_cost(inst.graph, torch.tensor(r["seeds"], dtype=torch.long),
                               inst.send_cost, inst.penalty)
            assert math.isfinite(cost) and r["cost"] == pytest.approx(cost, rel=1e-9)
            assert r["num_seeds"] == len(r["seeds"]) >= 1 and r["seconds"] >= 0
        milps = rs[:3]
        assert [r["formulation"] for r in milps] == ["bellman", "kkt", "paths"]
        assert all(r["optimal"] and r["gap"] == 0 for r in milps)  # tiny: all solve
        opt = milps[0]["cost"]
        assert all(r["cost"] == pytest.approx(opt, rel=1e-6) for r in milps)
        ls = rs[3]
        assert ls["formulation"] is None and ls["optimal"] is False and ls["gap"] is None
        assert ls["cost"] >= opt - 1e-6 * opt
        assert ls["gap_to_optimum"] == pytest.approx((ls["cost"] - opt) / opt, abs=1e-12)
        assert ls["gap_to_optimum"] >= -1e-9
    summary = saved["summary"]
    assert summary["milp_paths/solved"] == 4 and summary["local_search/instances"] == 4
    assert summary["local_search/mean_ratio"] >= 1 - 1e-9
    assert "| n |" in saved["tables"]


def test_optimized_metric_and_missing_node(tmp_path):
    over = [*SMALL[:-1], "paper_c.experiment.sizes=[8]", "paper_c.experiment.per_size=1",
            "paper_c.experiment.formulations=[paths]",
            "optimized_metric=summary.local_search/mean_ratio", "device=cpu"]
    value = main(compose_app("evaluate", over, tmp_path))
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert value == saved["summary"]["local_search/mean_ratio"] >= 1 - 1e-9
    assert [r["method"] for r in saved["results"]] == ["milp_paths", "local_search"]
    cfg = compose_app("evaluate", ["task=paper_c", "device=cpu"], tmp_path / "bare")
    with pytest.raises(ValueError, match="paper_c.experiment"):
        main(cfg)
    assert not (tmp_path / "bare" / "metrics.json").exists()


def test_bitcoin_experiment_config_builds(tmp_path):
    cfg = compose_app("evaluate", ["experiment=paper_c_bitcoin", "device=cpu"], tmp_path)
    assert cfg.hydra.runtime.choices.task == "paper_c"
    run = instantiate(cfg.paper_c.experiment, _convert_="all")
    assert run.func.__name__ == "bitcoin_experiment"
    assert run.keywords["name"] == "soc-sign-bitcoinotc"


@pytest.mark.slow
def test_bitcoin_experiment_runs(tmp_path, datasets_dir):
    if not (datasets_dir / "snap" / "soc-sign-bitcoinotc.csv.gz").is_file():
        pytest.skip("soc-sign-bitcoinotc not in the shared datasets")
    main(compose_app("evaluate", ["experiment=paper_c_bitcoin", "device=cpu"], tmp_path))
    (rec,) = json.loads((tmp_path / "metrics.json").read_text())["results"]
    assert rec["n"] == 5881 and rec["method"] == "local_search"
    assert rec["cost"] < rec["cost_cheapest_per_component"]
