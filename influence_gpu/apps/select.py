"""``evaluate.py`` (``task=select``): compare seed selectors on one graph.

Each entry of ``cfg.selectors`` is a selector config (``conf/selector/<name>.yaml``, chosen with
``selector=[...]``: ``_target_`` = a :class:`~influence_gpu.selection.base.SeedSelector` class,
keys = its constructor arguments). Every selector picks ``k`` seeds; then every prefix of
its seeds is re-estimated on fresh worlds (seed ``cfg.seed + 1``), the same worlds for every
method, so the curves are unbiased and comparable.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
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
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run each selector of ``cfg.selectors`` and report the spread of its first ``k`` seeds.

    Writes ``metrics.json`` (and ``spread_vs_k.png`` with ``plot=true``) into
    ``cfg.paths.output_dir`` and prints a table.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` (``task=select``).

    Returns:
        The metrics written to ``metrics.json``: per method its ``seeds`` (labels), prefix
        ``spread`` / ``stderr``, ``seconds``, ``oracle_calls``, ``evaluations`` and the
        selector's own ``selection_spread``; a ``summary`` of ``<method>/spread@<k>``.

    Raises:
        ValueError: no selectors chosen.
    """
    from hydra.utils import instantiate

    seed_everything(cfg)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph).to(device)
    log.info("graph %s on %s", graph, device)
    diffusion = instantiate(cfg.diffusion)
    metrics = evaluation_metrics(cfg, "select", graph, device, diffusion)
    metrics.update(_compare(cfg, graph, diffusion, out_dir))
    return finish(out_dir, metrics, t0)


def _compare(cfg: DictConfig, graph: DiffusionGraph, diffusion: Any, out_dir: Path
             ) -> dict[str, Any]:
    from hydra.utils import instantiate

    from influence_gpu.diffusion._common import make_generator
    from influence_gpu.plotting import plot_spread_vs_k
    from influence_gpu.selection.oracles import SpreadOracle

    k = int(cfg.k)
    selectors = cfg.get("selectors") or {}
    methods = [str(m) for m in selectors]
    if not methods:
        raise ValueError("task=select needs at least one selector: selector=[celf,degree,...]")
    results: dict[str, Any] = {}
    for name in methods:
        log.info("selecting %d seeds with %s", k, name)
        selector = instantiate(selectors[name])
        res = selector.select(graph, k, generator=make_generator(int(cfg.seed), graph.device))
        # Re-estimate every prefix on fresh worlds (another seed): no selection bias, and the
        # same worlds for every method (common random numbers across methods for IC).
        prefixes = [res.ids[: i + 1] for i in range(len(res.ids))]
        gen = make_generator(int(cfg.seed) + 1, graph.device)
        rescore = instantiate(cfg.diffusion)
        blocked: dict[str, Any] = {}
        if rescore.blocks:  # threshold models: active and blocked counts of every prefix
            outs = [rescore.simulate(graph, p, generator=gen) for p in prefixes]
            spread = [float(o.mean) for o in outs]
            stderr = [float(o.stderr) for o in outs]
            blocked = {"blocked": [float(o.blocked_mean) for o in outs],
                       "blocked_stderr": [float(o.blocked_stderr) for o in outs]}
        else:
            means, stderrs = SpreadOracle(graph, rescore, generator=gen).estimate(prefixes)
            spread, stderr = means.tolist(), stderrs.tolist()
        results[name] = {
            "seeds": [jsonable(s) for s in res.seeds],
            "spread": spread,
            "stderr": stderr,
            **blocked,
            "seconds": res.seconds,
            "oracle_calls": res.oracle_calls,
            "evaluations": res.evaluations,
            "selection_spread": list(res.prefix_objective),
        }

    model, num_samples = diffusion.name, diffusion.num_samples
    header = ["k", *methods]
    def cell(m: str, i: int) -> str:
        r = results[m]
        text = f"{r['spread'][i]:.2f} ± {r['stderr'][i]:.2f}"
        return text + (f" (blocked {r['blocked'][i]:.2f})" if "blocked" in r else "")

    rows = [[str(i + 1), *[cell(m, i) for m in methods]] for i in range(k)]
    rows.append(["seconds", *[f"{results[m]['seconds']:.2f}" for m in methods]])
    rows.append(["evaluations", *[str(results[m]["evaluations"]) for m in methods]])
    print(
        format_table(
            rows,
            header,
            title=f"{model.upper()} spread of the first k seeds (mean ± stderr of {num_samples} "
            f"runs), graph {cfg.graph.get('name', '')} ({graph.num_nodes} nodes, "
            f"{graph.num_edges} edges)",
        )
    )
    out: dict[str, Any] = {
        "k": k,
        "methods": results,
        "summary": {
            **{f"{m}/spread@{k}": results[m]["spread"][-1] for m in methods},
            **{f"{m}/blocked@{k}": results[m]["blocked"][-1] for m in methods
               if "blocked" in results[m]},
        },
    }
    if cfg.get("plot", True):
        png = plot_spread_vs_k(
            {m: results[m]["spread"] for m in methods},
            out_dir / "spread_vs_k.png",
            stderr={m: results[m]["stderr"] for m in methods},
            title=f"{model.upper()} on {cfg.graph.get('name', '')} ({num_samples} runs)",
        )
        out["plot"] = str(png)
    return out
