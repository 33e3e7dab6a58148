"""Paper C benchmark: the three MILPs on random signed instances, local search on bitcoin-otc.

The experiments live in :mod:`influence_gpu.selection.signed.experiments` (also run by
``python evaluate.py experiment=paper_c_random`` / ``experiment=paper_c_bitcoin``); this script
runs them, writes the records to ``benchmarks/results/paper_c_*.json``, prints the tables and
plots the MILP times.

Usage:
    python benchmarks/paper_c.py random --cap 60
    python benchmarks/paper_c.py random --cap 60 --seed 1 --formulations paths   # held out
    python benchmarks/paper_c.py random --reuse-milp benchmarks/results/paper_c_random.json
        # the local search again on the same draw, the MILP records read from an earlier run
    python benchmarks/paper_c.py bitcoin [--time-limit 60] [--perturbations 0]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from influence_gpu.selection.signed.experiments import (
    SIZES,
    bitcoin_experiment,
    fastest_counts,
    largest_solved,
    local_search_quality,
    random_instances_experiment,
    summarize,
)
from influence_gpu.selection.signed.milp import FORMULATIONS

RESULTS = Path(__file__).resolve().parent / "results"


def plot_times(records: list[dict[str, Any]], path: Path, cap: float) -> Path:
    """Mean MILP seconds against n per formulation (a run at the cap counts as the cap)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for f, marker in zip(FORMULATIONS, "osD", strict=True):
        m = f"milp_{f}"
        sizes = sorted({r["n"] for r in records if r["method"] == m})
        if not sizes:
            continue
        mean = [np.mean([r["seconds"] for r in records if r["n"] == n and r["method"] == m])
                for n in sizes]
        ax.plot(sizes, mean, marker=marker, label=m)
    ax.axhline(cap, color="grey", linestyle="--", linewidth=1, label=f"cap {cap:g} s")
    ax.set_yscale("log")
    ax.set_xlabel("nodes n")
    ax.set_ylabel("seconds per instance (mean)")
    ax.set_title("Paper C MILPs on random signed instances")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("experiment", choices=["random", "bitcoin", "all"])
    ap.add_argument("--cap", type=float, default=60.0, help="MILP seconds per instance")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--per-size", type=int, default=5)
    ap.add_argument("--density", type=float, default=0.15)
    ap.add_argument("--negative-share", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formulations", default=",".join(FORMULATIONS),
                    help="comma-separated subset of bellman,kkt,paths")
    ap.add_argument("--reuse-milp", type=Path, default=None,
                    help="records of an earlier run of the same draw: reuse its MILP results "
                         "and run only the local search")
    ap.add_argument("--dataset", default="soc-sign-bitcoinotc")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="local-search seconds on the data set (default: none)")
    ap.add_argument("--perturbations", type=int, default=None,
                    help="local-search restarts on the data set (default: the selector's)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.experiment in ("random", "all"):
        forms = tuple(args.formulations.split(","))
        reuse: list[dict[str, Any]] | None = None
        if args.reuse_milp is not None:
            reuse = [r for r in json.loads(args.reuse_milp.read_text())
                     if r["method"].startswith("milp_")]
            forms = tuple(f for f in FORMULATIONS if any(r["method"] == f"milp_{f}"
                                                         for r in reuse))
        recs = random_instances_experiment(
            [int(s) for s in args.sizes.split(",")], args.per_size, args.cap,
            density=args.density, negative_share=args.negative_share, seed=args.seed,
            formulations=forms, milp_records=reuse, log=print)
        tag = "" if args.seed == 0 else f"_seed{args.seed}"
        tag += "" if forms == FORMULATIONS else "_" + "_".join(forms)
        tag += "" if reuse is None else "_ls"
        (args.out / f"paper_c_random{tag}.json").write_text(json.dumps(recs, indent=1))
        if reuse is None:
            print("plot:", plot_times(recs, args.out / f"paper_c_milp_times{tag}.png", args.cap))
        print(summarize(recs))
        print("largest n solved on every instance:", largest_solved(recs))
        print("fastest to prove optimality:", fastest_counts(recs))
        print("local search against the proven optima:", local_search_quality(recs))
    if args.experiment in ("bitcoin", "all"):
        opts = None if args.perturbations is None else {"perturbations": args.perturbations}
        recs = bitcoin_experiment(args.dataset, seed=args.seed, time_limit=args.time_limit,
                                  local_search=opts, log=print)
        print(json.dumps({k: v for k, v in recs[0].items() if k != "seeds"}))
        tag = "" if args.time_limit is None else f"_tl{args.time_limit:g}"
        tag += "" if args.perturbations is None else f"_p{args.perturbations}"
        (args.out / f"paper_c_bitcoin{tag}.json").write_text(json.dumps(recs, indent=1))


if __name__ == "__main__":
    main()
