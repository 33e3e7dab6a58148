"""Temporal IC speed: native kernel, torch path and static IC on the same arcs, in one run.

Workload: email-Eu-core-temporal with contact-count probabilities ``p(u, v) = n_uv / sum_w n_wv``
(as in ``benchmarks/paper_e.py``), the 50 nodes of largest out-degree as seeds. Timed, each the
median of ``--repeats`` calls interleaved between contenders after one untimed warm-up call:

* temporal IC, native kernel (``simulate_temporal_ic(..., backend="native")``), ``--runs`` runs;
* temporal IC, torch path (``backend="torch"``), ``--torch-runs`` runs (a rate, comparable);
* static IC, native kernel, on the same arcs and probabilities (contact times ignored), with the
  default geometric-skip sampler and with the hash sampler (the same coins as temporal IC).

Printed: runs per wall-clock second and per CPU-second of each, and the ratios temporal native /
static native, with the load average (the machine may be shared: the CPU-second rates are the
ones other processes disturb least). ``--busy`` then starts ``--busy-procs`` CPU-bound Python
processes (``while True: pass``), measures everything again beside them and prints each rate
beside the quiet one; the busy processes are stopped at the end.

Usage::

    python benchmarks/temporal_speed.py                  # quiet only
    python benchmarks/temporal_speed.py --busy           # quiet, then beside 3 busy processes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _busy import busy_processes  # noqa: E402

from influence_gpu import load_graph  # noqa: E402
from influence_gpu.diffusion.ic import simulate_ic  # noqa: E402
from influence_gpu.diffusion.temporal import simulate_temporal_ic  # noqa: E402
from influence_gpu.kernels.native import native_threads  # noqa: E402


def _loadavg() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


def measure(
    contenders: dict[str, tuple[Callable[[], object], int]], repeats: int
) -> tuple[dict, dict]:
    """Median runs/s of each contender, calls interleaved, one warm-up call each.

    Returns:
        ``(wall, cpu)``: runs per wall-clock second, and runs per CPU-second of this process
        (all its threads), which other processes on a shared machine disturb much less.
    """
    for fn, _ in contenders.values():
        fn()
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, (fn, _) in contenders.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    runs = {name: contenders[name][1] for name in contenders}
    return (
        {name: runs[name] / statistics.median(ts) for name, ts in wall.items()},
        {name: runs[name] / statistics.median(ts) for name, ts in cpu.items()},
    )


def main() -> None:
    """Command-line entry."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="email-Eu-core-temporal")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--torch-runs", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--busy", action="store_true", help="also measure beside busy processes")
    ap.add_argument("--busy-procs", type=int, default=3)
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*self-loop.*")

    t = time.perf_counter()
    g = load_graph(args.network, prob_scheme="contact_count")
    print(f"{args.network}: {g} ({g.time_values.numel():,} contacts) loaded in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    deg = g.out_degree()
    seeds = torch.argsort(-deg, stable=True)[: args.seeds]
    key = 12345
    R, Rt = args.runs, args.torch_runs
    contenders = {
        "temporal native": (
            lambda: simulate_temporal_ic(g, seeds, R, key=key, backend="native"), R),
        "temporal torch": (
            lambda: simulate_temporal_ic(g, seeds, Rt, key=key, backend="torch"), Rt),
        "static native skip": (lambda: simulate_ic(g, seeds, R, key=key, backend="native"), R),
        "static native hash": (
            lambda: simulate_ic(g, seeds, R, sampler="hash", key=key, backend="native"), R),
    }
    a = simulate_temporal_ic(g, seeds, Rt, key=key, backend="native")
    b = simulate_temporal_ic(g, seeds, Rt, key=key, backend="torch")
    assert torch.equal(a.spreads, b.spreads), "native and torch temporal IC disagree"
    static = simulate_ic(g, seeds, R, sampler="hash", key=key).mean
    print(f"mean spread: temporal {a.mean:.2f} (native == torch on {Rt} runs), static {static:.2f}")
    print(f"native threads {native_threads()}, torch threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}")

    def report(label: str, rates: tuple[dict, dict], base: tuple[dict, dict] | None = None):
        wall, cpu = rates
        print(f"\n[{label}] load average {_loadavg()}")
        for name in wall:
            beside = ""
            if base:
                beside = f"   (quiet {base[0][name]:>9,.0f}, x{wall[name] / base[0][name]:.2f})"
            print(f"  {name:<20} {wall[name]:>10,.0f} runs/s {cpu[name]:>10,.0f} runs/cpu-s"
                  f"{beside}")
        for static_name in ("static native skip", "static native hash"):
            print(f"  ratio temporal native / {static_name}: "
                  f"{wall['temporal native'] / wall[static_name]:.3f} wall, "
                  f"{cpu['temporal native'] / cpu[static_name]:.3f} cpu")
        print(f"  ratio temporal native / temporal torch: "
              f"{wall['temporal native'] / wall['temporal torch']:.1f} wall, "
              f"{cpu['temporal native'] / cpu['temporal torch']:.1f} cpu", flush=True)

    record: dict = {"network": args.network, "runs": R, "torch_runs": Rt,
                    "load_before": os.getloadavg()}
    quiet = measure(contenders, args.repeats)
    report("quiet", quiet)
    record["quiet"] = quiet
    if args.busy:
        with busy_processes(args.busy_procs):
            busy = measure(contenders, args.repeats)
        report(f"beside {args.busy_procs} busy processes", busy, quiet)
        record["busy"] = busy
    record["load_after"] = os.getloadavg()
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
