"""Paper B's Tables IV and V across networks, from the ``metrics.json`` of ``evaluate.py task=ibm``.

Reads one ``metrics.json`` per network (written by
``python evaluate.py experiment=ibm_<network>``) and prints, per network, the two tables of
:func:`influence_gpu.apps.blocking.run` (Table IV: seconds for each method to reach
NIE-CELF's blocked influence; Table V: blocked influence within the time budget), recomputed
from the stored records, and one summary table over the networks: NIE validation R² and MSE,
NIE-CELF's largest time per problem, its quality ratio to MCS-CELF on every problem, the mean
speedups (time to NIE-CELF's quality / NIE-CELF's time; ``>=`` when a method never reached it,
its whole run time is used) and the mean quality ratios (NIE-CELF / method).

Usage:
    python benchmarks/paper_b_tables.py outputs/ibm_*/*/metrics.json [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from influence_gpu.apps._run import format_table
from influence_gpu.apps.blocking import tables

__all__ = ["summarise", "main"]


def _by(records: list[dict[str, Any]], p: int, m: str) -> dict[str, Any] | None:
    return next((r for r in records if r["problem"] == p and r["method"] == m), None)


def summarise(metrics: dict[str, Any]) -> dict[str, Any]:
    """Summary numbers of one network's ``metrics.json`` (see the module docstring).

    Args:
        metrics: the parsed ``metrics.json`` of ``evaluate.py task=ibm``.

    Returns:
        ``network``, ``val_r2``, ``val_mse``, ``nie_seconds`` (per problem),
        ``nie_over_mcs`` (per problem), and per method ``speedup/<m>``, ``speedup_bound/<m>``
        (``True`` when some problem never reached NIE-CELF's quality, so the mean is a lower
        bound) and ``ratio/<m>`` (mean NIE-CELF / method blocked influence).

    Raises:
        ValueError: ``metrics`` has no ``results`` or no ``nie_celf`` records.
    """
    recs = metrics.get("results")
    if not recs:
        raise ValueError("metrics has no `results` (not an evaluate.py task=ibm run)")
    methods = list(dict.fromkeys(r["method"] for r in recs))
    if "nie_celf" not in methods:
        raise ValueError("metrics has no nie_celf records")
    problems = sorted({r["problem"] for r in recs})
    nie = [_by(recs, p, "nie_celf") for p in problems]
    out: dict[str, Any] = {
        "network": metrics.get("network", "?"),
        "val_r2": metrics.get("nie", {}).get("val/r2"),
        "val_mse": metrics.get("nie", {}).get("val/mse"),
        "nie_seconds": [r["seconds"] for r in nie],
        "nie_over_mcs": [],
    }
    for p, b in zip(problems, nie, strict=True):
        a = _by(recs, p, "mcs_celf")
        if a is not None and a["finished"] and a["blocked"]:
            out["nie_over_mcs"].append((b["blocked"] or 0.0) / a["blocked"])
    for m in methods:
        speed, bound, ratio = [], False, []
        for p, b in zip(problems, nie, strict=True):
            a = _by(recs, p, m)
            if a is None:
                continue
            t = a["time_to_target"]
            if t is None:
                t, bound = a["seconds"], True
            if b["seconds"] > 0:
                speed.append(t / b["seconds"])
            if a["blocked"] and b["blocked"] is not None:
                ratio.append(b["blocked"] / a["blocked"])
        out[f"speedup/{m}"] = sum(speed) / len(speed) if speed else None
        out[f"speedup_bound/{m}"] = bound
        out[f"ratio/{m}"] = sum(ratio) / len(ratio) if ratio else None
    return out


def _fmt(x: Any, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Print the per-network tables and the summary; optionally write the summary as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", nargs="+", type=Path, help="metrics.json files")
    ap.add_argument("--json", type=Path, default=None, help="write the summaries here")
    args = ap.parse_args(argv)
    summaries = []
    for path in args.metrics:
        m = json.loads(path.read_text())
        recs = m["results"]
        methods = list(dict.fromkeys(r["method"] for r in recs))
        num = len({r["problem"] for r in recs})
        limit = float((m.get("ibm") or {}).get("time_limit") or 0)
        t = tables(recs, methods, m.get("network", "?"), num, limit)
        print(t["time_to_target"], "", t["quality"], "", sep="\n")
        summaries.append(summarise(m))
    rows = []
    for s in summaries:
        sp = [f"{'>=' if s[f'speedup_bound/{m}'] else ''}{_fmt(s.get(f'speedup/{m}'), '.3g')}x"
              for m in ("mcs_celf", "rr_celf")]
        rows.append([
            s["network"], _fmt(s["val_r2"], ".3f"), _fmt(s["val_mse"], ".3g"),
            f"{max(s['nie_seconds']):.3f}",
            ", ".join(f"{r:.2f}" for r in s["nie_over_mcs"]),
            *sp,
            _fmt(s.get("ratio/mcs_celf"), ".3f"), _fmt(s.get("ratio/rr_celf"), ".3f"),
        ])
    print(format_table(rows, ["network", "NIE val R2", "val MSE", "NIE-CELF max s",
                              "NIE-CELF / MCS-CELF", "speedup vs MCS", "speedup vs RR",
                              "ratio vs MCS", "ratio vs RR"],
                       title="Paper B summary (speedup: time to NIE-CELF's quality / NIE-CELF "
                             "time; ratio: NIE-CELF / method blocked influence)"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summaries, indent=1))
    return summaries


if __name__ == "__main__":
    main()
