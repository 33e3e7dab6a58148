"""benchmarks/paper_b_tables.py: the cross-network summary of paper B's Tables IV and V."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location(
        "paper_b_tables", ROOT / "benchmarks" / "paper_b_tables.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rec(p, m, blocked, seconds, reach, finished=True):
    return {"network": "toy", "problem": p, "method": m, "blocked": blocked, "seconds": seconds,
            "time_to_target": reach, "reached_target": reach is not None, "finished": finished}


def _metrics():
    return {
        "network": "toy",
        "ibm": {"time_limit": 60.0},
        "nie": {"val/r2": 0.9, "val/mse": 2.5},
        "results": [
            _rec(0, "nie_celf", 9.0, 0.5, 0.5),
            _rec(0, "mcs_celf", 10.0, 5.0, 2.0),
            _rec(0, "rr_celf", 8.0, 1.0, None),
            _rec(1, "nie_celf", 18.0, 1.0, 0.8),
            _rec(1, "mcs_celf", 20.0, 8.0, 4.0, finished=False),
            _rec(1, "rr_celf", 18.0, 3.0, 3.0),
        ],
    }


def test_summary_numbers():
    s = _module().summarise(_metrics())
    assert s["network"] == "toy" and s["val_r2"] == 0.9 and s["nie_seconds"] == [0.5, 1.0]
    # problem 1's MCS-CELF was stopped by the limit: only problem 0 counts for the target
    assert s["nie_over_mcs"] == pytest.approx([0.9])
    assert s["speedup/mcs_celf"] == pytest.approx((2.0 / 0.5 + 4.0 / 1.0) / 2)
    assert not s["speedup_bound/mcs_celf"]
    # RR-CELF never reached NIE-CELF's quality on problem 0: its run time, a lower bound
    assert s["speedup/rr_celf"] == pytest.approx((1.0 / 0.5 + 3.0 / 1.0) / 2)
    assert s["speedup_bound/rr_celf"]
    assert s["ratio/mcs_celf"] == pytest.approx((0.9 + 0.9) / 2)
    assert s["ratio/rr_celf"] == pytest.approx((9 / 8 + 1.0) / 2)


def test_main_prints_tables_and_writes_json(tmp_path, capsys):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(_metrics()))
    out_json = tmp_path / "summary.json"
    _module().main([str(path), "--json", str(out_json)])
    text = capsys.readouterr().out
    assert "Table IV (toy)" in text and "Table V (toy)" in text and ">=" in text
    assert json.loads(out_json.read_text())[0]["nie_over_mcs"] == pytest.approx([0.9])


def test_bad_metrics_are_refused():
    mod = _module()
    with pytest.raises(ValueError, match="results"):
        mod.summarise({"results": []})
    with pytest.raises(ValueError, match="nie_celf"):
        mod.summarise({"results": [_rec(0, "mcs_celf", 1.0, 1.0, 1.0)]})
