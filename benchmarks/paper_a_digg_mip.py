"""Paper A Table 3 with the LT / RW learning MIPs on the Digg observations (issue 3, in progress).

The friendship graph of the Digg data was never published, so the candidate in-edges are
inferred from the 300 training stories only (co-activation lift, see
``influence_gpu.learn.candidate_graph``); the last 106 stories are the test set.

Usage:
    python benchmarks/paper_a_digg_mip.py lt --time-limit 0.5 --top-m 24
    python benchmarks/paper_a_digg_mip.py rw --time-limit 0.5 --top-m 24 --two-hop-m 24
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from influence_gpu.cascades import load_digg_qiang2019, majority_accuracy
from influence_gpu.graph import datasets_dir
from influence_gpu.learn.candidate_graph import cooccurrence_candidate_graph
from influence_gpu.learn.mip import LTMIPModel, RWMIPModel


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("model", choices=["lt", "rw"])
    ap.add_argument("--time-limit", type=float, default=0.5, help="seconds per node problem")
    ap.add_argument("--top-m", type=int, default=24, help="candidate sources per target")
    ap.add_argument("--two-hop-m", type=int, default=None, help="RW: prune A^2 to top-m")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--checkpoint", default=None, help="resume file for solved nodes")
    args = ap.parse_args(argv)

    d = load_digg_qiang2019(datasets_dir(), graph="complete")
    x0, xT = d.x0, d.xT
    tr, te = slice(0, 300), slice(300, None)
    t = time.perf_counter()
    ei = cooccurrence_candidate_graph(x0[tr], xT[tr], top_m=args.top_m, min_count=3, min_lift=1.0)
    n = x0.shape[1]
    print(
        f"candidate graph: {ei.shape[1]} arcs in {time.perf_counter() - t:.2f} s; max in-degree "
        f"{int(torch.bincount(ei[1], minlength=n).max())}"
    )
    print("majority test accuracy", majority_accuracy(xT[tr], xT[te]))
    kw = dict(
        time_limit=args.time_limit,
        executor="process",
        workers=args.workers,
        progress=False,
        checkpoint_path=args.checkpoint,
    )
    if args.model == "lt":
        model = LTMIPModel(ei, n, **kw)
    else:
        model = RWMIPModel(ei, n, top_m=args.two_hop_m, **kw)
    out = model.fit_tensors(x0[tr], xT[tr], x0[te], xT[te])
    out["majority_test_acc"] = majority_accuracy(xT[tr], xT[te])
    out["candidate_arcs"] = int(ei.shape[1])
    out["command"] = "python benchmarks/paper_a_digg_mip.py " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:])
    text = json.dumps(out, indent=1, default=str)
    print(text)
    print(model.format_node_table(10))
    tag = args.model + ("" if args.two_hop_m is None else f"_m{args.two_hop_m}")
    path = Path(__file__).resolve().parent / "results" / f"paper_a_digg_{tag}_mip.json"
    path.write_text(text + "\n")


if __name__ == "__main__":
    main()
