"""Issue targets of the NIE against the rivals a user would try, from ``evaluate.py task=ibm`` runs.

For each ``metrics.json`` (one network, one problem draw, one NIE variant) prints, per problem,
NIE-CELF's 10,000-run blocked influence over that of degree, proximity and RR-CELF (and of any
other method in the run), the NIE-CELF and RR-CELF seconds, and per run: the number of problems
where NIE-CELF is behind degree or proximity, and the mean ratio to RR-CELF. The targets: at least
as good as degree and proximity on every problem, and mean ratio to RR-CELF >= 0.98.
"Behind" counts any shortfall. ``--paired N`` also re-scores NIE-CELF's set and each rival's
on ``N`` fresh common worlds (key from ``--paired-seed``, independent of the run's) and prints
the per-world difference NIE - rival as ``z`` = mean / paired stderr per problem: a shortfall
with ``z > -2`` is within the noise of the re-scoring, one with ``z < -2`` is a real loss.

Usage:
    python benchmarks/paper_b_targets.py outputs/ibm_runs/*/metrics.json [--paired 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["targets", "main"]

RIVALS = ("degree", "proximity", "rr_celf", "rr_celf_worlds", "mcs_celf")


def targets(metrics: dict[str, Any]) -> dict[str, Any]:
    """Per-problem ratios and the target checks of one run (see the module docstring)."""
    recs = metrics["results"]
    problems = sorted({r["problem"] for r in recs})
    by = {(r["problem"], r["method"]): r for r in recs}
    rivals = [m for m in RIVALS if any(r["method"] == m for r in recs)]
    rows = []
    for p in problems:
        nie = by[(p, "nie_celf")]
        row: dict[str, Any] = {"problem": p, "nie": nie["blocked"], "nie_seconds": nie["seconds"]}
        for m in rivals:
            r = by[(p, m)]
            row[m] = r["blocked"]
            row[f"ratio_{m}"] = nie["blocked"] / r["blocked"] if r["blocked"] > 0 else float("inf")
            row[f"{m}_seconds"] = r["seconds"]
        rows.append(row)
    out: dict[str, Any] = {
        "network": metrics.get("network"),
        "problem_seed": metrics.get("ibm", {}).get("problem_seed"),
        "worlds": (metrics.get("nie") or {}).get("worlds"),
        "rows": rows,
    }
    for m in rivals:
        ratios = [r[f"ratio_{m}"] for r in rows]
        out[f"mean_ratio_{m}"] = sum(ratios) / len(ratios)
        out[f"min_ratio_{m}"] = min(ratios)
        out[f"behind_{m}"] = sum(1 for x in ratios if x < 1.0)
    out["nie_seconds_max"] = max(r["nie_seconds"] for r in rows)
    checks = {}
    for m in ("degree", "proximity"):
        if m in rivals:
            checks[f"never_behind_{m}"] = out[f"behind_{m}"] == 0
    if "rr_celf" in rivals:
        checks["within_2pct_of_rr_celf"] = out["mean_ratio_rr_celf"] >= 0.98
    out["checks"] = checks
    return out


def paired(metrics: dict[str, Any], num_samples: int, seed: int) -> dict[str, list[list[float]]]:
    """``{rival: [[mean difference NIE - rival, paired stderr] per problem]}`` on fresh worlds."""
    import torch

    from paper_b_ablation import load_network  # run as a script: benchmarks/ is on sys.path
    from influence_gpu.selection.blocking import paired_differences

    graph = load_network(metrics["network"])
    by = {(r["problem"], r["method"]): r for r in metrics["results"]}
    rivals = [m for m in RIVALS if any(r["method"] == m for r in metrics["results"])]
    out: dict[str, list[list[float]]] = {m: [] for m in rivals}
    gen = torch.Generator().manual_seed(seed)

    def ids(labels: list[str]) -> torch.Tensor:  # metrics.json holds labels as strings
        return graph.index_of([int(x) for x in labels])

    for prob in metrics["problems"]:
        p = prob["problem"]
        diffs = paired_differences(graph, ids(prob["false_seeds"]), ids(by[(p, "nie_celf")]["seeds"]),
                                   [ids(by[(p, m)]["seeds"]) for m in rivals], num_samples,
                                   generator=gen)
        for m, (d, se) in zip(rivals, diffs, strict=True):
            out[m].append([d, se])
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the per-problem ratios and the checks (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--paired", type=int, default=0, metavar="N",
                    help="re-score NIE-CELF against each rival on N fresh common worlds")
    ap.add_argument("--paired-seed", type=int, default=31337)
    args = ap.parse_args(argv)
    allout = []
    for path in args.metrics:
        metrics = json.loads(path.read_text())
        t = targets(metrics)
        t["path"] = str(path)
        allout.append(t)
        rivals = [m for m in RIVALS if f"mean_ratio_{m}" in t]
        print(f"\n{path}: {t['network']}, problem seed {t['problem_seed']}")
        head = ["problem", "nie"] + [f"/{m}" for m in rivals] + ["nie s", "rr s"]
        print("  ".join(f"{h:>14}" for h in head))
        for r in t["rows"]:
            cells = [str(r["problem"]), f"{r['nie']:.2f}"]
            cells += [f"{r[f'ratio_{m}']:.3f}" for m in rivals]
            cells += [f"{r['nie_seconds']:.3f}", f"{r.get('rr_celf_seconds', float('nan')):.3f}"]
            print("  ".join(f"{c:>14}" for c in cells))
        means = ["mean", ""] + [f"{t[f'mean_ratio_{m}']:.3f}" for m in rivals] + ["", ""]
        print("  ".join(f"{c:>14}" for c in means))
        print("  checks:", t["checks"])
        if args.paired:
            t["paired"] = paired(metrics, args.paired, args.paired_seed)
            t["paired_runs"] = args.paired
            print(f"  NIE - rival on {args.paired} fresh common worlds, z = mean / paired stderr:")
            for m, rows in t["paired"].items():
                cells = "  ".join(f"{d:+.2f} (z {d / se if se > 0 else 0.0:+.1f})" for d, se in rows)
                print(f"  {m:>16}: {cells}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(allout, indent=2))


if __name__ == "__main__":
    main()
