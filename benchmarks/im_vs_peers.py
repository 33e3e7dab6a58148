"""Our IMM against pynetim's C++ IMM (and, optionally, our 1,000-run CELF) on SNAP graphs.

Workload: weighted-cascade IC (``p(u, v) = 1 / indeg(v)``), k in {50, 10}, eps in {0.1, 0.5}, on
email-Eu-core, p2p-Gnutella08, p2p-Gnutella24 and soc-Epinions1. Both IMMs get the same graph
with the same probabilities (checked arc by arc on pynetim's ``IMGraph.edges``), ``ell = 1``;
every returned seed set is re-scored with 10,000 runs of our IC simulator (seed 1), so the
spreads compare the sets, not the methods' own estimates.

Timing: wall clock of ``select`` / ``run`` only. Graph preparation is excluded on both sides
(pynetim's ``IMGraph`` is built beforehand; ours caches its in-arc arrays on a warm-up call with
k = 1, eps = 0.5). Ours runs with ``torch.get_num_threads()`` threads (``--threads``), pynetim is
single-threaded. ``--repeats R`` runs each configuration R times, ours and pynetim's calls
interleaved, and reports the medians (the minima go to the JSON).

Usage::

    python benchmarks/im_vs_peers.py [--celf] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from influence_gpu import assign_probabilities, load_graph, select_seeds, simulate
from influence_gpu.selection.imm import IMM

GRAPHS = ["email-Eu-core", "p2p-Gnutella08", "p2p-Gnutella24", "soc-Epinions1"]
CELF_GRAPHS = ["email-Eu-core", "p2p-Gnutella08"]


def pynetim_graph(g):
    """pynetim's IMGraph on our internal ids with our probabilities, and the largest mismatch."""
    from pynetim import IMGraph

    src, dst = g.edge_index.tolist()
    prob = g.edge_prob.double().tolist()
    pg = IMGraph(list(zip(src, dst, strict=True)), weights=prob, directed=True, renumber=False)
    theirs = pg.edges
    worst = max(abs(theirs[(u, v)] - p) for u, v, p in zip(src, dst, prob, strict=True))
    if pg.num_edges != g.num_edges or len(theirs) != g.num_edges:
        raise RuntimeError(f"pynetim holds {pg.num_edges} arcs, ours {g.num_edges}")
    return pg, worst


def rescore(g, labels, runs):
    res = simulate(g, labels, model="ic", num_samples=runs, seed=1)
    return float(res.mean), float(res.stderr)


