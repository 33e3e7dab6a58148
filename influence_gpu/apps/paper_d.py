"""``evaluate.py experiment=paper_d_<network>`` / ``experiment=paper_d`` (``task=paper_d``).

Paper D's comparison (non-submodular IM, DESIGN 7.4): for every network and every model of
``paper_d.models`` (a diffusion config under ``paper_d.diffusions``), every method of
``paper_d.methods`` (a selector config under ``paper_d.selectors``; one with ``_partial_: true``
is called with ``diffusion=<the model>``) picks seeds for every ``k``, and all sets of one
(network, model) are re-scored together with ``paper_d.eval_runs`` runs on common threshold
draws. The networks are ``paper_d.networks`` (name -> ``{graph: <graph config>, ks: [...]}``)
or, when that is unset, ``cfg.graph`` with ``paper_d.ks``. The experiment itself is
:func:`influence_gpu.experiments.paper_d.run_experiment`; this module builds its inputs from
config, prints tables and writes ``metrics.json`` with one record per (network, model, method, k).
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from omegaconf import DictConfig, OmegaConf

from influence_gpu.apps._run import (
    build_graph,
    finish,
    jsonable,
    output_dir,
    resolve_device,
    seed_everything,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["run", "summarise", "load_network"]

log = logging.getLogger(__name__)


def load_network(graph_cfg: dict[str, Any]) -> DiffusionGraph:
    """Build the graph of a (resolved, plain-dict) graph config; picklable for workers."""
    return build_graph(OmegaConf.create(graph_cfg))


def _check(names: list[str], configs: Any, what: str, where: str) -> None:
    unknown = [m for m in names if m not in (configs or {})]
    if unknown:
        raise ValueError(f"paper_d.{what} contains {unknown[0]!r}, which has no config under "
                         f"paper_d.{where}; configured: {', '.join(configs or {})}")


def summarise(records: list[dict[str, Any]], reference: str | None) -> dict[str, float]:
    """Per method: ``<method>/mean_spread`` and ``<method>/mean_ratio`` to ``reference``.

    ``mean_ratio`` is the mean over (network, model, k) of the method's re-scored spread over
    the reference's on the same (network, model, k) (only where the reference has a record).
    """
    ref = {(r["network"], r["model"], r["k"]): r["spread"] for r in records
           if r["method"] == reference}
    spreads: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    for r in records:
        spreads.setdefault(r["method"], []).append(r["spread"])
        b = ref.get((r["network"], r["model"], r["k"]))
        if b:
            ratios.setdefault(r["method"], []).append(r["spread"] / b)
    out = {f"{m}/mean_spread": sum(v) / len(v) for m, v in spreads.items()}
    out.update({f"{m}/mean_ratio": sum(v) / len(v) for m, v in ratios.items()})
    return out


def run(cfg: DictConfig) -> dict[str, Any]:
    """Paper D's comparison; write ``metrics.json`` (and one plot per network).

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with a ``paper_d`` node (use
            ``experiment=paper_d_<network>`` or ``experiment=paper_d``).

    Returns:
        The metrics written to ``metrics.json``: ``results`` (one record per (network, model,
        method, k): ``network``, ``model``, ``method``, ``k``, ``seeds``, ``active``,
        ``blocked`` (``None`` under LT), ``spread``, ``stderr``, ``seconds``, ``cpu_seconds``,
        ``own_objective``), ``seconds_per_run`` (``"<network>/<model>" -> [wall, cpu]``),
        ``selectors`` (each method's config), ``summary`` (:func:`summarise`), ``tables``.

    Raises:
        ValueError: no ``paper_d`` node, or a model / method without a config.
    """
    from hydra.utils import instantiate

    from influence_gpu.experiments.paper_d import Method, Network, plot, run_experiment, tables

    seed_everything(cfg)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    pd = cfg.get("paper_d")
    if pd is None:
        raise ValueError("task=paper_d needs a `paper_d` node: use experiment=paper_d_<network>")
    model_names = [str(m) for m in pd.models]
    method_names = [str(m) for m in pd.methods]
    if not model_names or not method_names:
        raise ValueError("paper_d.models and paper_d.methods must each name at least one entry")
    _check(model_names, pd.get("diffusions"), "models", "diffusions")
    _check(method_names, pd.get("selectors"), "methods", "selectors")
    models = {m: instantiate(pd.diffusions[m]) for m in model_names}
    per_k = {str(m) for m in pd.get("per_k") or []}
    only = pd.get("method_models") or {}
    methods = []
    for name in method_names:
        node = pd.selectors[name]
        partial = bool(node.get("_partial_", False))
        methods.append(Method(name, instantiate(node), per_k=name in per_k,
                              models=tuple(str(x) for x in only[name]) if name in only else None,
                              takes_diffusion=partial))

    if pd.get("networks"):
        entries = {str(n): (e.graph, e.ks) for n, e in pd.networks.items()}
    else:
        entries = {str(cfg.graph.get("name", "graph")): (cfg.graph, pd.ks)}
    networks = [Network(name, functools.partial(
        load_network, OmegaConf.to_container(graph, resolve=True)), [int(k) for k in ks])
        for name, (graph, ks) in entries.items()]
    progress = bool(cfg.get("progress", True))
    records, timing = run_experiment(
        networks, models, methods, seed=int(cfg.seed), eval_runs=int(pd.eval_runs),
        eval_seed=int(pd.eval_seed), workers=int(pd.get("workers", 1)),
        device=device, progress=progress, log=log.info,
    )
    for r in records:
        r["seeds"] = [jsonable(s) for s in r["seeds"]]
    k_time = max(k for n in networks for k in n.ks if k <= 10)
    text = tables(records, k_time=k_time)
    print(text)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "evaluate")),
        "task": "paper_d",
        "networks": {n.name: list(n.ks) for n in networks},
        "models": {m: repr(d) for m, d in models.items()},
        "device": str(device),
        "seed": int(cfg.seed),
        "eval_runs": int(pd.eval_runs),
        "eval_seed": int(pd.eval_seed),
        "workers": int(pd.get("workers", 1)),
        "selectors": {m: OmegaConf.to_container(pd.selectors[m], resolve=True)
                      for m in method_names},
        "results": records,
        "seconds_per_run": timing,
        "summary": summarise(records, pd.get("reference")),
        "tables": text,
    }
    if cfg.get("plot", True) and records:
        metrics["plots"] = [str(plot(records, n.name, out_dir / f"spread_vs_k_{n.name}.png",
                                     eval_runs=int(pd.eval_runs))) for n in networks]
    return finish(out_dir, metrics, t0)
