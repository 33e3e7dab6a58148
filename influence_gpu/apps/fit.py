"""``train.py task=fit`` (and ``model=none``): fit any Lightning model on any datamodule.

The lightning-hydra-template ``train()``: ``cfg.data`` and ``cfg.model`` are instantiated as they
are, trained with ``cfg.trainer`` and optionally tested. Without a model (``model=none``, whose
config selects this task) it reports the graph and the ``model=`` choices instead.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from influence_gpu.apps._run import (
    build_graph,
    finish,
    graph_summary,
    instantiate_callbacks,
    instantiate_loggers,
    output_dir,
    per_device_batch_size,
    seed_everything,
)

__all__ = ["run"]

log = logging.getLogger(__name__)


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


def run(cfg: DictConfig) -> dict[str, Any]:
    """Train ``cfg.model`` on ``cfg.data`` with a Lightning ``Trainer`` (or report ``no_model``).

    Args:
        cfg: the composed ``conf/train.yaml``.

    Returns:
        The metrics written to ``metrics.json``: ``status`` (``"trained"`` or ``"no_model"``),
        the graph, ``world_size`` and the trainer's ``callback_metrics`` after fit (and test
        with ``test=true``). ``data.batch_size``, when the data config has one, is the global
        batch: each of the ``world_size`` processes loads ``batch_size / world_size``.

    Raises:
        ValueError: ``data.batch_size`` is not a multiple of the world size.
    """
    from hydra.utils import instantiate

    seed_everything(cfg)
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "train")),
        "task": "train",
        "graph": graph_summary(cfg, graph),
    }
    model_cfg = cfg.get("model")
    if model_cfg is None or "_target_" not in model_cfg:
        available = [m for m in _group_options(cfg, "model") if m != "none"]
        msg = (
            f"no model to train (model={model_cfg.get('name', 'none') if model_cfg else 'none'}); "
            + (
                f"choose one of: {', '.join(f'model={m}' for m in available)}"
                if available
                else "no learning models are configured (conf/model/ has only 'none')"
            )
        )
        print(f"graph {metrics['graph']['name']}: {graph.num_nodes} nodes, "
              f"{graph.num_edges} edges\n{msg}")
        log.info(msg)
        metrics.update(status="no_model", available_models=available, message=msg)
        return finish(out_dir, metrics, t0)
    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    loggers = instantiate_loggers(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    metrics["world_size"] = int(trainer.world_size)
    data_cfg = cfg.get("data")
    datamodule = None
    if data_cfg and "_target_" in data_cfg:
        # data.batch_size is the global batch; each process of a DDP run loads its share
        per_device = ({"batch_size": per_device_batch_size(data_cfg.batch_size,
                                                           trainer.world_size)}
                      if data_cfg.get("batch_size") is not None else {})
        datamodule = instantiate(data_cfg, **per_device)
    model = instantiate(model_cfg)
    if cfg.get("train", True):
        trainer.fit(model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
    if cfg.get("test", False):
        trainer.test(model=model, datamodule=datamodule)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
    metrics["status"] = "trained"
    return finish(out_dir, metrics, t0)