def timed_pair(fn_a, fn_b, repeats):
    """Median wall time of two functions over ``repeats`` interleaved calls (a, b, a, b, ...),
    so that both see the same background load; also the minima and the last results."""
    ta, tb, out_a, out_b = [], [], None, None
    for _ in range(repeats):
        t = time.perf_counter()
        out_a = fn_a()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        out_b = fn_b()
        tb.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb), min(ta), min(tb), out_a, out_b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graphs", nargs="+", default=GRAPHS)
    ap.add_argument("--ks", nargs="+", type=int, default=[50, 10])
    ap.add_argument("--eps", nargs="+", type=float, default=[0.1, 0.5])
    ap.add_argument("--celf", action="store_true", help="also run 1,000-run CELF (k = 50)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch / OpenMP threads for ours")
    ap.add_argument("--mc", type=int, default=10000, help="re-scoring runs")
    ap.add_argument("--out", default=str(Path(__file__).with_name("results") / "im_vs_peers.json"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)  # self-loop notices of the SNAP readers
    if args.threads:
        torch.set_num_threads(args.threads)
    import pynetim
    from pynetim import IMMAlgorithm

    rows, celf_rows, checks = [], [], {}
    for name in args.graphs:
        g = assign_probabilities(load_graph(name), "weighted_cascade")
        pg, worst = pynetim_graph(g)
        checks[name] = {"nodes": g.num_nodes, "pynetim_nodes": pg.num_nodes,
                        "arcs": g.num_edges, "max_prob_diff": worst}
        print(f"# {name}: n={g.num_nodes} m={g.num_edges}; pynetim n={pg.num_nodes}, "
              f"max |p_ours - p_pynetim| = {worst:.2e}", flush=True)
        IMM(eps=0.5).select(g, 1, generator=torch.Generator().manual_seed(0))  # warm-up
        imm01 = {}
        for k in args.ks:
            for eps in args.eps:
                t_ours, t_peer, min_ours, min_peer, res, peer = timed_pair(
                    lambda g=g, k=k, eps=eps: IMM(eps=eps).select(
                        g, k, generator=torch.Generator().manual_seed(0)),
                    lambda pg=pg, k=k, eps=eps: IMMAlgorithm(
                        pg, "IC", epsilon=eps, l=1, random_seed=0).run(k),
                    args.repeats,
                )
                peer_labels = g.labels_of(sorted(peer))
                ours_sp = rescore(g, res.seeds, args.mc)
                peer_sp = rescore(g, peer_labels, args.mc)
                row = {
                    "graph": name, "k": k, "eps": eps,
                    "ours_seconds": t_ours, "pynetim_seconds": t_peer,
                    "time_ratio": t_peer / t_ours,
                    "ours_min_seconds": min_ours, "pynetim_min_seconds": min_peer,
                    "ours_spread": ours_sp[0], "ours_stderr": ours_sp[1],
                    "pynetim_spread": peer_sp[0], "pynetim_stderr": peer_sp[1],
                    "spread_diff_pct": 100.0 * (ours_sp[0] - peer_sp[0]) / peer_sp[0],
                    "overlap": len(set(res.ids) & set(peer)),
                    "ours_num_rr_sets": res.extra["num_rr_sets"],
                    "ours_estimation_rr_sets": res.extra["estimation_rr_sets"],
                    "ours_lower_bound": res.extra["lower_bound"],
                    "ours_approximation": res.extra["approximation"],
                    "ours_objective": res.objective,
                    "ours_sketch_seconds": res.extra["sketch_seconds"],
                }
                rows.append(row)
                if eps == 0.1:
                    imm01[k] = (res, ours_sp)
                print(f"{name:15s} k={k:3d} eps={eps:.1f}  ours {t_ours:7.3f}s  pynetim "
                      f"{t_peer:7.3f}s  ratio {row['time_ratio']:6.2f}  spread "
                      f"{ours_sp[0]:9.1f}±{ours_sp[1]:.1f} vs {peer_sp[0]:9.1f}±{peer_sp[1]:.1f} "
                      f"({row['spread_diff_pct']:+.2f}%)  theta {row['ours_num_rr_sets']}  "
                      f"approx {row['ours_approximation']:.3f}", flush=True)
        if args.celf and name in CELF_GRAPHS and 50 in args.ks:
            t = time.perf_counter()
            cres = select_seeds(g, 50, method="celf", num_samples=1000, seed=0,
                                return_result=True)
            t_celf = time.perf_counter() - t
            celf_sp = rescore(g, cres.seeds, args.mc)
            res, ours_sp = imm01.get(50, (None, (float("nan"), float("nan"))))
            crow = {
                "graph": name, "k": 50, "celf_seconds": t_celf,
                "celf_spread": celf_sp[0], "celf_stderr": celf_sp[1],
                "imm_eps": 0.1, "imm_spread": ours_sp[0], "imm_stderr": ours_sp[1],
                "imm_seconds": next(r["ours_seconds"] for r in rows if r["graph"] == name
                                    and r["k"] == 50 and r["eps"] == 0.1),
                "spread_diff_pct": 100.0 * (ours_sp[0] - celf_sp[0]) / celf_sp[0],
            }
            celf_rows.append(crow)
            print(f"{name:15s} CELF(1000 runs) k=50 {t_celf:8.1f}s spread {celf_sp[0]:.1f}"
                  f"±{celf_sp[1]:.1f}; IMM eps=0.1 {ours_sp[0]:.1f} "
                  f"({crow['spread_diff_pct']:+.2f}%)", flush=True)

    print()
    print(table(rows, celf_rows))
    meta = {
        "command": "python " + " ".join([sys.argv[0], *(argv or sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "torch": torch.__version__,
        "pynetim": pynetim.__version__, "python": platform.python_version(),
        "mc_runs": args.mc, "repeats": args.repeats, "checks": checks,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "imm": rows, "celf": celf_rows}, indent=2))
    print(f"\nwrote {out}")


def table(rows, celf_rows):
    head = ("| graph | k | eps | ours s | pynetim s | ratio (pynetim/ours) | ours spread ± se | "
            "pynetim spread ± se | diff | ours theta | certified ratio |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['graph']} | {r['k']} | {r['eps']} | {r['ours_seconds']:.3f} | "
            f"{r['pynetim_seconds']:.3f} | {r['time_ratio']:.2f} | {r['ours_spread']:.1f} ± "
            f"{r['ours_stderr']:.1f} | {r['pynetim_spread']:.1f} ± {r['pynetim_stderr']:.1f} | "
            f"{r['spread_diff_pct']:+.2f}% | {r['ours_num_rr_sets']} | "
            f"{r['ours_approximation']:.3f} |"
        )
    if celf_rows:
        lines += ["", "| graph | k | CELF s | CELF spread ± se | IMM(0.1) s | IMM(0.1) spread ± se "
                      "| diff |", "|" + "---|" * 7]
        for r in celf_rows:
            lines.append(
                f"| {r['graph']} | {r['k']} | {r['celf_seconds']:.1f} | {r['celf_spread']:.1f} ± "
                f"{r['celf_stderr']:.1f} | {r['imm_seconds']:.3f} | {r['imm_spread']:.1f} ± "
                f"{r['imm_stderr']:.1f} | {r['spread_diff_pct']:+.2f}% |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
