"""Rewrite an NIE training-set file with other features, without labelling again.

Labels and instances do not depend on the feature radius ``h``, the weight rule or the
sampled-world feature (``worlds``), so a labelled file can be refeaturized for another variant
(:func:`influence_gpu.nie.refeaturize_training_set`). The output goes where ``conf/data/nie.yaml``
would look for that variant, so ``evaluate.py experiment=ibm_<network>
ibm.data.generation.worlds=<W>`` then trains on it without simulating.

Usage:
    python benchmarks/nie_refeaturize.py email_eu_core \\
        outputs/nie_data/email_eu_core_i6000_r500_s0_l0.5_h2_wedge_sw0r0.pt --worlds 1000 \\
        --roots-per-world 16
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paper_b_ablation import load_network  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Refeaturize one file (see the module docstring)."""
    from influence_gpu.nie import refeaturize_training_set
    from influence_gpu.nie.instances import load_training_set

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("source", type=Path)
    ap.add_argument("--worlds", type=int, required=True)
    ap.add_argument("--worlds-seed", type=int, default=0)
    ap.add_argument("--roots-per-world", type=int, default=0)
    ap.add_argument("--h", type=int, default=None, help="feature radius (default: the source's)")
    args = ap.parse_args(argv)
    graph = load_network(args.network)
    cfg = load_training_set(args.source, graph, require_complete=True)["config"]
    h = cfg["h"] if args.h is None else args.h
    name = re.sub(r"_h\d+_w(\w+?)(_sw\d+(r\d+)?)?\.pt$",
                  rf"_h{h}_w\1_sw{args.worlds}r{args.roots_per_world}.pt", args.source.name)
    out = args.source.with_name(name)
    t0 = time.perf_counter()
    refeaturize_training_set(graph, args.source, out, h, worlds=args.worlds,
                             worlds_seed=args.worlds_seed, roots_per_world=args.roots_per_world,
                             progress=True)
    print(f"{out} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
