"""Hydra-side pipelines of paper B: ``train.py model=nie`` and ``evaluate.py task=ibm``.

* :func:`train_nie` builds (or resumes) the NIE training set of ``cfg.data``, fits the scaler,
  trains :class:`~influence_gpu.nie.model.NIELitModule` and reports validation / test R² and MSE
  of the best checkpoint against held-out MC labels.
* :func:`evaluate_ibm` runs paper B's benchmark on one network: five IBM problems (``S_F`` drawn
  from the top ``x |V|`` out-degree nodes with a power-law size, budget ``k = |S_F|``; seeded),
  every optimiser of :mod:`influence_gpu.selection.blocking` under a time limit, the final truth
  sets re-estimated with ``eval_samples`` (10,000) MC runs, and two tables like paper B's
  Tables IV (time to reach NIE-CELF's quality) and V (quality within the time budget).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["fit_nie", "train_nie", "draw_ibm_problems", "evaluate_ibm", "IBM_METHODS"]

log = logging.getLogger(__name__)

#: Method names of ``evaluate.py task=ibm``.
IBM_METHODS: tuple[str, ...] = ("nie_celf", "mcs_celf", "rr_celf", "degree", "proximity", "random")
_CELF = ("nie_celf", "mcs_celf", "rr_celf")


# ---------------------------------------------------------------------------------- training
@torch.no_grad()
def _score(net: torch.nn.Module, data: Any) -> dict[str, float]:
    x, y = data.tensors
    if y.numel() == 0:
        return {}
    pred = net(x).double()
    y = y.double()
    mse = float(((pred - y) ** 2).mean())
    var = float(((y - y.mean()) ** 2).mean())
    return {"mse": mse, "r2": 1.0 - mse / var if var > 0 else float("nan"),
            "label_mean": float(y.mean()), "num": int(y.numel())}


def fit_nie(
    graph: DiffusionGraph,
    model_cfg: DictConfig,
    data_cfg: DictConfig,
    trainer_cfg: DictConfig,
    out_dir: Path,
    callbacks: list[Any] | None = None,
    loggers: list[Any] | None = None,
) -> dict[str, Any]:
    """Build the training set, train the NIE and save ``<out_dir>/checkpoints/nie.ckpt``.

    Args:
        graph: the network.
        model_cfg: a ``model/nie.yaml`` node.
        data_cfg: a ``data/nie*.yaml`` node.
        trainer_cfg: a ``trainer/*.yaml`` node.
        out_dir: run folder.
        callbacks: Lightning callbacks (default: early stopping + best checkpoint on ``val/mse``).
        loggers: Lightning loggers.

    Returns:
        ``ckpt`` (path), ``val/r2``, ``val/mse``, ``test/r2``, ``test/mse`` of the best weights,
        sizes and timings.
    """
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    t0 = time.perf_counter()
    dm = instantiate(data_cfg, graph=graph)
    dm.prepare_data()
    data_seconds = time.perf_counter() - t0
    dm.setup("fit")
    model = instantiate(model_cfg, graph_hash=graph.content_hash(), h=dm.h,
                        weight_rule=dm.weight_rule)
    model.fit_scaler(dm.train_features, dm.train_labels)
    ckpt_dir = out_dir / "checkpoints"
    extra: dict[str, Any] = {}
    if callbacks is None:
        extra["enable_progress_bar"] = False
        callbacks = [
            EarlyStopping(monitor="val/mse", mode="min", patience=10),
            ModelCheckpoint(dirpath=ckpt_dir, filename="nie_best", monitor="val/mse", mode="min"),
        ]
    trainer = instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False, **extra)
    t1 = time.perf_counter()
    trainer.fit(model=model, datamodule=dm)
    train_seconds = time.perf_counter() - t1
    best = next((c.best_model_path for c in callbacks
                 if isinstance(c, ModelCheckpoint) and c.best_model_path), "")
    if best:
        state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
        model.load_state_dict(state)
    ckpt = ckpt_dir / "nie.ckpt"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    trainer.save_checkpoint(ckpt)
    net = model.net.cpu().eval()
    out: dict[str, Any] = {"ckpt": str(ckpt), "training_set": str(dm.path),
                           "num_train": len(dm.data_train), "epochs": int(trainer.current_epoch),
                           "data_seconds": data_seconds, "train_seconds": train_seconds}
    for stage, data in (("val", dm.data_val), ("test", dm.data_test)):
        for key, val in _score(net, data).items():
            out[f"{stage}/{key}"] = val
    return out


def train_nie(cfg: DictConfig) -> dict[str, Any]:
    """``python train.py model=nie graph=<name>``: train the NIE of paper B on one network.

    Args:
        cfg: the composed ``conf/train.yaml`` with ``model=nie`` and ``data=nie*``.

    Returns:
        The metrics written to ``metrics.json`` (``val/r2``, ``val/mse``, ``test/*``, ``ckpt``).

    ``cfg.data`` falls back to ``conf/data/nie.yaml`` when it is not an NIE data config (the
    default ``data`` of ``train.yaml`` is paper A's cascades), and a graph without edge
    probabilities gets weighted-cascade ones (paper B's setting).
    """
    from hydra.utils import instantiate

    from influence_gpu.pipeline import (
        _graph_summary,
        _output_dir,
        _seed_everything,
        _write_metrics,
        build_graph,
        format_table,
    )

    _seed_everything(cfg.seed)
    out_dir = _output_dir(cfg)
    t0 = time.perf_counter()
    data_cfg = cfg.get("data")
    if data_cfg is None or "NIEDataModule" not in str(data_cfg.get("_target_", "")):
        # `python train.py model=nie` with the default (cascade) data: use conf/data/nie.yaml
        default = Path(str(cfg.paths.root_dir)) / "conf" / "data" / "nie.yaml"
        with open_dict(cfg):
            cfg.data = OmegaConf.load(default)
        data_cfg = cfg.data
        log.info("model=nie without an NIE data config: using %s", default)
    graph = build_graph(cfg.graph)
    if graph.edge_prob is None:  # paper B's diffusion model: weighted cascade
        from influence_gpu.graph.probabilities import assign_probabilities

        log.info("graph %s has no edge probabilities: using weighted cascade", cfg.graph.name)
        graph = assign_probabilities(graph, "weighted_cascade")
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()
                 if c is not None and "_target_" in c]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()
               if c is not None and "_target_" in c]
    res = fit_nie(graph, cfg.model, data_cfg, cfg.trainer, out_dir,
                  callbacks=callbacks or None, loggers=loggers)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "train")),
        "task": "train",
        "model": "nie",
        "graph": _graph_summary(cfg, graph),
        "status": "trained",
        **res,
    }
    print(format_table(
        [[k, f"{res[k]:.4f}"] for k in ("val/r2", "val/mse", "test/r2", "test/mse") if k in res],
        ["metric", "value"],
        title=f"NIE on {metrics['graph']['name']}: {res['num_train']} training instances, "
              f"{res['epochs']} epochs",
    ))
    metrics["seconds"] = time.perf_counter() - t0
    metrics["output_dir"] = str(out_dir)
    _write_metrics(out_dir, metrics)
    return metrics


# ---------------------------------------------------------------------------------- benchmark
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


def _run_method(name: str, graph: DiffusionGraph, nie: Any, f: torch.Tensor, k: int,
                ibm: DictConfig, seed: int) -> Any:
    from influence_gpu.selection import blocking as B

    limit = ibm.get("time_limit")
    cand = ibm.get("candidates")
    h = int(ibm.get("h", 2))
    if name == "nie_celf":
        if cand is None and nie.h != h:  # same candidates N_h(S_F) as the other CELF methods
            cand = B.hop_neighbourhood(graph, f, h)
        return B.nie_celf(nie, f, k, candidates=cand, time_limit=limit)
    if name == "mcs_celf":
        return B.mcs_celf(graph, f, k, int(ibm.mcs_samples), candidates=cand, h=h,
                          generator=seed, time_limit=limit)
    if name == "rr_celf":
        return B.rr_celf(graph, f, k, int(ibm.rr_sets), candidates=cand, h=h, generator=seed,
                         time_limit=limit)
    if name == "degree":
        return B.degree_blocking(graph, f, k)
    if name == "proximity":
        return B.proximity_blocking(graph, f, k, generator=seed)
    if name == "random":
        return B.random_blocking(graph, f, k, generator=seed)
    raise ValueError(f"ibm.methods contains {name!r}; known: {', '.join(IBM_METHODS)}")


def _fmt_s(x: float) -> str:
    return f"{x:.3g}" if x >= 0.01 else f"{x:.1e}"


def evaluate_ibm(cfg: DictConfig, graph: DiffusionGraph, out_dir: Path) -> dict[str, Any]:
    """``evaluate.py task=ibm``: paper B's benchmark on one network (Tables IV and V).

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with an ``ibm`` node (see
            ``conf/experiment/ibm_base.yaml``).
        graph: the network (already on its device).
        out_dir: run folder.

    Returns:
        ``results`` (one record per (problem, method)), ``problems``, ``nie`` (training
        metrics), ``statistics_seconds``, ``tables`` and ``summary``.

    Raises:
        ValueError: no ``ibm`` node, or an unknown method.
    """
    from influence_gpu.diffusion._common import draw_key, make_generator
    from influence_gpu.graph.statistics import compute_statistics
    from influence_gpu.nie.model import NIE
    from influence_gpu.pipeline import format_table
    from influence_gpu.selection.blocking import reestimate

    ibm = cfg.get("ibm")
    if ibm is None:
        raise ValueError("task=ibm needs an `ibm` node: use experiment=ibm_<network>")
    methods = [str(m) for m in ibm.methods]
    unknown = [m for m in methods if m not in IBM_METHODS]
    if unknown:
        raise ValueError(f"ibm.methods contains {unknown[0]!r}; known: {', '.join(IBM_METHODS)}")
    network = str(cfg.graph.get("name", "graph"))
    seed = int(cfg.seed)

    t0 = time.perf_counter()
    stats = compute_statistics(graph.to("cpu"))
    stats_seconds = time.perf_counter() - t0
    nie_info: dict[str, Any] = {}
    nie = None
    if "nie_celf" in methods:
        ckpt = ibm.get("nie_ckpt")
        if not ckpt:
            nie_info = fit_nie(graph.to("cpu"), ibm.model, ibm.data, ibm.trainer, out_dir)
            ckpt = nie_info["ckpt"]
        nie = NIE.load(ckpt, graph, stats=stats)
        nie_info["ckpt"] = str(ckpt)

    problems = draw_ibm_problems(graph, int(ibm.num_problems), x=float(ibm.x),
                                 seed=int(ibm.problem_seed), k=ibm.get("k"))
    eval_key = draw_key(make_generator(seed + 1, graph.device))
    prefix_key = draw_key(make_generator(seed + 2, graph.device))
    records: list[dict[str, Any]] = []
    prob_info = []
    for p, (f, k) in enumerate(problems):
        log.info("problem %d: |S_F| = %d, k = %d", p, f.numel(), k)
        runs = {m: _run_method(m, graph, nie, f, k, ibm, seed + 100 * p) for m in methods}
        finals = reestimate(graph, f, [torch.tensor(runs[m].seeds, dtype=torch.long)
                                       for m in methods],
                            int(ibm.eval_samples), key=eval_key)
        # every prefix of the CELF methods and the baselines' sets, on one set of worlds
        sets: dict[tuple[int, ...], None] = {}
        for m in methods:
            r = runs[m]
            prefixes = [r.seeds[: i + 1] for i in range(len(r.seeds))] if m in _CELF else [r.seeds]
            for s in prefixes:
                sets.setdefault(tuple(s), None)
        keys = list(sets)
        pvals = dict(zip(keys, [v for v, _ in reestimate(
            graph, f, [torch.tensor(s, dtype=torch.long) for s in keys],
            int(ibm.prefix_eval_samples), key=prefix_key)], strict=True)) if keys else {}
        target = None
        if "nie_celf" in methods and runs["nie_celf"].seeds:
            target = pvals[tuple(runs["nie_celf"].seeds)]
        for m, (val, se) in zip(methods, finals, strict=True):
            r = runs[m]
            reach = None
            if target is not None and r.seeds:
                prefixes = ([r.seeds[: i + 1] for i in range(len(r.seeds))]
                            if m in _CELF else [r.seeds])
                stamps = r.prefix_seconds if m in _CELF else [r.seconds]
                reach = next((stamps[i] for i, s in enumerate(prefixes)
                              if pvals[tuple(s)] >= target - 1e-9), None)
            records.append({
                "network": network,
                "problem": p,
                "method": m,
                "blocked": val if r.seeds else None,
                "blocked_stderr": se,
                "seconds": r.seconds,
                "objective": None if math.isnan(r.objective) else r.objective,
                "k": k,
                "num_seeds": len(r.seeds),
                "finished": bool(r.finished),
                "time_to_target": reach,
                "reached_target": reach is not None,
                "seeds": [str(s) for s in graph.labels_of(r.seeds)],
                "evaluations": r.evaluations,
            })
        prob_info.append({"problem": p, "false_seeds": [str(s) for s in graph.labels_of(f)],
                          "k": k, "target_prefix_worlds": target})

    tables = _tables(records, methods, network, problems, float(ibm.get("time_limit") or 0),
                     format_table)
    print(tables["time_to_target"], "\n", tables["quality"], sep="\n")
    summary = _summary(records, methods)
    return {
        "ibm": OmegaConf.to_container(ibm, resolve=True),
        "network": network,
        "statistics_seconds": stats_seconds,
        "statistics_from_cache": bool(getattr(stats, "from_cache", False)),
        "nie": nie_info,
        "problems": prob_info,
        "results": records,
        "tables": tables,
        "summary": summary,
    }


def _rec(records: list[dict[str, Any]], p: int, m: str) -> dict[str, Any]:
    return next(r for r in records if r["problem"] == p and r["method"] == m)


def _tables(records, methods, network, problems, limit, format_table) -> dict[str, str]:
    num = len(problems)
    # Table IV: seconds to reach NIE-CELF's quality (re-estimated on common worlds)
    rows = []
    for p in range(num):
        row = [str(p + 1)]
        for m in methods:
            r = _rec(records, p, m)
            t = r["time_to_target"]
            row.append(_fmt_s(t) if t is not None else f">{_fmt_s(r['seconds'])}")
        rows.append(row)
    if "nie_celf" in methods:
        row = ["avg speedup"]
        for m in methods:
            ratios = []
            for p in range(num):
                a, b = _rec(records, p, m), _rec(records, p, "nie_celf")
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
    if "nie_celf" in methods:
        row = ["avg ratio"]
        for m in methods:
            ratios = []
            for p in range(num):
                a, b = _rec(records, p, m), _rec(records, p, "nie_celf")
                if a["blocked"] and b["blocked"] is not None:
                    ratios.append(b["blocked"] / a["blocked"])
            row.append(f"{sum(ratios) / len(ratios):.3f}" if ratios else "-")
        rows.append(row)
    t5 = format_table(rows, ["problem", *methods],
                      title=f"Table V ({network}): blocked influence (MC re-estimate) within "
                            f"{limit:g} s ('*': stopped by the limit; ratio = NIE-CELF / method)")
    return {"time_to_target": t4, "quality": t5}


def _summary(records: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in methods:
        rs = [r for r in records if r["method"] == m]
        vals = [r["blocked"] for r in rs if r["blocked"] is not None]
        out[f"{m}/mean_blocked"] = sum(vals) / len(vals) if vals else None
        out[f"{m}/max_seconds"] = max(r["seconds"] for r in rs)
    if "nie_celf" in methods and "mcs_celf" in methods:
        ratios = []
        for r in records:
            if r["method"] != "mcs_celf" or not r["finished"] or not r["blocked"]:
                continue
            nie = _rec(records, r["problem"], "nie_celf")
            ratios.append(nie["blocked"] / r["blocked"] if nie["blocked"] is not None else 0.0)
        out["nie_over_mcs_ratios"] = ratios
        out["nie_within_10pct_of_mcs"] = all(x >= 0.9 for x in ratios) if ratios else None
    return out
