"""``train.py model=nie`` (``task=fit_nie``): train paper B's neural influence estimator.

:func:`fit_nie` builds (or resumes) the NIE training set of a ``data/nie*.yaml`` config, fits the
scaler, trains the NIE LitModule of a ``model/nie.yaml`` config and reports validation / test R²
and MSE of the best weights against held-out MC labels; the blocking benchmark
(:mod:`influence_gpu.apps.blocking`) calls it too when it has no NIE checkpoint.

``conf/model/nie.yaml`` selects this task, and this task's config selects ``data=nie`` unless the
command line names another NIE data config (``data=nie_paper``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from influence_gpu.apps._run import (
    build_graph,
    finish,
    format_table,
    global_rank,
    graph_summary,
    instantiate_callbacks,
    instantiate_loggers,
    output_dir,
    per_device_batch_size,
    seed_everything,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["run", "fit_nie"]

log = logging.getLogger(__name__)


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


def _prepare_on_rank_zero(trainer: Any, dm: Any) -> None:
    """Build (or resume) the training-set file on global rank 0 only, before ``Trainer.fit``.

    The scaler is fitted on the training features before ``fit``, so the file must exist before
    Lightning would call ``prepare_data`` itself. When one process starts the others
    (``python train.py trainer=ddp``: Lightning re-runs the command line inside ``fit``), rank 0
    has built the file before any other rank starts, and they find it complete. When a launcher
    starts all ranks at once (torchrun, ``srun``), the ranks join their process group here, rank
    0 builds the file, and the others wait at a barrier.
    """
    from lightning.fabric.plugins.environments import LightningEnvironment
    from lightning.pytorch.strategies import ParallelStrategy

    strategy = trainer.strategy
    env = strategy.cluster_environment if isinstance(strategy, ParallelStrategy) else None
    external = (trainer.world_size > 1 and env is not None and env.creates_processes_externally
                and not isinstance(env, LightningEnvironment))
    if not external:
        dm.prepare_data()
        return
    trainer.strategy.setup_environment()  # init_process_group; fit() finds it initialised
    if trainer.global_rank == 0:
        dm.prepare_data()
    trainer.strategy.barrier("nie_training_set")


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

    With a data-parallel trainer (``trainer=ddp``) every rank calls this: ``data.batch_size``
    is the global batch (each process loads ``batch_size / world_size``), global rank 0 alone
    builds the training-set file (:func:`_prepare_on_rank_zero`), and Lightning writes the
    checkpoints on rank 0 only.

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
        sizes, ``world_size`` and batch sizes, and timings.

    Raises:
        ValueError: ``data_cfg.batch_size`` is not a multiple of the world size.
    """
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    ckpt_dir = Path(out_dir) / "checkpoints"
    extra: dict[str, Any] = {}
    if callbacks is None:
        extra["enable_progress_bar"] = False
        callbacks = [
            EarlyStopping(monitor="val/mse", mode="min", patience=10),
            ModelCheckpoint(dirpath=ckpt_dir, filename="nie_best", monitor="val/mse", mode="min"),
        ]
    trainer = instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False, **extra)
    t0 = time.perf_counter()
    dm = instantiate(data_cfg, graph=graph)
    global_batch = int(dm.batch_size)
    dm.batch_size = per_device_batch_size(global_batch, trainer.world_size)
    _prepare_on_rank_zero(trainer, dm)
    data_seconds = time.perf_counter() - t0
    dm.setup("fit")
    model = instantiate(model_cfg, graph_hash=graph.content_hash(), h=dm.h,
                        weight_rule=dm.weight_rule, worlds=dm.worlds,
                        worlds_seed=dm.worlds_seed, roots_per_world=dm.roots_per_world)
    model.fit_scaler(dm.train_features, dm.train_labels)
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
                           "world_size": int(trainer.world_size), "batch_size": global_batch,
                           "per_device_batch_size": int(dm.batch_size),
                           "h": int(dm.h), "weight_rule": dm.weight_rule,
                           "worlds": int(dm.worlds), "worlds_seed": int(dm.worlds_seed),
                           "roots_per_world": int(dm.roots_per_world),
                           "residual": bool(getattr(model, "residual", False)),
                           "data_seconds": data_seconds, "train_seconds": train_seconds}
    for stage, data in (("val", dm.data_val), ("test", dm.data_test)):
        for key, val in _score(net, data).items():
            out[f"{stage}/{key}"] = val
    return out


def run(cfg: DictConfig) -> dict[str, Any]:
    """Train the NIE of ``cfg.model`` on the training set of ``cfg.data`` for ``cfg.graph``.

    A graph without edge probabilities gets weighted-cascade ones (paper B's setting).

    Args:
        cfg: the composed ``conf/train.yaml`` with ``model=nie`` (and ``data=nie*``).

    Returns:
        The metrics written to ``metrics.json`` (``val/r2``, ``val/mse``, ``test/*``, ``ckpt``).

    Raises:
        ValueError: no ``data`` config with a ``_target_``.
    """
    seed_everything(cfg)
    if cfg.get("data") is None or "_target_" not in cfg.data:
        raise ValueError("task=fit_nie needs an NIE training-set config: data=nie or nie_paper")
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph)
    if graph.edge_prob is None:  # paper B's diffusion model: weighted cascade
        from influence_gpu.graph.probabilities import assign_probabilities

        log.info("graph %s has no edge probabilities: using weighted cascade", cfg.graph.name)
        graph = assign_probabilities(graph, "weighted_cascade")
    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    loggers = instantiate_loggers(cfg.get("logger"))
    res = fit_nie(graph, cfg.model, cfg.data, cfg.trainer, out_dir,
                  callbacks=callbacks or None, loggers=loggers)
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "train")),
        "task": "train",
        "model": "nie",
        "graph": graph_summary(cfg, graph),
        "status": "trained",
        **res,
    }
    if global_rank() != 0:  # other ranks of a distributed run: no table (finish writes nothing)
        return finish(out_dir, metrics, t0)
    print(format_table(
        [[k, f"{res[k]:.4f}"] for k in ("val/r2", "val/mse", "test/r2", "test/mse") if k in res],
        ["metric", "value"],
        title=f"NIE on {metrics['graph']['name']}: {res['num_train']} training instances, "
              f"{res['epochs']} epochs",
    ))
    return finish(out_dir, metrics, t0)
