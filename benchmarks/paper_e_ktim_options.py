"""KTIM's documented options (DESIGN 7.3) on the paper E networks: which reading comes nearest CELF.

Paper E's KTIM formulas are lost; DESIGN 7.3 fixes one reading and names the open choices as
options: ``direction`` (TC over out-arcs, or in- plus out-arcs), ``same_layer`` (CD counts only
neighbours in the node's own layer) and the candidate set size. This script scores every
combination at k = 50 with the same temporal IC worlds (``--runs`` runs, one hash key) beside
CELF's and IMM's seeds from a paper E run's metrics.json, so a choice made on one network can be
confirmed on another::

    python benchmarks/paper_e_ktim_options.py --network email-Eu-core-temporal \
        --metrics outputs/paper_e_email_eu_core_temporal/<run>/metrics.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import warnings

import torch

from influence_gpu import load_graph
from influence_gpu.diffusion._common import as_seed_tensor
from influence_gpu.diffusion.base import TemporalIC
from influence_gpu.selection.temporal import KTIM


def main() -> None:
    """Command-line entry: print one line per option combination."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", required=True)
    ap.add_argument("--metrics", required=True, help="metrics.json of a paper E run")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5000)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*self-loop.*")
    g = load_graph(args.network, prob_scheme="contact_count")
    records = json.loads(open(args.metrics).read())["results"]
    ref = {r["method"]: r["seeds"] for r in records if r["k"] == args.k}
    diffusion = TemporalIC(args.runs, key=12345)
    sets, names = [], []
    for method in ("celf", "imm", "degree_discount"):
        if method in ref:
            names.append(method)
            sets.append(as_seed_tensor(g, ref[method], f"{method} seeds"))  # labels -> ids
    for direction, same, cands in itertools.product(("out", "both"), (False, True),
                                                    (50, 100, 200, 400)):
        res = KTIM(num_candidates=cands, direction=direction, same_layer=same).select(g, args.k)
        names.append(f"ktim direction={direction} same_layer={same} candidates={cands}")
        sets.append(torch.as_tensor(res.ids))
    means, stderrs = diffusion.estimate(g, sets)
    best = float(means[0])
    print(f"{args.network}, k = {args.k}, {args.runs} temporal IC runs on one set of worlds")
    for name, m, s in zip(names, means.tolist(), stderrs.tolist(), strict=True):
        print(f"{m:9.1f} ± {s:4.1f}  {100 * (m / best - 1):+6.1f}% of {names[0]}  {name}")


if __name__ == "__main__":
    main()
