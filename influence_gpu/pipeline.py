"""Hydra-configured pipelines behind ``evaluate.py`` and ``train.py``.

This is the only library module that touches Hydra / OmegaConf / Lightning; ``import
influence_gpu`` does not import it. Each function takes the composed config and returns the
metrics it also writes to ``<output_dir>/metrics.json``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["resolve_device", "build_graph", "evaluate", "train", "format_table"]

log = logging.getLogger(__name__)


def resolve_device(device: Any) -> torch.device:
    """``"auto"`` -> ``cuda`` when available, else ``cpu``; anything else as a ``torch.device``.

    Raises:
        ValueError: ``device`` is not a valid device string.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(str(device))
    except RuntimeError as err:
        raise ValueError(f"device must be 'auto' or a torch device string, got {device!r}") from err


def build_graph(graph_cfg: DictConfig) -> DiffusionGraph:
    """Build the graph of a ``graph/`` config.

    ``graph_cfg.source`` is instantiated (a generator or :func:`~influence_gpu.graph.load_graph`);
    ``graph_cfg.probabilities``, when set, is a partial of
    :func:`~influence_gpu.graph.assign_probabilities` applied to the result.

    Raises:
        ValueError: the config has no ``source`` node.
        TypeError: ``source`` does not build a ``DiffusionGraph``.
    """
    from hydra.utils import instantiate

    if graph_cfg is None or graph_cfg.get("source") is None:
        raise ValueError("graph config needs a `source` node with a _target_ that builds the graph")
    graph = instantiate(graph_cfg.source)
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(
            f"graph.source built a {type(graph).__name__}, expected a DiffusionGraph "
            f"(_target_={graph_cfg.source.get('_target_')!r})"
        )
    if graph_cfg.get("probabilities") is not None:
        graph = instantiate(graph_cfg.probabilities)(graph)
    return graph


def _graph_summary(cfg: DictConfig, graph: DiffusionGraph) -> dict[str, Any]:
    return {
        "name": str(cfg.graph.get("name", "graph")),
        "num_nodes": graph.num_nodes,
        "num_edges": graph.num_edges,
        "directed": bool(graph.directed),
    }


def _output_dir(cfg: DictConfig) -> Path:
    out = Path(str(cfg.paths.output_dir))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _write_metrics(out_dir: Path, metrics: dict[str, Any]) -> Path:
    path = out_dir / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return path


def _jsonable(x: Any) -> Any:
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def format_table(
    rows: list[list[str]], header: list[str], title: str | None = None
) -> str:
    """Plain aligned text table (first column left-aligned, the others right-aligned)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in
                 enumerate(zip(r, widths, strict=True))]
        return "  ".join(cells)

    rule = "-" * len(line(header))
    out = [title] if title else []
    out += [line(header), rule, *[line(r) for r in rows]]
    return "\n".join(out)


def _seed_everything(seed: Any) -> None:
    import lightning

    lightning.seed_everything(int(seed), workers=True)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Run ``task=select`` (compare selection methods) or ``task=spread`` (spread of given seeds).

    Writes ``metrics.json`` (and ``spread_vs_k.png`` for ``select`` with ``plot=true``) into
    ``cfg.paths.output_dir`` and prints a table.

    Args:
        cfg: the composed ``conf/evaluate.yaml``.

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        ValueError: unknown task, a method without a selector config, missing seeds.
    """
    if cfg.task == "cascades":  # accuracy of a learned LTNN / RWNN checkpoint (paper A)
        from influence_gpu.pipeline_learn import evaluate_cascades

        return evaluate_cascades(cfg)
    _seed_everything(cfg.seed)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = _output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph).to(device)
    log.info("graph %s on %s", graph, device)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "evaluate")),
        "task": str(cfg.task),
        "graph": _graph_summary(cfg, graph),
        "model": str(cfg.diffusion.model),
        "num_samples": int(cfg.diffusion.num_samples),
        "device": str(device),
        "seed": int(cfg.seed),
    }
    if cfg.task == "spread":
        metrics.update(_evaluate_spread(cfg, graph))
    elif cfg.task == "select":
        metrics.update(_evaluate_select(cfg, graph, out_dir))
    elif cfg.task == "ibm":  # influence blocking benchmark (paper B)
        from influence_gpu.pipeline_ibm import evaluate_ibm

        metrics.update(evaluate_ibm(cfg, graph, out_dir))
    else:
        raise ValueError(
            f"task must be 'select', 'spread', 'cascades' or 'ibm', got {cfg.task!r}"
        )
    metrics["seconds"] = time.perf_counter() - t0
    metrics["output_dir"] = str(out_dir)
    _write_metrics(out_dir, metrics)
    log.info("wrote %s", out_dir / "metrics.json")
    return metrics


