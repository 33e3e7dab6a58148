"""``evaluate.py experiment=ibm_<network>`` (``task=ibm``): paper B's blocking benchmark.

On one network: ``ibm.num_problems`` IBM problems (``S_F`` drawn from the top ``x |V|``
out-degree nodes with a power-law size, budget ``k = |S_F|``; seeded), every blocking selector of
``ibm.methods`` under a time limit, the final truth sets re-estimated with ``ibm.eval_samples``
MC runs on common worlds, and two tables like paper B's Tables IV (time to reach NIE-CELF's
quality) and V (quality within the time budget).

Each name in ``ibm.methods`` is a config under ``ibm.selectors`` (``conf/experiment/
ibm_base.yaml``) whose ``_target_`` is a
:class:`~influence_gpu.selection.base.BlockingSelector` class. A config with ``_partial_: true``
needs the trained NIE: it is called with ``nie=`` (trained here, or loaded from
``ibm.nie_ckpt``). A method whose result has a prefix objective (the CELF methods) has every
prefix re-estimated too, for Table IV; the others only their final set.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from influence_gpu.apps._run import (
    build_graph,
    evaluation_metrics,
    finish,
    format_table,
    output_dir,
    resolve_device,
    seed_everything,
)
from influence_gpu.apps.fit_nie import fit_nie
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["run", "draw_ibm_problems", "tables", "REFERENCE"]

log = logging.getLogger(__name__)

#: the method whose blocked influence is Table IV's target and Table V's numerator (paper B)
REFERENCE = "nie_celf"
#: the Monte Carlo method the summary compares the reference with
MC_METHOD = "mcs_celf"


def draw_ibm_problems(
    graph: DiffusionGraph, num_problems: int, *, x: float = 0.1, seed: int = 0,
    k: int | None = None,
) -> list[tuple[torch.Tensor, int]]:
    """Paper B's test problems: ``S_F`` as its training instances, budget ``k = |S_F|``.

    Args:
        graph: the network.
        num_problems: how many problems (paper: 5 per network).
        x: high-impact fraction (paper: 0.1; 0.01 on web-Stanford).
        seed: seed of the draw.
        k: fixed budget instead of ``|S_F|``.

    Returns:
        ``[(S_F ids, k)]``.
    """
    from influence_gpu.nie.instances import sample_instances

    gen = torch.Generator().manual_seed(int(seed))
    inst = sample_instances(graph, num_problems, x=x, generator=gen)
    return [(f.to(graph.device), int(k) if k else int(f.numel())) for f, _ in inst]


def _fmt_s(x: float) -> str:
    return f"{x:.3g}" if x >= 0.01 else f"{x:.1e}"


def _check_methods(ibm: DictConfig, methods: list[str]) -> None:
    configs = ibm.get("selectors") or {}
    unknown = [m for m in methods if m not in configs]
    if unknown:
        raise ValueError(
            f"ibm.methods contains {unknown[0]!r}, which has no config under ibm.selectors; "
            f"configured: {', '.join(configs)}"
        )


def _selectors(ibm: DictConfig, methods: list[str], load_nie: Any) -> dict[str, Any]:
    """Build the selector of every method; partial configs get the NIE (``load_nie()``)."""
    from hydra.utils import instantiate

    configs = ibm.selectors
    out = {}
    for m in methods:
        sel = instantiate(configs[m])
        out[m] = sel(nie=load_nie()) if configs[m].get("_partial_", False) else sel
    return out


def run(cfg: DictConfig) -> dict[str, Any]:
    """Paper B's benchmark on ``cfg.graph`` (Tables IV and V); write ``metrics.json``.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with an ``ibm`` node (see
            ``conf/experiment/ibm_base.yaml``).

    Returns:
        The metrics written to ``metrics.json``: ``results`` (one record per (problem,
        method)), ``problems``, ``nie`` (training metrics), ``statistics_seconds``, ``tables``
        and ``summary``.

    Raises:
        ValueError: no ``ibm`` node, or a method without a selector config.
    """
    from hydra.utils import instantiate

    from influence_gpu.diffusion._common import draw_key, make_generator
    from influence_gpu.graph.statistics import compute_statistics
    from influence_gpu.nie.estimator import NIE
    from influence_gpu.selection.blocking import reestimate

    seed_everything(cfg)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = output_dir(cfg)
    t_start = time.perf_counter()
    ibm = cfg.get("ibm")
    if ibm is None:
        raise ValueError("task=ibm needs an `ibm` node: use experiment=ibm_<network>")
    methods = [str(m) for m in ibm.methods]
    _check_methods(ibm, methods)
    graph = build_graph(cfg.graph).to(device)
    log.info("graph %s on %s", graph, device)
    metrics = evaluation_metrics(cfg, "ibm", graph, device, instantiate(cfg.diffusion))
    network = str(cfg.graph.get("name", "graph"))
    seed = int(cfg.seed)

    t0 = time.perf_counter()
    stats = compute_statistics(graph.to("cpu"))
    stats_seconds = time.perf_counter() - t0
    nie_info: dict[str, Any] = {}

    @functools.cache
    def load_nie() -> Any:  # once, when a selector config needs the NIE (_partial_: true)
        ckpt = ibm.get("nie_ckpt")
        if not ckpt:
            nie_info.update(fit_nie(graph.to("cpu"), ibm.model, ibm.data, ibm.trainer, out_dir))
            ckpt = nie_info["ckpt"]
        nie_info["ckpt"] = str(ckpt)
        nie_worlds = ibm.get("nie_worlds")
        nie = NIE.load(ckpt, graph, stats=stats,
                       worlds=None if nie_worlds is None else int(nie_worlds))
        nie_info["select_worlds"] = nie.worlds
        return nie

    selectors = _selectors(ibm, methods, load_nie)
    problems = draw_ibm_problems(graph, int(ibm.num_problems), x=float(ibm.x),
                                 seed=int(ibm.problem_seed), k=ibm.get("k"))
    eval_key = draw_key(make_generator(seed + 1, graph.device))
    prefix_key = draw_key(make_generator(seed + 2, graph.device))
    records: list[dict[str, Any]] = []
    prob_info = []
    for p, (f, k) in enumerate(problems):
        log.info("problem %d: |S_F| = %d, k = %d", p, f.numel(), k)
        runs = {m: selectors[m].select(graph, k, false_seeds=f,
                                       generator=make_generator(seed + 100 * p, graph.device))
                for m in methods}
        finals = reestimate(graph, f, [torch.tensor(runs[m].ids, dtype=torch.long)
                                       for m in methods],
                            int(ibm.eval_samples), key=eval_key)
        # every prefix of the methods with a prefix objective (the CELF methods) and the others'
        # final sets, on one set of worlds
        prefixes = {m: _prefixes(runs[m]) for m in methods}
        sets: dict[tuple[int, ...], None] = {}
        for m in methods:
            for s in prefixes[m]:
                sets.setdefault(tuple(s), None)
        keys = list(sets)
        pvals = dict(zip(keys, [v for v, _ in reestimate(
            graph, f, [torch.tensor(s, dtype=torch.long) for s in keys],
            int(ibm.prefix_eval_samples), key=prefix_key)], strict=True)) if keys else {}
        target = None
        if REFERENCE in runs and runs[REFERENCE].ids:
            target = pvals[tuple(runs[REFERENCE].ids)]
        for m, (val, se) in zip(methods, finals, strict=True):
            r = runs[m]
            reach = None
            if target is not None and r.ids:
                stamps = r.prefix_seconds if r.prefix_objective else [r.seconds]
                reach = next((stamps[i] for i, s in enumerate(prefixes[m])
                              if pvals[tuple(s)] >= target - 1e-9), None)
            records.append({
                "network": network,
                "problem": p,
                "method": m,
                "blocked": val if r.ids else None,
                "blocked_stderr": se,
                "seconds": r.seconds,
                "objective": None if math.isnan(r.objective) else r.objective,
                "k": k,
                "num_seeds": len(r.ids),
                "finished": bool(r.finished),
                "time_to_target": reach,
                "reached_target": reach is not None,
                "seeds": [str(s) for s in graph.labels_of(r.ids)],
                "evaluations": r.evaluations,
            })
        prob_info.append({"problem": p, "false_seeds": [str(s) for s in graph.labels_of(f)],
                          "k": k, "target_prefix_worlds": target})

    tabs = tables(records, methods, network, len(problems), float(ibm.get("time_limit") or 0))
    print(tabs["time_to_target"], "\n", tabs["quality"], sep="\n")
    metrics.update({
        "ibm": OmegaConf.to_container(ibm, resolve=True),
        "network": network,
        "statistics_seconds": stats_seconds,
        "statistics_from_cache": bool(getattr(stats, "from_cache", False)),
        "nie": nie_info,
        "problems": prob_info,
        "results": records,
        "tables": tabs,
        "summary": _summary(records, methods),
    })
    return finish(out_dir, metrics, t_start)


def _prefixes(res: Any) -> list[list[int]]:
    """Every prefix of a result with a prefix objective, else its final set (none if empty)."""
    if not res.ids:
        return []
    if res.prefix_objective:
        return [res.ids[: i + 1] for i in range(len(res.ids))]
    return [list(res.ids)]


def _rec(records: list[dict[str, Any]], p: int, m: str) -> dict[str, Any]:
    return next(r for r in records if r["problem"] == p and r["method"] == m)


def tables(records: list[dict[str, Any]], methods: list[str], network: str, num_problems: int,
           time_limit: float) -> dict[str, str]:
    """Paper B's Tables IV (seconds to reach the reference's quality) and V (quality).

    Args:
        records: the ``results`` of :func:`run` (one per problem and method).
        methods: the methods, in column order.
        network: the network's name (titles).
        num_problems: problems ``0 .. num_problems - 1``.
        time_limit: seconds per method and problem (Table V's title).

    Returns:
        ``{"time_to_target": Table IV, "quality": Table V}`` as text.
    """
    num = int(num_problems)
    ref = REFERENCE
    # Table IV: seconds to reach NIE-CELF's quality (re-estimated on common worlds)
    rows = []
    for p in range(num):
        row = [str(p + 1)]
        for m in methods:
            r = _rec(records, p, m)
            t = r["time_to_target"]
            row.append(_fmt_s(t) if t is not None else f">{_fmt_s(r['seconds'])}")
        rows.append(row)
    if ref in methods:
        row = ["avg speedup"]
        for m in methods:
            ratios = []
            for p in range(num):
                a, b = _rec(records, p, m), _rec(records, p, ref)
                t = a["time_to_target"] if a["time_to_target"] is not None else a["seconds"]
                if b["seconds"] > 0:
                    ratios.append(t / b["seconds"])
            row.append(f"{sum(ratios) / len(ratios):.3g}x" if ratios else "-")
        rows.append(row)
    t4 = format_table(rows, ["problem", *methods],
                      title=f"Table IV ({network}): seconds to reach NIE-CELF's blocked influence "
                            "('>t': not reached, t = its run time)")
    # Table V: quality within the time limit, and NIE-CELF / method ratio
    rows = []
    for p in range(num):
        row = [str(p + 1)]
        for m in methods:
            r = _rec(records, p, m)
            row.append("-" if r["blocked"] is None else
                       f"{r['blocked']:.2f}{'' if r['finished'] else '*'}")
        rows.append(row)
    if ref in methods:
        row = ["avg ratio"]
        for m in methods:
            ratios = []
            for p in range(num):
                a, b = _rec(records, p, m), _rec(records, p, ref)
                if a["blocked"] and b["blocked"] is not None:
                    ratios.append(b["blocked"] / a["blocked"])
            row.append(f"{sum(ratios) / len(ratios):.3f}" if ratios else "-")
        rows.append(row)
    t5 = format_table(rows, ["problem", *methods],
                      title=f"Table V ({network}): blocked influence (MC re-estimate) within "
                            f"{time_limit:g} s ('*': stopped by the limit; ratio = NIE-CELF / "
                            "method)")
    return {"time_to_target": t4, "quality": t5}


def _summary(records: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in methods:
        rs = [r for r in records if r["method"] == m]
        vals = [r["blocked"] for r in rs if r["blocked"] is not None]
        out[f"{m}/mean_blocked"] = sum(vals) / len(vals) if vals else None
        out[f"{m}/max_seconds"] = max(r["seconds"] for r in rs)
    if REFERENCE in methods and MC_METHOD in methods:
        ratios = []
        for r in records:
            if r["method"] != MC_METHOD or not r["finished"] or not r["blocked"]:
                continue
            nie = _rec(records, r["problem"], REFERENCE)
            ratios.append(nie["blocked"] / r["blocked"] if nie["blocked"] is not None else 0.0)
        out["nie_over_mcs_ratios"] = ratios
        out["nie_within_10pct_of_mcs"] = all(x >= 0.9 for x in ratios) if ratios else None
    return out
