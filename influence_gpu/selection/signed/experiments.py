"""Paper C's experiments: the three MILPs on random instances, the local search on a data set.

Each experiment returns a list of records, one per (instance, method / formulation)::

    {"instance", "instance_seed", "n", "m", "method", "formulation", "cost", "optimal", "gap",
     "seconds", "seeds", "num_seeds", "gap_to_optimum", ...}

``method`` is ``milp_bellman``, ``milp_kkt``, ``milp_paths`` or ``local_search``;
``formulation`` the MILP's (``None`` for the local search); ``cost`` the simulator's cost of the
returned ``seeds`` (internal ids) under the default pessimistic tie rule; ``gap`` the relative
distance ``(cost - lower bound) / cost`` to the MILP's lower bound (``None`` for the local
search, which proves none); ``gap_to_optimum`` (local search only) ``(cost - optimum) /
optimum`` where some formulation proved the optimum of the instance, else ``None``.

* :func:`random_instances_experiment` - ``per_size`` random connected instances per size
  (:func:`~influence_gpu.graph.signed_instances.random_signed_instance`), every formulation
  under a time cap, and the local search on the same instances.
* :func:`bitcoin_experiment` - the local search on an undirected view of a signed SNAP graph
  (:func:`~influence_gpu.graph.signed_instances.signed_dataset_instance`).
* :func:`summarize`, :func:`largest_solved`, :func:`fastest_counts`,
  :func:`local_search_quality` - tables and figures over the records.

Used by ``evaluate.py experiment=paper_c_random`` / ``experiment=paper_c_bitcoin``
(:mod:`influence_gpu.apps.paper_c`) and by ``benchmarks/paper_c.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.signed_instances import (
    SignedInstance,
    random_signed_instance,
    signed_dataset_instance,
)
from influence_gpu.selection.signed.local_search import initial_seeds
from influence_gpu.selection.signed.milp import FORMULATIONS, solve_signed_milp
from influence_gpu.selection.signed.objective import signed_cost
from influence_gpu.selection.signed.select import select_signed

__all__ = [
    "SIZES",
    "milp_record",
    "local_search_record",
    "random_instances_experiment",
    "bitcoin_experiment",
    "summarize",
    "largest_solved",
    "fastest_counts",
    "local_search_quality",
    "summary_metrics",
]

log = logging.getLogger(__name__)

#: Sizes of the random-instance experiment (it stops at the first size no formulation solves).
SIZES = (10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100, 120, 150, 200)


def _cost(inst: SignedInstance, ids: Sequence[int]) -> float:
    return signed_cost(inst.graph, torch.tensor(list(ids), dtype=torch.long), inst.send_cost,
                       inst.penalty)


def _base(inst: SignedInstance) -> dict[str, Any]:
    g = inst.graph
    return {"instance": inst.name, "instance_seed": inst.params.get("seed"),
            "n": g.num_nodes, "m": g.num_edges // 2}


def milp_record(inst: SignedInstance, formulation: str, cap: float | None) -> dict[str, Any]:
    """One formulation on one instance under the cap (the MILP's own set, no polishing).

    Returns:
        The record (module docstring) with ``lower_bound``, ``status``, ``binaries``, ``rows``.
    """
    g, f, c = inst.graph, inst.send_cost.numpy(), inst.penalty.numpy()
    sol = solve_signed_milp(g, f, c, formulation, time_limit=cap)
    ids = sorted(int(v) for v in sol.ids)
    cost = _cost(inst, ids)
    optimal = bool(sol.optimal and cost <= sol.objective + 1e-6 * max(1.0, cost))
    lower = min(sol.lower_bound, cost)
    gap = 0.0 if optimal else (cost - lower) / cost if cost > 0 else 0.0
    return {**_base(inst), "method": f"milp_{formulation}", "formulation": formulation,
            "cost": cost, "optimal": optimal, "gap": gap, "seconds": sol.seconds,
            "seeds": ids, "num_seeds": len(ids), "gap_to_optimum": None,
            "lower_bound": lower, "status": sol.status, "binaries": sol.stats["binaries"],
            "rows": sol.stats["rows"]}


def local_search_record(inst: SignedInstance, seed: int | None = 0,
                        time_limit: float | None = None, **options: Any) -> dict[str, Any]:
    """The local search (default settings unless ``options``) on one instance.

    Args:
        inst: the instance.
        seed: seed of the search.
        time_limit: seconds (``None``: none).
        **options: keyword arguments of
            :func:`~influence_gpu.selection.signed.local_search.signed_local_search`.

    Returns:
        The record (module docstring) with ``rounds``, ``moves``, ``evaluations``,
        ``finished``.
    """
    sel = select_signed(inst.graph, inst.send_cost, inst.penalty, method="local_search",
                        time_limit=time_limit, seed=seed, local_search=options or None)
    return {**_base(inst), "method": "local_search", "formulation": None, "cost": sel.cost,
            "optimal": False, "gap": None, "seconds": sel.seconds, "seeds": list(sel.ids),
            "num_seeds": len(sel.ids), "gap_to_optimum": None,
            "rounds": sel.extra["rounds"], "moves": sel.extra["moves"],
            "evaluations": sel.extra["evaluations"], "finished": sel.extra["finished"]}


def _fill_gap_to_optimum(records: list[dict[str, Any]]) -> None:
    """Set ``gap_to_optimum`` of the local-search records of an instance with a proven optimum."""
    opt = [r["cost"] for r in records if r["optimal"]]
    if not opt:
        return
    best = min(opt)
    for r in records:
        if r["method"] == "local_search":
            r["gap_to_optimum"] = (r["cost"] - best) / best if best > 0 else 0.0


def random_instances_experiment(
    sizes: Sequence[int] = SIZES,
    per_size: int = 5,
    cap: float | None = 60.0,
    *,
    density: float = 0.15,
    negative_share: float = 0.3,
    delay_range: Sequence[float] = (1.0, 10.0),
    cost_range: Sequence[float] = (1.0, 10.0),
    penalty_range: Sequence[float] = (1.0, 10.0),
    seed: int = 0,
    formulations: Sequence[str] = FORMULATIONS,
    grow: bool = True,
    local_search: dict[str, Any] | None = None,
    milp_records: Sequence[dict[str, Any]] | None = None,
    log: Callable[[str], None] = log.info,
) -> list[dict[str, Any]]:
    """The formulations and the local search on random instances of growing size.

    Instance ``i`` of size ``n`` is drawn with seed ``seed * 100000 + n * 100 + i``; the local
    search on it runs with seed ``i``.

    Args:
        sizes: node counts, in order.
        per_size: instances per size.
        cap: MILP seconds per instance and formulation (``None``: none).
        density: edge density of :func:`random_signed_instance`.
        negative_share: share of negative edges.
        delay_range: ``(low, high)`` of the uniform delays.
        cost_range: ``(low, high)`` of the uniform send costs.
        penalty_range: ``(low, high)`` of the uniform penalties.
        seed: the draw (0: the benchmark's; 1: the held-out one).
        formulations: the MILPs to run (a subset of ``bellman``, ``kkt``, ``paths``).
        grow: stop at the first size where no formulation solved every instance, and drop a
            formulation from larger sizes once it solved none of a size's instances
            (``False``: run every size with every formulation).
        local_search: keyword arguments of the local search (``None``: its defaults).
        milp_records: MILP records of an earlier run of the same draw to reuse instead of
            solving again (matched by instance name and method; ``m`` must agree).
        log: where progress lines go.

    Returns:
        The records (module docstring), MILPs first on each instance.

    Raises:
        ValueError: an unknown formulation, a reused record of another graph.
    """
    unknown = [f for f in formulations if f not in FORMULATIONS]
    if unknown:
        raise ValueError(f"formulations must be a subset of {FORMULATIONS}, got {unknown[0]!r}")
    reuse = {(r["instance"], r["method"]): r for r in milp_records or ()}
    records: list[dict[str, Any]] = []
    active = list(formulations)
    if active and not reuse:  # first-call imports stay out of the timings
        milp_record(random_signed_instance(8, 0.3, seed=1), active[0], cap)
    for n in sizes:
        if not active and grow:
            break
        solved = dict.fromkeys(active, 0)
        for i in range(per_size):
            inst = random_signed_instance(
                int(n), density, negative_share, delay_range, cost_range, penalty_range,
                seed=seed * 100000 + int(n) * 100 + i)
            mine = []
            for form in active:
                old = reuse.get((inst.name, f"milp_{form}"))
                if old is not None:
                    m = old.get("m", old.get("edges"))
                    if m != inst.graph.num_edges // 2:
                        raise ValueError(f"milp_records: {inst.name} has {m} edges there, "
                                         f"{inst.graph.num_edges // 2} here")
                    rec = {**_base(inst), "formulation": form, "gap_to_optimum": None, **old}
                    rec.pop("edges", None)
                else:
                    rec = milp_record(inst, form, cap)
                solved[form] += rec["optimal"]
                mine.append(rec)
                log(f"n={n} #{i} {rec['method']:13s} cost {rec['cost']:9.3f} "
                    f"{'optimal' if rec['optimal'] else 'gap %.3f' % rec['gap']:>10s} "
                    f"{rec['seconds']:7.2f}s")
            rec = local_search_record(inst, seed=i, **(local_search or {}))
            mine.append(rec)
            _fill_gap_to_optimum(mine)
            g2o = rec["gap_to_optimum"]
            log(f"n={n} #{i} local_search  cost {rec['cost']:9.3f} "
                f"{'' if g2o is None else 'vs optimum %+.4f' % g2o:>10s} {rec['seconds']:7.2f}s")
            records += mine
        if grow:
            if not any(k == per_size for k in solved.values()):
                log(f"n={n}: no formulation solved all {per_size} instances within {cap} s; stop")
                break
            active = [form for form in active if solved[form] > 0]
    return records


def bitcoin_experiment(
    name: str = "soc-sign-bitcoinotc",
    *,
    seed: int = 0,
    delay_range: Sequence[float] = (1.0, 10.0),
    cost_range: Sequence[float] = (1.0, 10.0),
    penalty_range: Sequence[float] = (1.0, 10.0),
    time_limit: float | None = None,
    local_search: dict[str, Any] | None = None,
    log: Callable[[str], None] = log.info,
) -> list[dict[str, Any]]:
    """The local search on a signed data set, with two trivial feasible sets beside it.

    Args:
        name: data set name or path (:func:`signed_dataset_instance`).
        seed: seed of the delays, costs and penalties, and of the search.
        delay_range: ``(low, high)`` of the uniform delays.
        cost_range: ``(low, high)`` of the uniform send costs.
        penalty_range: ``(low, high)`` of the uniform penalties.
        time_limit: local-search seconds (``None``: none).
        local_search: keyword arguments of the local search (``None``: its defaults).
        log: where the progress line goes.

    Returns:
        One record (module docstring) with ``load_seconds``, ``negative_edges``,
        ``cost_cheapest_per_component`` (the local search's start set) and ``cost_all_seeds``
        (every node a seed).
    """
    t = time.perf_counter()
    inst = signed_dataset_instance(name, delay_range=delay_range, cost_range=cost_range,
                                   penalty_range=penalty_range, seed=seed)
    load = time.perf_counter() - t
    g, f = inst.graph, inst.send_cost.numpy()
    rec = local_search_record(inst, seed=seed, time_limit=time_limit, **(local_search or {}))
    rec.update({"load_seconds": load, "negative_edges": int((g.edge_sign < 0).sum()) // 2,
                "time_limit": time_limit, "local_search": dict(local_search or {}),
                "cost_cheapest_per_component": _cost(inst, initial_seeds(g, f)),
                "cost_all_seeds": float(f.sum())})
    log(f"{name}: local search cost {rec['cost']:.2f} with {rec['num_seeds']} seeds in "
        f"{rec['seconds']:.1f} s ({rec['rounds']} rounds)")
    return [rec]


# ---------------------------------------------------------------------------------- summaries
def local_search_quality(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Local search against the proven optima: counts, mean / max ratio cost / optimum."""
    g = [r["gap_to_optimum"] for r in records
         if r["method"] == "local_search" and r.get("gap_to_optimum") is not None]
    if not g:
        return {"instances": 0}
    ratio = 1.0 + np.asarray(g)
    return {"instances": len(g), "mean_ratio": float(ratio.mean()),
            "max_ratio": float(ratio.max()), "at_optimum": int((ratio <= 1 + 1e-9).sum()),
            "worse_than_2pct": int((ratio > 1.02).sum()),
            "worse_than_10pct": int((ratio > 1.10).sum())}


def largest_solved(records: list[dict[str, Any]]) -> dict[str, int | None]:
    """Per formulation run, the largest n at which it solved every instance within the cap."""
    out: dict[str, int | None] = {}
    for m in sorted({r["method"] for r in records if r["method"].startswith("milp_")}):
        good = [n for n in sorted({r["n"] for r in records})
                if (rs := [r for r in records if r["n"] == n and r["method"] == m])
                and all(r["optimal"] for r in rs)]
        out[m] = max(good) if good else None
    return out


def fastest_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    """On how many instances each formulation was the fastest to prove optimality."""
    counts = {m: 0 for m in sorted({r["method"] for r in records
                                    if r["method"].startswith("milp_")})}
    for inst in {r["instance"] for r in records}:
        rs = [r for r in records if r["instance"] == inst and r["optimal"]
              and r["method"].startswith("milp_")]
        if rs:
            counts[min(rs, key=lambda r: r["seconds"])["method"]] += 1
    return counts


def _m(r: dict[str, Any]) -> int:
    return r.get("m", r.get("edges"))


def summarize(records: list[dict[str, Any]]) -> str:
    """Markdown tables: per size and formulation, solved / time / gap; local search vs optimum."""
    sizes = sorted({r["n"] for r in records})
    methods = [f"milp_{f}" for f in FORMULATIONS]
    lines = ["| n | edges (mean) | " + " | ".join(
        f"{m}: solved, mean s, max s, mean gap" for m in methods) + " |",
        "|---|---|" + "---|" * len(methods)]
    for n in sizes:
        rows = [r for r in records if r["n"] == n]
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
        lines.append(f"| {n} | {np.mean([_m(r) for r in rows]):.0f} | " + " | ".join(cells)
                     + " |")
    lines += ["", "| n | instances with a proven optimum | local search / optimum: mean, max "
              "| local search mean s | instances at the optimum |", "|---|---|---|---|---|"]
    for n in sizes:
        ls = [r for r in records if r["n"] == n and r["method"] == "local_search"]
        if not ls:
            continue
        secs = np.mean([r["seconds"] for r in ls])
        q = local_search_quality(ls)
        if q["instances"]:
            lines.append(f"| {n} | {q['instances']} | {q['mean_ratio']:.4f}, "
                         f"{q['max_ratio']:.4f} | {secs:.2f} | {q['at_optimum']} |")
        else:
            lines.append(f"| {n} | 0 | - | {secs:.2f} | - |")
    return "\n".join(lines)


def summary_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Flat figures of a run (for ``metrics.json``'s ``summary``)."""
    out: dict[str, Any] = {}
    for m in sorted({r["method"] for r in records}):
        rs = [r for r in records if r["method"] == m]
        out[f"{m}/instances"] = len(rs)
        out[f"{m}/mean_seconds"] = float(np.mean([r["seconds"] for r in rs]))
        if m.startswith("milp_"):
            out[f"{m}/solved"] = int(sum(r["optimal"] for r in rs))
        else:
            out[f"{m}/mean_cost"] = float(np.mean([r["cost"] for r in rs]))
    q = local_search_quality(records)
    out.update({f"local_search/{k}": v for k, v in q.items()})
    out["largest_solved"] = largest_solved(records)
    out["fastest"] = fastest_counts(records)
    return out
