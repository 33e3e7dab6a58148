"""Plumbing shared by every task, and :func:`main`, which both entry points call.

The tasks above this module build their objects from config; what they share lives here: the run
folder and ``metrics.json``, seeding, the device, the graph of a ``graph/`` config, Lightning
callbacks and loggers from config (as lightning-hydra-template's ``utils/instantiators.py``), a
text table, and the metric a sweep optimises (``optimized_metric``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "main",
    "instantiate_task",
    "metric_value",
    "seed_everything",
    "resolve_device",
    "build_graph",
    "graph_summary",
    "evaluation_metrics",
    "instantiate_callbacks",
    "instantiate_loggers",
    "output_dir",
    "global_rank",
    "per_device_batch_size",
    "write_metrics",
    "finish",
    "format_table",
    "jsonable",
]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------- the entry
def instantiate_task(cfg: DictConfig) -> Callable[[DictConfig], dict[str, Any]]:
    """Build the task of ``cfg.task``: a ``run(cfg) -> dict`` (``conf/task/<name>.yaml``).

    Raises:
        ValueError: ``cfg.task`` is not a config with a ``_target_``, or it cannot be built.
        TypeError: it builds something that is not callable.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    node = cfg.get("task")
    if not isinstance(node, DictConfig) or "_target_" not in node:
        raise ValueError(
            "cfg.task must be a task config with a _target_ naming a run(cfg) function "
            f"(conf/task/<name>.yaml, chosen with task=<name>), got {node!r}"
        )
    try:
        task = instantiate(node)
    except InstantiationException as err:
        raise ValueError(
            f"cannot build the task {node._target_!r} of cfg.task (a task config names "
            f"influence_gpu.apps.<task>.run with _partial_: true): {err}"
        ) from err
    if not callable(task):
        raise TypeError(
            f"cfg.task ({node._target_!r}) built a {type(task).__name__}, expected a callable "
            "run(cfg) -> dict"
        )
    return task


def metric_value(metrics: Mapping[str, Any], name: str | None) -> float | None:
    """The value of ``name`` in ``metrics`` (``None`` when ``name`` is unset).

    ``name`` is a top-level key (``"val/r2"``) or a dotted path into nested dicts
    (``"summary.celf/spread@10"``).

    Raises:
        KeyError: no such metric (the message lists the top-level keys).
    """
    if not name:
        return None
    name = str(name)
    if name in metrics:
        value = metrics[name]
    else:
        value = metrics
        for part in name.split("."):
            if not isinstance(value, Mapping) or part not in value:
                raise KeyError(
                    f"optimized_metric={name!r} is not in the task's metrics; top-level keys: "
                    f"{', '.join(map(str, metrics))}"
                )
            value = value[part]
    return float(value)


def main(cfg: DictConfig) -> float | None:
    """Run the task of ``cfg.task`` and return ``cfg.optimized_metric``'s value (for sweeps).

    The task writes ``<cfg.paths.output_dir>/metrics.json`` itself when it succeeds; this function
    writes nothing.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` or ``conf/train.yaml``.

    Returns:
        The metric named by ``cfg.optimized_metric``, or ``None`` when that is unset.

    Raises:
        ValueError: ``cfg.task`` is not a buildable task config.
        KeyError: ``optimized_metric`` names a metric the task did not report.
    """
    task = instantiate_task(cfg)
    metrics = task(cfg)
    return metric_value(metrics, cfg.get("optimized_metric"))


# ---------------------------------------------------------------------------------- plumbing
def seed_everything(cfg: DictConfig) -> None:
    """``lightning.seed_everything(cfg.seed, workers=True)``."""
    import lightning

    from influence_gpu.validation import check_int

    # lightning takes a 32-bit unsigned seed (it would replace any other by a random one)
    lightning.seed_everything(check_int(cfg.seed, "seed", minimum=0, maximum=2**32 - 1),
                              workers=True)


def resolve_device(device: Any) -> torch.device:
    """``"auto"`` -> ``cuda`` when available, else ``cpu``; anything else as a ``torch.device``.

    Raises:
        ValueError: ``device`` is not a valid device string, or names a device this machine
            does not have (CUDA without a GPU, a CUDA index beyond the ones present).
        TypeError: ``device`` is not a string.
    """
    from influence_gpu.validation import check_device

    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be 'auto' or a torch device string, got {device!r}")
    try:
        return check_device(device)
    except ValueError as err:
        raise ValueError(f"device must be 'auto' or a usable torch device: {err}") from None


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


