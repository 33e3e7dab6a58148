"""``train.py`` (``task=fit_cascades``): learn influence from cascades (paper A).

1. the datamodule (``cfg.data``, a :class:`~influence_gpu.cascades.CascadeDataModule`) is built;
2. the model is instantiated with the graph passed explicitly:
   ``instantiate(cfg.model, num_nodes=dm.num_nodes, edge_index=dm.edge_index)``;
3. a ``LightningModule`` (LTNN / RWNN) is trained with the ``Trainer`` of ``cfg.trainer``
   (callbacks and loggers from ``cfg.callbacks`` / ``cfg.logger``); any other model (the LT / RW
   MIPs) is fitted with ``model.fit(dm)``, which returns its metrics. With a data-parallel
   trainer (``trainer=ddp``) ``data.batch_size`` is the global batch: each of the
   ``world_size`` processes loads ``batch_size / world_size`` cascades per step
   (:func:`~influence_gpu.apps._run.per_device_batch_size`), logged epoch metrics are averaged
   over the ranks, and only global rank 0 writes checkpoints and ``metrics.json``;
4. train and test accuracy of the final model (share of ``(cascade, node)`` pairs predicted
   right), two baselines (the majority class; "no new activation", ``xT = x0``), for paper A's
   synthetic generator the Bayes-optimal ceiling, and the seconds are written to
   ``metrics.json``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from influence_gpu.apps._run import (
    finish,
    format_table,
    global_rank,
    instantiate_callbacks,
    instantiate_loggers,
    output_dir,
    per_device_batch_size,
    seed_everything,
)
from influence_gpu.apps.cascades import cascade_accuracy, split_tensors

__all__ = ["run", "synthetic_bayes_ceiling", "BAYES_MC_BUDGET"]

log = logging.getLogger(__name__)

#: the Monte Carlo Bayes ceiling is skipped above this many simulated (state, arc) updates
BAYES_MC_BUDGET = 2e9


def synthetic_bayes_ceiling(dm: Any, *, seed: int, num_samples: int = 1000) -> dict[str, Any]:
    """Bayes-optimal test accuracy when ``dm``'s cascades come from paper A's synthetic rule.

    Reads the generator's own ``a``, ``b``, ``steps`` and ``neighbourhood`` from the data's
    ``info`` (recorded by :func:`~influence_gpu.cascades.synthetic_cascades`) and uses
    :func:`~influence_gpu.cascades.synthetic.synthetic_activation_probability`: exact for one
    step, Monte Carlo with ``num_samples`` samples (seed ``seed``) for more (skipped when that
    would exceed :data:`BAYES_MC_BUDGET` state-arc updates).

    Args:
        dm: a set-up cascade datamodule.
        seed: seed of the Monte Carlo.
        num_samples: Monte Carlo samples per test cascade.

    Returns:
        ``{}`` for other data; else ``bayes_test_accuracy`` (``None`` when skipped),
        ``bayes_test_expected`` and ``bayes_method``.
    """
    from influence_gpu.cascades.synthetic import (
        bayes_accuracy,
        synthetic_activation_probability,
    )

    info = dm.data.info
    if info.get("generator") != "synthetic":
        return {}
    steps = int(info.get("steps", 2))
    neighbourhood = info.get("neighbourhood", "two_hop")
    hops = 1 if neighbourhood != "two_hop" else 2
    x0, xT = split_tensors(dm, "test")
    graph = dm.data.graph()
    work = x0.shape[0] * num_samples * steps * hops * max(graph.num_edges, graph.num_nodes)
    if steps > 1 and work > BAYES_MC_BUDGET:
        return {"bayes_test_accuracy": None, "bayes_test_expected": None,
                "bayes_method": f"skipped: Monte Carlo would take {work:.1e} arc updates"}
    prob = synthetic_activation_probability(
        graph, x0, a=info.get("a", 0.5), b=info.get("b", 0.5), steps=steps,
        neighbourhood=neighbourhood, num_samples=num_samples, seed=int(seed),
    )
    acc = bayes_accuracy(prob, xT.to(prob.device))
    return {"bayes_test_accuracy": acc["realised"], "bayes_test_expected": acc["expected"],
            "bayes_method": "exact" if steps <= 1 else f"monte_carlo, {num_samples} samples"}


def _model_name(cfg: DictConfig) -> str:
    return str(cfg.model.get("_target_", "model")).rsplit(".", 1)[-1]


def run(cfg: DictConfig) -> dict[str, Any]:
    """Train LTNN / RWNN (Lightning) or fit a MIP model on cascade data; write ``metrics.json``.

    Args:
        cfg: the composed ``conf/train.yaml`` with a cascade ``data`` config and a ``model``.

    Returns:
        The metrics written to ``<output_dir>/metrics.json``.

    Raises:
        ValueError: no ``data`` or no ``model`` with a ``_target_``.
        TypeError: the model is neither a ``LightningModule`` nor has ``fit``.
        MemoryError: the model's memory estimate exceeds the limit (RWNN).
    """
    from hydra.utils import instantiate
    from lightning.pytorch import LightningModule

    from influence_gpu.cascades.data import majority_accuracy

    seed_everything(cfg)
    if cfg.get("data") is None or "_target_" not in cfg.data:
        raise ValueError("task=fit_cascades needs cascade data: data=lt_quickstart, synthetic, "
                         "lt_synthetic or digg")
    out_dir = output_dir(cfg)
    t_start = time.perf_counter()
    dm = instantiate(cfg.data)
    dm.setup("fit")
    x0_tr, xT_tr = split_tensors(dm, "train")
    x0_te, xT_te = split_tensors(dm, "test")
    summary = dm.summary()
    log.info("cascade data: %s", summary)
    model_cfg = cfg.get("model")
    if model_cfg is None or "_target_" not in model_cfg:
        raise ValueError(
            "train with cascade data needs a model: model=ltnn, rwnn, lt_mip or rw_mip"
        )
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "train")),
        "task": "train_cascades",
        "model": _model_name(cfg),
        "data": summary,
        "graph": {"name": str(cfg.get("graph", {}).get("name", summary["name"])),
                  "num_nodes": dm.num_nodes, "num_edges": summary["num_edges"]},
        "majority_train_accuracy": majority_accuracy(xT_tr, xT_tr),
        "majority_test_accuracy": majority_accuracy(xT_tr, xT_te),
        "no_new_activation_test_accuracy": float((x0_te == xT_te).float().mean()),
        **synthetic_bayes_ceiling(dm, seed=int(cfg.get("seed", 0)) + 1),
        "seed": int(cfg.seed),
    }
    t_model = time.perf_counter()
    try:
        model = instantiate(model_cfg, num_nodes=dm.num_nodes, edge_index=dm.edge_index)
    except Exception as err:  # Hydra wraps constructor errors; surface a memory refusal as is
        if isinstance(err.__cause__, MemoryError):
            raise err.__cause__ from None
        raise
    metrics["build_seconds"] = time.perf_counter() - t_model
    t_fit = time.perf_counter()
    if isinstance(model, LightningModule):
        metrics.update(_fit_lightning(cfg, model, dm, out_dir, t_fit))
        metrics["train_accuracy"] = cascade_accuracy(model, x0_tr, xT_tr)
        metrics["test_accuracy"] = cascade_accuracy(model, x0_te, xT_te)
    else:
        if not hasattr(model, "fit"):
            raise TypeError(f"{type(model).__name__} is neither a LightningModule nor has fit()")
        fit_metrics = model.fit(dm)
        metrics["fit_seconds"] = time.perf_counter() - t_fit
        metrics.update(dict(fit_metrics or {}))
        if hasattr(model, "save"):  # the MIPs: weights file reloadable by evaluate.py
            name = getattr(model, "name", "model")
            metrics["checkpoint"] = str(model.save(out_dir / f"{name}.pt"))
        if hasattr(model, "predict"):
            metrics.setdefault("train_accuracy", cascade_accuracy(model, x0_tr, xT_tr))
            metrics.setdefault("test_accuracy", cascade_accuracy(model, x0_te, xT_te))
    bayes = metrics.get("bayes_test_accuracy")
    if global_rank() != 0:  # other ranks of a distributed run: no table (finish writes nothing)
        return finish(out_dir, metrics, t_start)
    print(format_table(
        [[metrics["model"], f"{dm.num_nodes}", f"{summary['num_edges']}",
          f"{summary['num_cascades']}", f"{metrics['train_accuracy']:.3f}",
          f"{metrics['test_accuracy']:.3f}", f"{metrics['majority_test_accuracy']:.3f}",
          f"{metrics['no_new_activation_test_accuracy']:.3f}",
          "-" if bayes is None else f"{bayes:.3f}", f"{metrics['fit_seconds']:.1f}"]],
        ["model", "nodes", "edges", "cascades", "train acc", "test acc", "majority test",
         "x0 copy test", "Bayes test", "fit s"],
        title=f"learning influence from {summary['name']} cascades",
    ))
    print("Baselines on the test cascades: 'majority' answers the training set's majority state "
          "everywhere, 'x0 copy' predicts that no new node activates; 'Bayes' (synthetic data "
          "only) predicts the more likely state under the generator, the best any model can do.")
    return finish(out_dir, metrics, t_start)


def _fit_lightning(cfg: DictConfig, model: Any, dm: Any, out_dir: Path, t_fit: float
                   ) -> dict[str, Any]:
    """Train with ``cfg.trainer``, save ``last.ckpt`` (the final model), test; return metrics.

    ``dm.batch_size`` (the global batch) becomes the per-process batch of the trainer's world
    size before training. Every rank of a distributed run calls this (the checkpoint and test
    calls are collective); Lightning writes checkpoints on global rank 0 only.
    """
    from hydra.utils import instantiate

    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    loggers = instantiate_loggers(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    global_batch = int(dm.batch_size)
    dm.batch_size = per_device_batch_size(global_batch, trainer.world_size)
    if cfg.get("train", True):
        trainer.fit(model=model, datamodule=dm, ckpt_path=cfg.get("ckpt_path"))
    out: dict[str, Any] = {"fit_seconds": time.perf_counter() - t_fit,
                           "steps": int(trainer.global_step),
                           "epochs": int(trainer.current_epoch),
                           "world_size": int(trainer.world_size),
                           "batch_size": global_batch,
                           "per_device_batch_size": int(dm.batch_size)}
    out["seconds_per_step"] = out["fit_seconds"] / max(trainer.global_step, 1)
    out.update({k: float(v) for k, v in trainer.callback_metrics.items()})
    # the final model is the one reported; the last checkpoint holds exactly it
    ckpt = trainer.checkpoint_callback
    if ckpt is not None and ckpt.dirpath is not None:
        last = Path(ckpt.dirpath) / "last.ckpt"
        # rank 0's answer for all ranks: save_checkpoint is collective
        if not trainer.strategy.broadcast(last.exists(), src=0):
            trainer.save_checkpoint(last)
        out["checkpoint"] = str(last)
        out["best_checkpoint"] = str(ckpt.best_model_path or "")
    else:
        last = out_dir / "last.ckpt"
        trainer.save_checkpoint(last)
        out["checkpoint"] = str(last)
    model.eval()
    if cfg.get("test", True):
        trainer.test(model=model, datamodule=dm, verbose=False)
        out.update({k: float(v) for k, v in trainer.callback_metrics.items()
                    if k.startswith("test/")})
    return out