def _evaluate_spread(cfg: DictConfig, graph: DiffusionGraph) -> dict[str, Any]:
    from influence_gpu.api import simulate

    seeds = cfg.get("seeds")
    if seeds is None or len(seeds) == 0:
        raise ValueError("task=spread needs seeds=[...] (node labels of the graph)")
    seeds = list(OmegaConf.to_container(seeds, resolve=True))
    t0 = time.perf_counter()
    res = simulate(
        graph,
        seeds,
        model=str(cfg.diffusion.model),
        num_samples=int(cfg.diffusion.num_samples),
        seed=int(cfg.seed),
        memory_budget=cfg.diffusion.get("memory_budget"),
    )
    seconds = time.perf_counter() - t0
    print(
        format_table(
            [[str(cfg.diffusion.model), f"{res.mean:.3f}", f"{res.stderr:.3f}", f"{seconds:.2f}"]],
            ["model", "spread", "stderr", "seconds"],
            title=f"spread of {len(seeds)} seeds, {res.num_samples} runs, "
            f"graph {cfg.graph.get('name', '')} ({graph.num_nodes} nodes, {graph.num_edges} edges)",
        )
    )
    return {
        "seeds": [_jsonable(s) for s in seeds],
        "spread": res.mean,
        "stderr": res.stderr,
        "simulate_seconds": seconds,
    }


def _evaluate_select(cfg: DictConfig, graph: DiffusionGraph, out_dir: Path) -> dict[str, Any]:
    from hydra.utils import instantiate

    from influence_gpu.diffusion._common import make_generator
    from influence_gpu.plotting import plot_spread_vs_k
    from influence_gpu.selection import make_spread_oracle

    k = int(cfg.k)
    model = str(cfg.diffusion.model)
    num_samples = int(cfg.diffusion.num_samples)
    budget = cfg.diffusion.get("memory_budget")
    selectors = cfg.get("selectors") or {}
    methods = [str(m) for m in cfg.methods]
    missing = [m for m in methods if m not in selectors]
    if missing:
        raise ValueError(
            f"methods contains {missing[0]!r}, which has no selector config; "
            f"configured selectors: {', '.join(selectors)}"
        )
    progress = bool(cfg.get("progress", True))
    results: dict[str, Any] = {}
    for name in methods:
        log.info("selecting %d seeds with %s", k, name)
        select = instantiate(selectors[name])
        gen = make_generator(int(cfg.seed), graph.device)
        t0 = time.perf_counter()
        res = select(
            graph,
            k,
            model=model,
            num_samples=num_samples,
            generator=gen,
            memory_budget=budget,
            return_result=True,
            progress=progress,
        )
        seconds = time.perf_counter() - t0
        # Re-estimate every prefix on fresh worlds (another seed): no selection bias, and the
        # same worlds for every method (common random numbers across methods for IC).
        oracle = make_spread_oracle(
            graph,
            model,
            num_samples,
            generator=make_generator(int(cfg.seed) + 1, graph.device),
            memory_budget=budget,
        )
        means, stderrs = oracle.estimate([res.seeds[: i + 1] for i in range(len(res.seeds))])
        results[name] = {
            "seeds": [_jsonable(s) for s in graph.labels_of(res.seeds)],
            "spread": means.tolist(),
            "stderr": stderrs.tolist(),
            "seconds": seconds,
            "oracle_calls": res.oracle_calls,
            "evaluations": res.evaluations,
            "selection_spread": list(res.spreads),
        }

    header = ["k", *methods]
    rows = [
        [str(i + 1), *[f"{results[m]['spread'][i]:.2f} ± {results[m]['stderr'][i]:.2f}"
                       for m in methods]]
        for i in range(k)
    ]
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
        "summary": {f"{m}/spread@{k}": results[m]["spread"][-1] for m in methods},
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


