"""``evaluate.py experiment=paper_e_<network>`` (``task=paper_e``): paper E's temporal IM runs.

On the temporal network of ``cfg.graph``: every method of ``paper_e.methods`` (a config under
``paper_e.selectors``: ``_target_`` = a
:class:`~influence_gpu.selection.base.SeedSelector` class, keys = its constructor arguments; see
``conf/experiment/paper_e_base.yaml``) picks seeds for every ``k`` of ``paper_e.ks``, and every
set is re-scored with ``paper_e.rescore_runs`` temporal IC runs on common worlds (hash key
``paper_e.rescore_seed``). The experiment itself is
:func:`influence_gpu.experiments.paper_e.run_network`; this module builds its inputs from
config, prints a table and writes ``metrics.json`` with one record per (network, method, k).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from omegaconf import DictConfig

from influence_gpu.apps._run import (
    build_graph,
    evaluation_metrics,
    finish,
    format_table,
    jsonable,
    output_dir,
    resolve_device,
    seed_everything,
)

__all__ = ["run", "summarise"]

log = logging.getLogger(__name__)


def summarise(records: list[dict[str, Any]]) -> dict[str, float]:
    """``<method>/spread@<k>`` of every record, and ``<method>/spread`` at its largest ``k``."""
    out: dict[str, float] = {}
    largest: dict[str, int] = {}
    for r in records:
        out[f"{r['method']}/spread@{r['k']}"] = r["spread"]
        if r["k"] >= largest.get(r["method"], 0):
            largest[r["method"]] = r["k"]
            out[f"{r['method']}/spread"] = r["spread"]
    return out


def run(cfg: DictConfig) -> dict[str, Any]:
    """Paper E's comparison on ``cfg.graph``; write ``metrics.json`` (and a plot).

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with a ``paper_e`` node (use
            ``experiment=paper_e_<network>``).

    Returns:
        The metrics written to ``metrics.json``: ``results`` (one record per (network, method,
        k): ``network``, ``method``, ``k``, ``seeds``, ``spread``, ``stderr``, ``seconds``,
        ``offline_seconds``, ``finished``, ``evaluations``; IMM adds ``approximation`` and
        ``num_rr_sets``), ``selectors`` (each method's repr), ``summary`` (:func:`summarise`)
        and the run's graph / device / seed.

    Raises:
        ValueError: no ``paper_e`` node, no methods, or a method without a selector config.
    """
    from hydra.utils import instantiate

    from influence_gpu.experiments.paper_e import Method, plot, run_network

    seed_everything(cfg)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    pe = cfg.get("paper_e")
    if pe is None:
        raise ValueError("task=paper_e needs a `paper_e` node: use experiment=paper_e_<network>")
    names = [str(m) for m in pe.get("methods") or []]
    configs = pe.get("selectors") or {}
    if not names:
        raise ValueError("paper_e.methods is empty: name at least one of paper_e.selectors")
    unknown = [m for m in names if m not in configs]
    if unknown:
        raise ValueError(f"paper_e.methods contains {unknown[0]!r}, which has no config under "
                         f"paper_e.selectors; configured: {', '.join(configs)}")
    graph = build_graph(cfg.graph).to(device)
    log.info("graph %s on %s", graph, device)
    diffusion = instantiate(cfg.diffusion)
    metrics = evaluation_metrics(cfg, "paper_e", graph, device, diffusion)
    network = str(cfg.graph.get("name", "graph"))
    per_k = {str(m) for m in pe.get("per_k") or []}
    methods = [Method(m, instantiate(configs[m]), per_k=m in per_k) for m in names]
    ks = sorted({int(k) for k in pe.ks})
    records = run_network(
        graph, methods, network=network, ks=ks, diffusion=diffusion,
        rescore_runs=int(pe.rescore_runs), rescore_key=int(pe.rescore_seed),
        seed=int(cfg.seed), progress=bool(cfg.get("progress", True)), log=log.info,
    )
    for r in records:
        r["seeds"] = [jsonable(s) for s in r["seeds"]]

    cell = {(r["method"], r["k"]): f"{r['spread']:.1f} ± {r['stderr']:.1f}" for r in records}
    def most(name: str, field: str) -> str:
        return f"{max((r[field] for r in records if r['method'] == name), default=0.0):.3g}"

    rows = [[m.name, *[cell.get((m.name, k), "-") for k in ks], most(m.name, "seconds"),
             most(m.name, "offline_seconds")] for m in methods]
    print(format_table(
        rows, ["method", *[f"k={k}" for k in ks], "seconds", "offline"],
        title=f"temporal IC spread (mean ± stderr of {int(pe.rescore_runs)} runs), "
        f"{network} ({graph.num_nodes} nodes, {graph.num_edges} arcs)",
    ))
    metrics.update(
        network=network,
        ks=ks,
        rescore_runs=int(pe.rescore_runs),
        rescore_seed=int(pe.rescore_seed),
        selectors={m.name: repr(m.selector) for m in methods},
        results=records,
        summary=summarise(records),
    )
    if pe.get("note"):
        metrics["note"] = str(pe.note)
    if cfg.get("plot", True) and records:
        metrics["plot"] = str(plot(records, network, out_dir / "spread_vs_k.png"))
    return finish(out_dir, metrics, t0)