def graph_summary(cfg: DictConfig, graph: DiffusionGraph) -> dict[str, Any]:
    """Name, size and direction of the run's graph (for ``metrics.json``)."""
    return {
        "name": str(cfg.graph.get("name", "graph")),
        "num_nodes": graph.num_nodes,
        "num_edges": graph.num_edges,
        "directed": bool(graph.directed),
    }


def evaluation_metrics(
    cfg: DictConfig, task: str, graph: DiffusionGraph, device: torch.device, diffusion: Any
) -> dict[str, Any]:
    """The first keys of a simulation task's ``metrics.json`` (graph, model, device, seed)."""
    return {
        "task_name": str(cfg.get("task_name", "evaluate")),
        "task": task,
        "graph": graph_summary(cfg, graph),
        "model": str(diffusion.name),
        "num_samples": int(diffusion.num_samples),
        "device": str(device),
        "seed": int(cfg.seed),
    }


def _instantiate_group(group_cfg: DictConfig | None, what: str) -> list[Any]:
    from hydra.utils import instantiate

    if not group_cfg:
        return []
    if not isinstance(group_cfg, DictConfig):
        raise TypeError(f"{what} config must be a mapping of name -> config, got {group_cfg!r}")
    return [instantiate(c) for c in group_cfg.values()
            if isinstance(c, DictConfig) and "_target_" in c]


def instantiate_callbacks(callbacks_cfg: DictConfig | None) -> list[Any]:
    """Lightning callbacks of a ``callbacks/`` config (entries without ``_target_`` skipped).

    Raises:
        TypeError: the config is not a mapping.
    """
    return _instantiate_group(callbacks_cfg, "callbacks")


def instantiate_loggers(logger_cfg: DictConfig | None) -> list[Any]:
    """Lightning loggers of a ``logger/`` config (entries without ``_target_`` skipped).

    Raises:
        TypeError: the config is not a mapping.
    """
    return _instantiate_group(logger_cfg, "logger")


def output_dir(cfg: DictConfig) -> Path:
    """``cfg.paths.output_dir``, created."""
    out = Path(str(cfg.paths.output_dir))
    out.mkdir(parents=True, exist_ok=True)
    return out


def global_rank() -> int:
    """This process's rank in a distributed job (0 when there is none).

    The process group's rank once one is initialised, else the launcher's environment
    (``RANK`` from torchrun, ``SLURM_PROCID`` from ``srun``; the variables Lightning reads).
    """
    import os

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return int(torch.distributed.get_rank())
    for key in ("RANK", "SLURM_PROCID"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 0


def per_device_batch_size(batch_size: int, world_size: int) -> int:
    """The batch each of ``world_size`` processes loads: ``batch_size`` is the global batch.

    Data-parallel training splits every step's global batch across the processes (Lightning's
    ``DistributedSampler`` gives each rank its own share of the data), so one step sees the same
    number of examples, and an epoch has the same number of steps, on any number of devices.

    Raises:
        ValueError: ``batch_size`` is not a multiple of ``world_size``.
    """
    batch_size, world_size = int(batch_size), int(world_size)
    if world_size < 1 or batch_size % world_size:
        raise ValueError(
            f"data.batch_size={batch_size} is the global batch and must be a multiple of the "
            f"world size {world_size} (trainer.devices x trainer.num_nodes), so that each "
            f"process loads batch_size / world_size; choose data.batch_size="
            f"{max(world_size, batch_size // max(world_size, 1) * world_size)} or change devices"
        )
    return batch_size // world_size


def write_metrics(out_dir: Path, metrics: dict[str, Any]) -> Path:
    """Write ``<out_dir>/metrics.json`` (non-JSON values as strings)."""
    path = Path(out_dir) / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return path


def finish(out_dir: Path, metrics: dict[str, Any], t0: float) -> dict[str, Any]:
    """Add ``seconds`` (since ``t0``) and ``output_dir``, write ``metrics.json``, return it.

    In a distributed job only global rank 0 writes (every rank returns the metrics).
    """
    metrics["seconds"] = time.perf_counter() - t0
    metrics["output_dir"] = str(out_dir)
    if global_rank() == 0:
        path = write_metrics(out_dir, metrics)
        log.info("wrote %s", path)
    return metrics


def jsonable(x: Any) -> Any:
    """``x`` when JSON has it (str, int, float, bool, None), else ``str(x)``."""
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
