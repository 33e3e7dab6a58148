"""Seconds per problem of NIE-CELF and RR-CELF on the problems of ``evaluate.py task=ibm`` runs.

Re-times the selectors of a finished run on its own problems, one process, nothing else loaded:
the NIE checkpoint of the run (``--worlds``: the saved feature's worlds when selecting, as
``ibm.nie_worlds``), and RR-CELF with 20,000 blocking RR sets as the benchmark. Per-graph
statistics are computed (or read from the cache) once before the clock starts, as in the
benchmark, and reported apart. Median of ``--repeats`` cold runs per problem: the NIE's cached
``S_F`` context (its sketch included) is cleared before each, so every run pays for it.

Usage:
    python benchmarks/paper_b_timing.py <metrics.json> <nie.ckpt> [--worlds 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_b_ablation import load_network  # noqa: E402

from influence_gpu.graph.statistics import compute_statistics  # noqa: E402
from influence_gpu.nie.estimator import NIE  # noqa: E402
from influence_gpu.selection.blocking import NIECELF, RRCELF  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Print per-problem median seconds (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", type=Path)
    ap.add_argument("ckpt", type=Path)
    ap.add_argument("--worlds", type=int, default=None)
    ap.add_argument("--rr-sets", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    m = json.loads(args.metrics.read_text())
    g = load_network(m["network"])
    t0 = time.perf_counter()
    stats = compute_statistics(g)
    stats_s = time.perf_counter() - t0
    nie = NIE.load(args.ckpt, g, stats=stats, worlds=args.worlds)
    sels = {"nie_celf": NIECELF(nie, h=2, batch_size=256),
            "rr_celf": RRCELF(num_sets=args.rr_sets, h=2)}
    print(f"{m['network']}: statistics {stats_s:.2f} s (from cache: "
          f"{bool(getattr(stats, 'from_cache', False))}), threads {torch.get_num_threads()}, "
          f"NIE worlds {nie.worlds}")
    rows = []
    for prob in m["problems"]:
        f = g.index_of([int(x) for x in prob["false_seeds"]])
        row = {"problem": prob["problem"], "k": prob["k"]}
        for name, sel in sels.items():
            times = []
            for rep in range(args.repeats):
                nie.featurizer.clear_cache()  # cold: the S_F context and sketch are rebuilt
                t = time.perf_counter()
                sel.select(g, prob["k"], false_seeds=f, generator=rep)
                times.append(time.perf_counter() - t)
            row[name] = statistics.median(times)
        rows.append(row)
        print(f"  problem {row['problem']}: k {row['k']}, NIE-CELF {row['nie_celf']:.3f} s, "
              f"RR-CELF {row['rr_celf']:.3f} s", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"network": m["network"], "statistics_seconds": stats_s,
                                         "nie_worlds": nie.worlds, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
