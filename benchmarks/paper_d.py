"""Paper D's experiments: ICC as a ranking, and C-SPIN / C-SGA against SPIN, SGA, greedy, CELF++.

For each network (karate, polbooks, adjnoun, celegansneural, netscience; the paper's Delicious
graph is not available) and each model (minimum threshold, multiplication threshold, LT; weights
``lt_weights``, ``b(u, v) = multiplicity / indeg(v)``):

(a) rankings: the top ``k`` nodes by ICC (DESIGN 7.4's score: ``active - blocked`` for the two
    threshold models, ``active`` for LT), by ``ICC_active`` alone, by plain closeness and by
    out-degree;
(b) selectors: C-SPIN, C-SGA (also with the ``ICC_active`` shortlist), SPIN, SGA and plain
    greedy hill climbing; (c) under LT also CELF++.

``k = 1..10`` (on netscience also 15, 20, 25, 30). Every set is re-scored with 10,000 runs
on one common set of threshold draws (one generator seed for all methods), and the records
(spread, blocked, stderr, wall and CPU seconds per network, model, method and k) go to
``benchmarks/results/paper_d.json``; one PNG per network plots spread against k for the three
models. (Paper D's Delicious graph is not available here.)

The experiment lives in :mod:`influence_gpu.experiments.paper_d` (:func:`run_network_model`
per (network, model), :func:`run_experiment` over many, :func:`default_methods`, the plots and
tables); this script is its command line. The same runs through Hydra::

    python evaluate.py experiment=paper_d            # all five networks, 2 workers
    python evaluate.py experiment=paper_d_karate     # one network

Usage:
    python benchmarks/paper_d.py                       # everything (about 30 minutes, 2 cores)
    python benchmarks/paper_d.py --networks karate polbooks --models lt --seed 1
    python benchmarks/paper_d.py --from-json benchmarks/results/paper_d.json  # plots, tables
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from influence_gpu.experiments.paper_d import (
    MODELS,
    NETWORKS,
    Network,
    default_methods,
    plot,
    run_experiment,
    tables,
)
from influence_gpu.graph import load_graph

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run the chosen networks and models, write JSON, PNGs and tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", nargs="+", default=list(NETWORKS))
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--methods", nargs="+", default=None, help="subset of the default methods")
    ap.add_argument("--ks", type=int, nargs="+", default=None, help="override the ks")
    ap.add_argument("--num-samples", type=int, default=100, help="runs per fitness evaluation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-runs", type=int, default=10_000)
    ap.add_argument("--eval-seed", type=int, default=12345)
    ap.add_argument("--workers", type=int, default=2,
                    help="processes, one torch thread each ((network, model) runs in parallel)")
    ap.add_argument("--out", default=str(RESULTS / "paper_d.json"))
    ap.add_argument("--from-json", default=None,
                    help="only redraw the plots and print the tables of a saved run")
    args = ap.parse_args(argv)
    if args.from_json:
        src = Path(args.from_json)
        records = json.loads(src.read_text())["records"]
        for net in dict.fromkeys(r["network"] for r in records):
            plot(records, net, src.with_name(f"{src.stem}_{net}.png"))
        print(tables(records))
        return
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    methods = default_methods()
    if args.methods:
        methods = [m for m in methods if m.name in args.methods]
    models = {m: MODELS[m](num_samples=args.num_samples) for m in args.models}
    # largest first, so the two workers finish together; records are re-sorted below
    size = {"netscience": 5, "celegansneural": 4, "adjnoun": 2, "polbooks": 2, "karate": 1}
    networks = [Network(net, functools.partial(load_graph, net, prob_scheme="lt_weights"),
                        args.ks or NETWORKS.get(net, list(range(1, 11))))
                for net in sorted(args.networks, key=lambda n: -size.get(n, 3))]
    meta: dict[str, Any] = {
        "command": "python benchmarks/paper_d.py " + " ".join(argv or []),
        "seed": args.seed, "eval_runs": args.eval_runs, "eval_seed": args.eval_seed,
        "num_samples": args.num_samples, "workers": args.workers, "torch_threads": 1,
        "defaults": {m.name: repr(m.build(models[args.models[0]])) for m in methods}}
    t_all = time.perf_counter()

    def save(records: list[dict[str, Any]], timing: dict[str, list[float]]) -> None:
        meta["seconds_total"] = time.perf_counter() - t_all
        meta["seconds_per_network_model"] = timing
        meta["cpu_seconds_total"] = sum(t[1] for t in timing.values())
        lines = ",\n".join(json.dumps(r, default=str) for r in records)
        out.write_text(f'{{"meta": {json.dumps(meta, indent=1)},\n"records": [\n{lines}\n]}}\n')

    records, timing = run_experiment(
        networks, models, methods, seed=args.seed, eval_runs=args.eval_runs,
        eval_seed=args.eval_seed, workers=args.workers, progress=True,
        log=lambda msg: print(msg, flush=True), on_result=save)
    order = {m.name: i for i, m in enumerate(methods)}
    records.sort(key=lambda r: (list(NETWORKS).index(r["network"]) if r["network"] in NETWORKS
                                else 99, list(MODELS).index(r["model"]),
                                order.get(r["method"], 99), r["k"]))
    save(records, timing)
    for net in dict.fromkeys(r["network"] for r in records):
        plot(records, net, out.with_name(f"{out.stem}_{net}.png"), eval_runs=args.eval_runs)
    print(tables(records))
    print(f"\ntotal {meta['seconds_total']:.1f}s; wrote {out}")


if __name__ == "__main__":
    main()
