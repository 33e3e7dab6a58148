"""Label noise of NIE training sets (paper B): the R² ceiling of R-run blocked-influence labels.

Labels the same paper-recipe instances twice with independent worlds; the noise variance of one
label is ``mean((a - b)^2) / 2`` and the best R² any model can reach against such labels is
``1 - noise / var(label)`` (``var`` of the labels, noise included).

Usage: python benchmarks/paper_b_label_noise.py power_law_768 email_eu_core p2p_gnutella08
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_b_ablation import load_network  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Print the noise variance and R² ceiling for 100 and 1,000 runs per label."""
    from influence_gpu.nie.instances import label_instances, sample_instances

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("networks", nargs="+")
    ap.add_argument("--instances", type=int, default=500)
    ap.add_argument("--runs", default="100,1000")
    args = ap.parse_args(argv)
    for name in args.networks:
        g = load_network(name)
        inst = sample_instances(g, args.instances, generator=torch.Generator().manual_seed(1))
        for r in (int(x) for x in args.runs.split(",")):
            t0 = time.perf_counter()
            a = label_instances(g, inst, r, generator=torch.Generator().manual_seed(2))
            seconds = time.perf_counter() - t0
            b = label_instances(g, inst, r, generator=torch.Generator().manual_seed(3))
            noise = float(((a - b) ** 2).mean() / 2)
            var = float(torch.cat([a, b]).var())
            print(f"{name} R={r}: label mean {float(a.mean()):.3f}, variance {var:.4f}, noise "
                  f"variance {noise:.4f}, R2 ceiling {1 - noise / var:.3f} "
                  f"({seconds / len(inst) * 1000:.1f} ms per label)", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
