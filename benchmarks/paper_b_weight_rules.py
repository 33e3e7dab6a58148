"""How well the interrelation feature alone ranks single truth seeds, per weight rule (paper B).

For each of a network's five benchmark problems (``evaluate.py task=ibm`` defaults: problem
seed 2024, candidates ``N_2(S_F) \\ S_F``) this estimates the blocked influence of every
singleton ``S_T = {v}`` with ``--runs`` competitive-IC runs on common worlds, computes the
interrelation feature ``I`` of ``({v}, S_F)`` under paper B's Alg. 1 weights and under the
per-arc weights (``weight_rule="edge"``), and prints the Spearman correlation of each with the
simulated values and the simulated value of each rule's top-ranked node against the best one.

Usage:
    python benchmarks/paper_b_weight_rules.py power_law_768 --h 4
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_b_ablation import load_network  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Print the table (see the module docstring); optionally write it as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--h", type=int, default=2, help="feature radius of I")
    ap.add_argument("--runs", type=int, default=4000, help="MC runs per singleton")
    ap.add_argument("--problem-seed", type=int, default=2024)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from scipy.stats import spearmanr

    from influence_gpu.apps.blocking import draw_ibm_problems
    from influence_gpu.diffusion.competitive import blocked_influence_batch
    from influence_gpu.graph.neighbourhoods import hop_neighbourhood
    from influence_gpu.graph.statistics import compute_statistics
    from influence_gpu.nie.features import WEIGHT_RULES, NIEFeaturizer

    g = load_network(args.network)
    stats = compute_statistics(g)
    fz = {r: NIEFeaturizer(g, stats, h=args.h, weight_rule=r, dtype=torch.float64)
          for r in WEIGHT_RULES}
    rows = []
    print(f"{args.network}, I with h = {args.h}, {args.runs} runs per singleton")
    print("problem | candidates | best singleton (MC) | "
          + " | ".join(f"{r}: Spearman, MC of its top node" for r in WEIGHT_RULES))
    for p, (f, _) in enumerate(draw_ibm_problems(g, 5, x=0.1, seed=args.problem_seed)):
        cand = hop_neighbourhood(g, f, 2)
        cand = cand[~torch.isin(cand, f)]
        sets = [v.view(1) for v in cand]
        mc = blocked_influence_batch(g, f, sets, args.runs, key=7 + p).double()
        row = {"problem": p + 1, "candidates": int(cand.numel()), "best_mc": float(mc.max())}
        for r, z in fz.items():
            inter = z.features(f, sets)[:, 6]
            row[r] = {"spearman": float(spearmanr(inter.numpy(), mc.numpy()).statistic),
                      "top_node_mc": float(mc[int(torch.argmax(inter))])}
        rows.append(row)
        print(f"{p + 1} | {row['candidates']} | {row['best_mc']:.2f} | " + " | ".join(
            f"{row[r]['spearman']:.3f}, {row[r]['top_node_mc']:.2f}" for r in WEIGHT_RULES),
            flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"network": args.network, "h": args.h,
                                         "runs": args.runs, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
