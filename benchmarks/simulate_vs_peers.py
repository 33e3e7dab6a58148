"""Independent cascade: influence_gpu against CyNetDiff and NDlib on the same workloads.

Every peer gets the same graph (same CSR arcs), the same weighted-cascade probabilities
p(u, v) = 1 / indeg(v), the same seeds (highest out-degree) and the same number of runs. Printed
per workload: runs per second, mean spread +- standard error, and our rate divided by each
peer's, all measured in this one process. Each rate is the median of ``--repeats`` timed calls,
interleaved between contenders, after one untimed warm-up call. NDlib is pure Python and
re-scans every node each iteration, so it is timed on ``--ndlib-runs`` runs (a rate, comparable
as runs/s).

Then a scaling curve: runs/s against the number of edges (Barabasi-Albert, m = 5, 1e4..1e7 arcs)
and against the batch size, saved as PNG, with everything written to JSON.

Usage:
    python benchmarks/simulate_vs_peers.py                 # all workloads + scaling
    python benchmarks/simulate_vs_peers.py --quick         # smaller, for a smoke test
    python benchmarks/simulate_vs_peers.py --device cuda   # our simulator on a GPU
"""

from __future__ import annotations

import argparse
import array
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _busy import busy_processes  # noqa: E402

from influence_gpu import DiffusionGraph
from influence_gpu.diffusion.ic import simulate_ic
from influence_gpu.graph import assign_probabilities, load_graph
from influence_gpu.graph.generators import barabasi_albert

HERE = Path(__file__).resolve().parent
BACKEND_LABEL = "native"


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ours_call(
    graph: DiffusionGraph, seeds: torch.Tensor, runs: int, device: str, backend: str = "auto"
):
    """A zero-argument callable running our simulator; returns (mean, stderr)."""
    g = graph.to(device)
    s = seeds.to(device)
    gen = torch.Generator(device=device).manual_seed(0)

    def call():
        res = simulate_ic(g, s, runs, generator=gen, backend=backend)
        sync(device)
        return res.mean, res.stderr

    return call


def cynetdiff_call(graph: DiffusionGraph, seeds: torch.Tensor, runs: int, model: str = "ic"):
    """A zero-argument callable running CyNetDiff's IC (or ``model="lt"``: LT) ``runs`` times.

    The callable returns ``(mean, stderr)`` of the activated counts.
    """
    from cynetdiff.models import IndependentCascadeModel, LinearThresholdModel

    starts = array.array("I", graph.rowptr[:-1].tolist())
    edges = array.array("I", graph.col.tolist())
    probs = array.array("f", graph.edge_prob.tolist())
    if model == "lt":
        model = LinearThresholdModel(starts, edges, influence=probs, rng=0)
    else:
        model = IndependentCascadeModel(starts, edges, activation_probs=probs, rng=0)
    model.set_seeds(seeds.tolist())
    counts = np.empty(runs)

    def call():
        for r in range(runs):
            model.reset_model()
            model.advance_until_completion()
            counts[r] = model.get_num_activated_nodes()
        return float(counts.mean()), float(counts.std(ddof=1) / np.sqrt(runs))

    return call


def interleaved(calls: dict, runs: dict, repeats: int) -> dict:
    """Time several callables alternately (after one warm-up each); median runs/s per name.

    Alternating the calls exposes every contender to the same drift of the machine (clock,
    other processes), so the ratios stay meaningful on a noisy shared CPU.
    """
    out = {name: fn() for name, fn in calls.items()}  # warm-up: caches, allocator, page faults
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            t0 = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (runs[name] / statistics.median(times[name]), *out[name]) for name in calls}


def ndlib(graph: DiffusionGraph, seeds: torch.Tensor, runs: int):
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc  # noqa: N813 - the name NDlib documents
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(range(graph.num_nodes))
    src, dst, p = graph.src.tolist(), graph.col.tolist(), graph.edge_prob.tolist()
    G.add_edges_from(zip(src, dst, strict=False))
    cfg = mc.Configuration()
    cfg.add_model_initial_configuration("Infected", seeds.tolist())
    for u, v, q in zip(src, dst, p, strict=False):
        cfg.add_edge_configuration("threshold", (u, v), q)
    counts = []
    t0 = time.perf_counter()
    for r in range(runs):
        model = ep.IndependentCascadesModel(G, seed=r)
        model.set_initial_status(cfg)
        while True:
            it = model.iteration(node_status=False)
            if it["node_count"][1] == 0 and it["iteration"] > 0:
                break
        counts.append(it["node_count"][2])
    dt = time.perf_counter() - t0
    c = np.asarray(counts, dtype=float)
    se = float(c.std(ddof=1) / np.sqrt(len(c))) if len(c) > 1 else float("nan")
    return runs / dt, float(c.mean()), se