def _group_options(cfg: DictConfig, group: str) -> list[str]:
    """Config names available in a group (from Hydra's config search path, else ``conf/``)."""
    try:
        from hydra.core.global_hydra import GlobalHydra

        gh = GlobalHydra.instance()
        if gh.is_initialized():
            return sorted(gh.config_loader().get_group_options(group))
    except Exception:  # noqa: BLE001 - fall back to listing the folder
        pass
    folder = Path(str(cfg.paths.root_dir)) / "conf" / group
    return sorted(p.stem for p in folder.glob("*.yaml"))


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train the model of ``cfg.model`` on ``cfg.data`` with a Lightning ``Trainer``.

    The learning models (LTNN / RWNN, NIE) come with later work; until a ``model/`` config with a
    ``_target_`` is chosen this loads the graph, reports what is available and writes
    ``metrics.json`` with ``status: "no_model"``.

    Args:
        cfg: the composed ``conf/train.yaml``.

    Returns:
        The metrics written to ``metrics.json``.
    """
    from hydra.utils import instantiate

    from influence_gpu.pipeline_learn import is_cascade_config, train_cascades

    if "NIELitModule" in str((cfg.get("model") or {}).get("_target_", "")):  # NIE (paper B)
        from influence_gpu.pipeline_ibm import train_nie

        return train_nie(cfg)
    if is_cascade_config(cfg):  # LTNN / RWNN / MIPs on cascade data (paper A)
        return train_cascades(cfg)
    _seed_everything(cfg.seed)
    out_dir = _output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "train")),
        "task": "train",
        "graph": _graph_summary(cfg, graph),
    }
    model_cfg = cfg.get("model")
    if model_cfg is None or "_target_" not in model_cfg:
        available = [m for m in _group_options(cfg, "model") if m != "none"]
        msg = (
            f"no model to train (model={model_cfg.get('name', 'none') if model_cfg else 'none'}); "
            + (
                f"choose one of: {', '.join(f'model={m}' for m in available)}"
                if available
                else "no learning models are configured yet (conf/model/ has only 'none')"
            )
        )
        print(f"graph {metrics['graph']['name']}: {graph.num_nodes} nodes, "
              f"{graph.num_edges} edges\n{msg}")
        log.info(msg)
        metrics.update(status="no_model", available_models=available, message=msg)
    else:
        datamodule = instantiate(cfg.data) if cfg.get("data") and "_target_" in cfg.data else None
        model = instantiate(cfg.model)
        callbacks = [
            instantiate(c) for c in (cfg.get("callbacks") or {}).values()
            if c is not None and "_target_" in c
        ]
        loggers = [
            instantiate(c) for c in (cfg.get("logger") or {}).values()
            if c is not None and "_target_" in c
        ]
        trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
        if cfg.get("train", True):
            trainer.fit(model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        if cfg.get("test", False):
            trainer.test(model=model, datamodule=datamodule)
            metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        metrics["status"] = "trained"
    metrics["seconds"] = time.perf_counter() - t0
    metrics["output_dir"] = str(out_dir)
    _write_metrics(out_dir, metrics)
    return metrics
