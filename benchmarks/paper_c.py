"""Paper C benchmark: the three MILPs on random signed instances, local search on bitcoin-otc.

Experiments (each a function returning a list of records ``{instance, n, method, cost, optimal,
gap, seconds, ...}`` with ``method`` in ``milp_bellman``, ``milp_kkt``, ``milp_paths``,
``local_search``):

* :func:`random_instances_experiment` - ``per_size`` random connected instances per size
  (:func:`~influence_gpu.graph.signed_instances.random_signed_instance`: edge density, share of
  negative edges, uniform delays, costs and penalties), every formulation under a time cap per
  instance, and the local search on the same instances. Sizes grow until no formulation solves
  every instance of a size within the cap; a formulation that solves none of a size's instances
  is not run on larger ones. ``cost`` is the simulator's (pessimistic ties) cost of the returned
  set, ``gap`` its relative distance to the MILP's lower bound.
* :func:`bitcoin_experiment` - the local search on an undirected view of a signed SNAP graph
  (:func:`~influence_gpu.graph.signed_instances.signed_dataset_instance`), with the cost of two
  trivial feasible sets beside it.

Usage:
    python benchmarks/paper_c.py random --cap 60
    python benchmarks/paper_c.py random --cap 60 --seed 1 --formulations paths   # held out
    python benchmarks/paper_c.py bitcoin [--time-limit 60] [--perturbations 0]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"
FORMULATIONS = ("bellman", "kkt", "paths")
SIZES = (10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100, 120, 150, 200)


def _cost(graph, ids, f, c) -> float:
    from influence_gpu.selection.signed import signed_cost

    return signed_cost(graph, torch.tensor(ids, dtype=torch.long), f, c)


def milp_record(inst, formulation: str, cap: float) -> dict[str, Any]:
    """One formulation on one instance under the cap (the MILP's own set, no polishing)."""
    from influence_gpu.selection.signed import solve_signed_milp

    g, f, c = inst.graph, inst.send_cost.numpy(), inst.penalty.numpy()
    sol = solve_signed_milp(g, f, c, formulation, time_limit=cap)
    cost = _cost(g, sol.ids, f, c)
    optimal = sol.optimal and cost <= sol.objective + 1e-6 * max(1.0, cost)
    lower = min(sol.lower_bound, cost)
    return {"instance": inst.name, "n": g.num_nodes, "edges": g.num_edges // 2,
            "method": f"milp_{formulation}", "cost": cost, "optimal": bool(optimal),
            "gap": 0.0 if optimal else (cost - lower) / cost, "seconds": sol.seconds,
            "lower_bound": lower, "status": sol.status, "num_seeds": len(sol.ids),
            "binaries": sol.stats["binaries"], "rows": sol.stats["rows"]}


def local_search_record(inst, seed: int = 0, **options: Any) -> dict[str, Any]:
    """The local search (default settings unless ``options``) on one instance."""
    from influence_gpu.selection.signed import select_signed

    g = inst.graph
    sel = select_signed(g, inst.send_cost, inst.penalty, method="local_search", seed=seed,
                        local_search=options or None)
    return {"instance": inst.name, "n": g.num_nodes, "edges": g.num_edges // 2,
            "method": "local_search", "cost": sel.cost, "optimal": False, "gap": math.nan,
            "seconds": sel.seconds, "num_seeds": len(sel.ids), "moves": sel.extra["moves"],
            "finished": sel.extra["finished"]}


def random_instances_experiment(
    sizes: Sequence[int] = SIZES,
    per_size: int = 5,
    cap: float = 60.0,
    *,
    density: float = 0.15,
    negative_share: float = 0.3,
    delay_range: tuple[float, float] = (1.0, 10.0),
    cost_range: tuple[float, float] = (1.0, 10.0),
    penalty_range: tuple[float, float] = (1.0, 10.0),
    seed: int = 0,
    formulations: Sequence[str] = FORMULATIONS,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Formulations and local search on random instances of growing size (module docstring).

    Instance ``i`` of size ``n`` is drawn with seed ``seed * 100000 + n * 100 + i``.
    """
    from influence_gpu.graph.signed_instances import random_signed_instance

    records: list[dict[str, Any]] = []
    active = list(formulations)
    warm = random_signed_instance(8, 0.3, seed=1)  # first-call imports stay out of the timings
    for form in active:
        milp_record(warm, form, cap)
    for n in sizes:
        if not active:
            break
        solved = {form: 0 for form in active}
        for i in range(per_size):
            inst = random_signed_instance(
                n, density, negative_share, delay_range, cost_range, penalty_range,
                seed=seed * 100000 + n * 100 + i)
            for form in active:
                rec = milp_record(inst, form, cap)
                solved[form] += rec["optimal"]
                records.append(rec)
                log(f"n={n} #{i} {rec['method']:13s} cost {rec['cost']:9.3f} "
                    f"{'optimal' if rec['optimal'] else 'gap %.3f' % rec['gap']:>10s} "
                    f"{rec['seconds']:7.2f}s")
            rec = local_search_record(inst, seed=i)
            records.append(rec)
            log(f"n={n} #{i} local_search  cost {rec['cost']:9.3f} {rec['seconds']:7.2f}s")
        if not any(k == per_size for k in solved.values()):
            log(f"n={n}: no formulation solved all {per_size} instances within {cap:g} s; stop")
            break
        active = [form for form in active if solved[form] > 0]
    return records


def bitcoin_experiment(
    name: str = "soc-sign-bitcoinotc",
    *,
    seed: int = 0,
    delay_range: tuple[float, float] = (1.0, 10.0),
    cost_range: tuple[float, float] = (1.0, 10.0),
    penalty_range: tuple[float, float] = (1.0, 10.0),
    time_limit: float | None = None,
    perturbations: int | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """The local search on a signed data set, with trivial sets beside it.

    Default settings, except ``perturbations`` when given (0: the first descent only).

    ``extra`` fields of the record: ``cost_cheapest_per_component`` (the local search's
    start: the cheapest node of every component) and ``cost_all_seeds`` (every node a seed).
    """
    from influence_gpu.graph.signed_instances import signed_dataset_instance
    from influence_gpu.selection.signed import select_signed
    from influence_gpu.selection.signed.local_search import initial_seeds

    t = time.perf_counter()
    inst = signed_dataset_instance(name, delay_range=delay_range, cost_range=cost_range,
                                   penalty_range=penalty_range, seed=seed)
    load = time.perf_counter() - t
    g, f, c = inst.graph, inst.send_cost.numpy(), inst.penalty.numpy()
    opts = None if perturbations is None else {"perturbations": perturbations}
    sel = select_signed(g, f, c, method="local_search", time_limit=time_limit, seed=seed,
                        local_search=opts)
    rec = {"instance": name, "n": g.num_nodes, "edges": g.num_edges // 2,
           "method": "local_search", "cost": sel.cost, "optimal": False, "gap": math.nan,
           "seconds": sel.seconds, "load_seconds": load, "num_seeds": len(sel.ids),
           "negative_edges": int((g.edge_sign < 0).sum()) // 2, "time_limit": time_limit,
           "perturbations": perturbations, "rounds": sel.extra["rounds"],
           "finished": sel.extra["finished"], "moves": sel.extra["moves"],
           "evaluations": sel.extra["evaluations"],
           "cost_cheapest_per_component": _cost(g, initial_seeds(g, f), f, c),
           "cost_all_seeds": float(f.sum())}
    log(json.dumps(rec))
    return [rec]


def summarize(records: list[dict[str, Any]]) -> str:
    """Markdown tables: per size and formulation, solved / time / gap; local search vs optimum."""
    sizes = sorted({r["n"] for r in records})
    methods = [f"milp_{f}" for f in FORMULATIONS]
    lines = ["| n | edges (mean) | " + " | ".join(
        f"{m}: solved, mean s, max s, mean gap" for m in methods) + " |",
        "|---|---|" + "---|" * len(methods)]
    for n in sizes:
        rows = [r for r in records if r["n"] == n]
        edges = np.mean([r["edges"] for r in rows])
        cells = []
        for m in methods:
            rs = [r for r in rows if r["method"] == m]
            if not rs:
                cells.append("not run")
                continue
            cells.append(f"{sum(r['optimal'] for r in rs)}/{len(rs)}, "
                         f"{np.mean([r['seconds'] for r in rs]):.2f}, "
                         f"{max(r['seconds'] for r in rs):.2f}, "
                         f"{np.mean([r['gap'] for r in rs]):.3f}")
        lines.append(f"| {n} | {edges:.0f} | " + " | ".join(cells) + " |")
    lines += ["", "| n | instances with a proven optimum | local search / optimum: mean, max "
              "| local search mean s | instances at the optimum |", "|---|---|---|---|---|"]
    for n in sizes:
        ratios, secs = [], []
        for inst in sorted({r["instance"] for r in records if r["n"] == n}):
            rs = [r for r in records if r["instance"] == inst]
            opt = [r["cost"] for r in rs if r["optimal"]]
            ls = [r for r in rs if r["method"] == "local_search"]
            if ls:
                secs.append(ls[0]["seconds"])
            if opt and ls:
                ratios.append(ls[0]["cost"] / min(opt))
        if ratios:
            at = sum(r <= 1 + 1e-9 for r in ratios)
            lines.append(f"| {n} | {len(ratios)} | {np.mean(ratios):.4f}, {max(ratios):.4f} | "
                         f"{np.mean(secs):.2f} | {at} |")
        else:
            lines.append(f"| {n} | 0 | - | {np.mean(secs):.2f} | - |")
    return "\n".join(lines)


def largest_solved(records: list[dict[str, Any]]) -> dict[str, int | None]:
    """Per formulation, the largest n at which it solved every instance within the cap."""
    out: dict[str, int | None] = {}
    for f in FORMULATIONS:
        m = f"milp_{f}"
        good = [n for n in sorted({r["n"] for r in records})
                if (rs := [r for r in records if r["n"] == n and r["method"] == m])
                and all(r["optimal"] for r in rs)]
        out[m] = max(good) if good else None
    return out


def fastest_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    """On how many instances each formulation was the fastest to prove optimality."""
    counts = {f"milp_{f}": 0 for f in FORMULATIONS}
    for inst in {r["instance"] for r in records}:
        rs = [r for r in records if r["instance"] == inst and r["optimal"]
              and r["method"].startswith("milp_")]
        if rs:
            counts[min(rs, key=lambda r: r["seconds"])["method"]] += 1
    return counts


def plot_times(records: list[dict[str, Any]], path: Path, cap: float) -> Path:
    """Mean MILP seconds against n per formulation (a run at the cap counts as the cap)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for f, marker in zip(FORMULATIONS, "osD", strict=True):
        m = f"milp_{f}"
        sizes = sorted({r["n"] for r in records if r["method"] == m})
        if not sizes:
            continue
        mean = [np.mean([r["seconds"] for r in records if r["n"] == n and r["method"] == m])
                for n in sizes]
        ax.plot(sizes, mean, marker=marker, label=m)
    ax.axhline(cap, color="grey", linestyle="--", linewidth=1, label=f"cap {cap:g} s")
    ax.set_yscale("log")
    ax.set_xlabel("nodes n")
    ax.set_ylabel("seconds per instance (mean)")
    ax.set_title("Paper C MILPs on random signed instances")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("experiment", choices=["random", "bitcoin", "all"])
    ap.add_argument("--cap", type=float, default=60.0, help="MILP seconds per instance")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--per-size", type=int, default=5)
    ap.add_argument("--density", type=float, default=0.15)
    ap.add_argument("--negative-share", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formulations", default=",".join(FORMULATIONS),
                    help="comma-separated subset of bellman,kkt,paths")
    ap.add_argument("--dataset", default="soc-sign-bitcoinotc")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="local-search seconds on the data set (default: none)")
    ap.add_argument("--perturbations", type=int, default=None,
                    help="local-search restarts on the data set (default: the selector's)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.experiment in ("random", "all"):
        forms = tuple(args.formulations.split(","))
        recs = random_instances_experiment(
            [int(s) for s in args.sizes.split(",")], args.per_size, args.cap,
            density=args.density, negative_share=args.negative_share, seed=args.seed,
            formulations=forms)
        tag = "" if args.seed == 0 else f"_seed{args.seed}"
        tag += "" if forms == FORMULATIONS else "_" + "_".join(forms)
        (args.out / f"paper_c_random{tag}.json").write_text(json.dumps(recs, indent=1))
        png = plot_times(recs, args.out / f"paper_c_milp_times{tag}.png", args.cap)
        print(summarize(recs))
        print("largest n solved on every instance:", largest_solved(recs))
        print("fastest to prove optimality:", fastest_counts(recs))
        print("plot:", png)
    if args.experiment in ("bitcoin", "all"):
        recs = bitcoin_experiment(args.dataset, seed=args.seed, time_limit=args.time_limit,
                                  perturbations=args.perturbations)
        tag = "" if args.time_limit is None else f"_tl{args.time_limit:g}"
        tag += "" if args.perturbations is None else f"_p{args.perturbations}"
        (args.out / f"paper_c_bitcoin{tag}.json").write_text(json.dumps(recs, indent=1))


if __name__ == "__main__":
    main()
