"""Linear threshold: our native and torch backends against CyNetDiff, quiet and beside busy CPUs.

Workload: Barabasi-Albert, n = 100,000, m = 5, weighted cascade weights b(u, v) = 1 / indeg(v),
the 50 highest-degree seeds, 1,000 runs. Every contender gets the same CSR arcs, weights and
seeds. Printed: runs per second of each (median of ``--repeats`` interleaved timed calls after a
warm-up), mean spread +- standard error, and our rates divided by CyNetDiff's, all measured in
this one process. The torch backend and CyNetDiff are timed on fewer runs (``--torch-runs``,
``--peer-runs``); a rate is per run, so the figures compare.

``--busy N`` (default 3) then repeats the measurement beside N processes that spin on a CPU each,
and prints every rate beside its quiet value: a kernel that keeps its threads in step with
barriers collapses when one of them is descheduled; the native kernel hands runs to threads one
or two at a time, so it should keep its share of the CPUs. The load average is printed with each
phase (the machine may be shared).

Usage:
    python benchmarks/lt_speed.py               # quiet + busy
    python benchmarks/lt_speed.py --busy 0      # quiet only
    python benchmarks/lt_speed.py --quick       # small graph, smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _busy import busy_processes  # noqa: E402
from simulate_vs_peers import cynetdiff_call, interleaved, top_degree  # noqa: E402

from influence_gpu.diffusion.lt import simulate_lt  # noqa: E402
from influence_gpu.graph import assign_probabilities  # noqa: E402
from influence_gpu.graph.generators import barabasi_albert  # noqa: E402
from influence_gpu.kernels.native import native_threads  # noqa: E402


def ours_call(graph, seeds, runs: int, backend: str):
    """A zero-argument callable running our LT simulator; returns (mean, stderr)."""
    gen = torch.Generator().manual_seed(0)

    def call():
        res = simulate_lt(graph, seeds, runs, generator=gen, backend=backend)
        return res.mean, res.stderr

    return call


def measure(calls, runs, repeats):
    load = os.getloadavg()
    timed = interleaved(calls, runs, repeats)
    return timed, load


def report(title, timed, load, quiet=None):
    print(f"\n{title} (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    peer = timed["cynetdiff"][0]
    for who, (rate, mean, se) in timed.items():
        line = f"  {who:>12}: {rate:9.1f} runs/s   mean {mean:9.1f} +- {se:6.1f}"
        line += f"   x CyNetDiff {rate / peer:6.2f}"
        if quiet is not None:
            line += f"   busy/quiet {rate / quiet[who][0]:5.2f}"
        print(line)
    sys.stdout.flush()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--torch-runs", type=int, default=20)
    ap.add_argument("--peer-runs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--busy", type=int, default=3, help="busy processes for the busy phase")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "lt_speed.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.nodes, args.runs, args.torch_runs, args.peer_runs, args.repeats = (
            5000, 200, 50, 50, 1)

    g = assign_probabilities(barabasi_albert(args.nodes, 5, seed=0), "weighted_cascade")
    seeds = top_degree(g, 50)
    print(
        f"BA n={g.num_nodes} m=5, {g.num_edges} arcs, weighted cascade, 50 top-degree seeds; "
        f"native threads {native_threads()}, torch threads {torch.get_num_threads()}, "
        f"cpus {os.cpu_count()}; CyNetDiff is single-threaded"
    )
    calls = {
        "ours_native": ours_call(g, seeds, args.runs, "native"),
        "ours_torch": ours_call(g, seeds, args.torch_runs, "torch"),
        "cynetdiff": cynetdiff_call(g, seeds, args.peer_runs, model="lt"),
    }
    runs = {"ours_native": args.runs, "ours_torch": args.torch_runs, "cynetdiff": args.peer_runs}
    quiet, qload = measure(calls, runs, args.repeats)
    report("quiet", quiet, qload)
    result = {
        "nodes": g.num_nodes,
        "edges": g.num_edges,
        "runs": runs,
        "native_threads": native_threads(),
        "quiet": {k: {"runs_per_s": v[0], "mean": v[1], "stderr": v[2]} for k, v in quiet.items()},
        "quiet_load": qload,
    }
    if args.busy > 0:
        with busy_processes(args.busy):
            busy, bload = measure(calls, runs, args.repeats)
        report(f"beside {args.busy} busy processes", busy, bload, quiet)
        result["busy_processes"] = args.busy
        result["busy"] = {
            k: {"runs_per_s": v[0], "busy_over_quiet": v[0] / quiet[k][0]}
            for k, v in busy.items()
        }
        result["busy_load"] = bload
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