def top_degree(graph: DiffusionGraph, k: int) -> torch.Tensor:
    deg = graph.out_degree()
    # stable: highest degree first, lower id on ties
    order = torch.argsort(-deg * graph.num_nodes + torch.arange(graph.num_nodes), stable=True)
    return order[:k]


def workloads(args):
    g = assign_probabilities(barabasi_albert(args.ba_nodes, 5, seed=0), "weighted_cascade")
    yield f"BA n={args.ba_nodes} m=5 WC", g, top_degree(g, 50), args.runs
    for name in ("email-Eu-core", "p2p-Gnutella08"):
        try:
            g = assign_probabilities(load_graph(name), "weighted_cascade")
        except FileNotFoundError as err:
            print(f"[skip] {name}: {err}")
            continue
        yield f"{name} WC", g, top_degree(g, 50), args.runs


def fmt_row(cols, widths):
    return "  ".join(str(c).rjust(w) for c, w in zip(cols, widths, strict=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--ba-nodes", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ndlib-runs", type=int, default=3, help="NDlib runs on graphs > 10k nodes")
    ap.add_argument("--ndlib-small-runs", type=int, default=20)
    ap.add_argument("--no-ndlib", action="store_true")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--max-edges", type=float, default=1e7)
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    ap.add_argument("--busy", type=int, default=0,
                    help="then time the BA workload again beside this many busy processes")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    if args.quick:
        args.ndlib_small_runs = 2
        args.runs, args.ba_nodes, args.repeats, args.ndlib_runs, args.max_edges = (
            100,
            5000,
            1,
            1,
            1e5,
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
        f"cpu count {os.cpu_count()}; CyNetDiff and NDlib are single-threaded CPU code"
    )
    global BACKEND_LABEL
    BACKEND_LABEL = "native" if args.device == "cpu" else args.device
    widths = (24, 15, 11, 20, 12, 9)
    header = ("workload", "simulator", "runs/s", "mean +- se", "x CyNetDiff", "x NDlib")
    print(fmt_row(header, widths))
    results = {"device": args.device, "threads": torch.get_num_threads(), "workloads": []}
    for name, g, seeds, runs in workloads(args):
        rec = {"workload": name, "nodes": g.num_nodes, "edges": g.num_edges, "runs": runs}
        calls = {"ours": ours_call(g, seeds, runs, args.device)}
        if args.device == "cpu":  # the pure-torch path too (the fallback, and the GPU code path)
            calls["ours_torch"] = ours_call(g, seeds, runs, args.device, backend="torch")
        calls["cynetdiff"] = cynetdiff_call(g, seeds, runs)
        timed = interleaved(calls, dict.fromkeys(calls, runs), args.repeats)
        if not args.no_ndlib:
            # NDlib re-scans every node per iteration: few runs on the big graph, more on small
            small = g.num_nodes <= 10_000
            timed["ndlib"] = ndlib(g, seeds, args.ndlib_small_runs if small else args.ndlib_runs)
        for who, (rate, mean, se) in timed.items():
            rec[who] = {"runs_per_s": rate, "mean": mean, "stderr": se}
            for peer in ("cynetdiff", "ndlib"):
                if peer in timed:
                    rec[who][f"x_{peer}"] = rate / timed[peer][0]
        for who, r in rec.items():
            if not isinstance(r, dict):
                continue
            label = {"ours": f"ours ({BACKEND_LABEL})", "ours_torch": "ours (torch)"}.get(who, who)
            cols = (
                name if who == "ours" else "",
                label,
                f"{r['runs_per_s']:,.1f}",
                f"{r['mean']:,.1f} +- {r['stderr']:.1f}",
                f"{r.get('x_cynetdiff', float('nan')):.2f}",
                f"{r.get('x_ndlib', float('nan')):,.1f}",
            )
            print(fmt_row(cols, widths))
        results["workloads"].append(rec)
        sys.stdout.flush()
        if args.busy and name.startswith("BA"):  # the shared-machine case (issue 10)
            with busy_processes(args.busy):
                load = os.getloadavg()[0]
                busy = interleaved(calls, dict.fromkeys(calls, runs), args.repeats)
            rec["busy"] = {"processes": args.busy, "load": load}
            for who, (rate, _, _) in busy.items():
                keep = rate / rec[who]["runs_per_s"]
                rec["busy"][who] = {"runs_per_s": rate, "busy_over_quiet": keep}
                print(f"  beside {args.busy} busy processes (load {load:.1f}): {who:>10} "
                      f"{rate:,.1f} runs/s, {keep:.2f} of quiet")

    if not args.no_scaling:
        results["scaling_edges"] = scaling_edges(args)
        results["scaling_batch"] = scaling_batch(args)
        plot(results, out / "ic_scaling.png")
        print(f"saved {out / 'ic_scaling.png'}")
    path = out / f"simulate_vs_peers_{args.device.replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"saved {path}")
    return 0


def scaling_edges(args):
    print("\nscaling with graph size (BA m=5, weighted cascade, 50 top-degree seeds)")
    print(
        fmt_row(
            ("arcs", "nodes", "runs", "ours runs/s", "cynetdiff runs/s", "ratio"),
            (10, 9, 6, 12, 17, 7),
        )
    )
    rows = []
    n = 1000
    while 10 * n <= args.max_edges:
        g = assign_probabilities(barabasi_albert(n, 5, seed=1), "weighted_cascade")
        seeds = top_degree(g, 50)
        runs = max(20, min(1000, int(2e8 / g.num_edges)))
        peer_runs = max(5, runs // 5)
        timed = interleaved(
            {
                "ours": ours_call(g, seeds, runs, args.device),
                "cynetdiff": cynetdiff_call(g, seeds, peer_runs),
            },
            {"ours": runs, "cynetdiff": peer_runs},
            1,
        )
        rate, prate = timed["ours"][0], timed["cynetdiff"][0]
        rows.append(
            {"edges": g.num_edges, "nodes": n, "runs": runs, "ours": rate, "cynetdiff": prate}
        )
        print(
            fmt_row(
                (g.num_edges, n, runs, f"{rate:,.1f}", f"{prate:,.1f}", f"{rate / prate:.2f}"),
                (10, 9, 6, 12, 17, 7),
            )
        )
        n *= 10
    return rows


def scaling_batch(args):
    n = args.ba_nodes
    print(f"\nscaling with batch size (BA n={n} m=5)")
    g = assign_probabilities(barabasi_albert(n, 5, seed=0), "weighted_cascade")
    seeds = top_degree(g, 50)
    rows = []
    for runs in (1, 10, 100, 1000, 4000):
        if args.quick and runs > 100:
            break
        rate = interleaved({"ours": ours_call(g, seeds, runs, args.device)}, {"ours": runs}, 1)[
            "ours"
        ][0]
        rows.append({"runs": runs, "ours": rate})
        print(f"  batch {runs:>5}: {rate:,.1f} runs/s")
    return rows


def plot(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    rows = results["scaling_edges"]
    ax = axes[0]
    ax.loglog(
        [r["edges"] for r in rows],
        [r["ours"] for r in rows],
        "o-",
        label=f"influence_gpu ({results['device']})",
    )
    ax.loglog(
        [r["edges"] for r in rows],
        [r["cynetdiff"] for r in rows],
        "s--",
        label="CyNetDiff (1 thread)",
    )
    ax.set_xlabel("arcs (Barabasi-Albert, m = 5)")
    ax.set_ylabel("IC runs per second")
    ax.set_title("Runs/s against graph size")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    rows = results["scaling_batch"]
    ax = axes[1]
    ax.loglog([r["runs"] for r in rows], [r["ours"] for r in rows], "o-")
    ax.set_xlabel("runs simulated together (batch)")
    ax.set_ylabel("IC runs per second")
    ax.set_title("Runs/s against batch size")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    raise SystemExit(main())
