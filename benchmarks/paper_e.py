"""Paper E (KT / KTIM, improved k-shell on temporal networks) against its peers and temporal IMM.

The experiment is :func:`influence_gpu.experiments.paper_e.run_network` (see its module for the
workload); this script runs it on several networks from the command line and writes JSON and
one PNG per network. The same runs through Hydra::

    python evaluate.py experiment=paper_e_email_eu_core_temporal   # also _collegemsg,
                                                                   # _mathoverflow, _askubuntu

Command line::

    python benchmarks/paper_e.py --networks email-Eu-core-temporal CollegeMsg --mc-time-limit 240
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

from influence_gpu import load_graph
from influence_gpu.experiments.paper_e import (
    CELF_NETWORKS,
    METHODS,
    default_methods,
    plot,
    run_network,
)

RESULTS = Path(__file__).with_name("results")


def main() -> None:
    """Command-line entry: run the networks, write JSON and one PNG per network."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", nargs="+", default=list(CELF_NETWORKS))
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--ks", type=int, nargs="+", default=None)
    ap.add_argument("--rescore-runs", type=int, default=1000)
    ap.add_argument("--mc-time-limit", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "paper_e.json"))
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*self-loop.*")
    all_records: list[dict[str, Any]] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.networks:
        t = time.perf_counter()
        g = load_graph(name, prob_scheme="contact_count")
        print(f"{name}: {g} loaded in {time.perf_counter() - t:.1f} s", flush=True)
        # CELF (1,000 runs) only on the two small networks (issue 12)
        names = [m for m in args.methods if m != "celf" or name in CELF_NETWORKS]
        methods = default_methods(names, mc_time_limit=args.mc_time_limit)
        recs = run_network(g, methods, network=name, rescore_runs=args.rescore_runs,
                           rescore_key=args.seed + 12345, seed=args.seed,
                           **({"ks": args.ks} if args.ks else {}),
                           log=lambda msg: print(msg, flush=True))
        all_records += recs
        out.write_text(json.dumps(all_records, indent=1, default=str))
        plot(recs, name, RESULTS / f"paper_e_{name}.png")


if __name__ == "__main__":
    main()
