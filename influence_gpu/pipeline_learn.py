"""Hydra-side pipelines for learning influence from cascades (paper A): train and evaluate.

``python train.py model=ltnn data=synthetic graph=ba`` lands in :func:`train_cascades`:

1. the datamodule (``cfg.data``, a :class:`~influence_gpu.cascades.CascadeDataModule`) is built;
2. the model is instantiated with the graph passed explicitly:
   ``instantiate(cfg.model, num_nodes=dm.num_nodes, edge_index=dm.edge_index)``;
3. a ``LightningModule`` is trained with the ``Trainer`` of ``cfg.trainer`` (checkpoints from
   ``cfg.callbacks``); any other model (the LT / RW MIPs) is fitted with ``model.fit(dm)``, which
   returns its metrics;
4. train and test accuracy of the final model (share of ``(cascade, node)`` pairs predicted
   right), two baselines (the majority class; "no new activation", ``xT = x0``), for paper A's
   synthetic generator the Bayes-optimal ceiling, and the seconds are written to
   ``metrics.json``.

``python evaluate.py task=cascades ckpt_path=... data=...`` lands in :func:`evaluate_cascades`.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

__all__ = ["is_cascade_config", "train_cascades", "evaluate_cascades", "load_cascade_checkpoint",
           "cascade_accuracy", "synthetic_bayes_ceiling"]

log = logging.getLogger(__name__)


def is_cascade_config(cfg: DictConfig) -> bool:
    """Whether ``cfg.data`` builds a cascade datamodule (so ``train`` runs this pipeline)."""
    data = cfg.get("data")
    return data is not None and "CascadeDataModule" in str(data.get("_target_", ""))


def cascade_accuracy(model: Any, x0: torch.Tensor, xT: torch.Tensor, batch_size: int = 256
                     ) -> float:
    """Share of ``(cascade, node)`` pairs whose predicted final state equals ``xT``.

    Args:
        model: anything with ``predict(x0) -> [B, N]`` 0/1 predictions.
        x0: ``[K, N]`` initial states.
        xT: ``[K, N]`` observed final states.
        batch_size: cascades per call.

    Returns:
        Accuracy in ``[0, 1]``.
    """
    if x0.shape[0] == 0:
        return float("nan")
    correct = 0.0
    for s in range(0, x0.shape[0], batch_size):
        pred = model.predict(x0[s:s + batch_size]).to("cpu").float()
        correct += float((pred == xT[s:s + batch_size].float()).sum())
    return correct / xT.numel()


def _split_tensors(dm: Any, part: str) -> tuple[torch.Tensor, torch.Tensor]:
    ds = getattr(dm, f"{part}_dataset")
    return ds.x0, ds.xT


def _model_name(cfg: DictConfig) -> str:
    return str(cfg.model.get("_target_", "model")).rsplit(".", 1)[-1]


def _instantiate_callbacks(cfg: DictConfig, key: str) -> list[Any]:
    from hydra.utils import instantiate

    return [instantiate(c) for c in (cfg.get(key) or {}).values()
            if c is not None and "_target_" in c]


#: the Monte Carlo Bayes ceiling is skipped above this many simulated (state, arc) updates
BAYES_MC_BUDGET = 2e9


def synthetic_bayes_ceiling(cfg: DictConfig, dm: Any, num_samples: int = 1000
                            ) -> dict[str, Any]:
    """Bayes-optimal test accuracy when ``cfg.data`` is paper A's synthetic generator.

    Uses :func:`~influence_gpu.cascades.synthetic.synthetic_activation_probability` with the
    generator's own ``a``, ``b``, ``steps`` and ``neighbourhood``: exact for one step, Monte Carlo
    with ``num_samples`` samples for more (skipped when that would exceed
    :data:`BAYES_MC_BUDGET` state-arc updates).

    Returns:
        ``{}`` for other data; else ``bayes_test_accuracy`` (``None`` when skipped),
        ``bayes_test_expected`` and ``bayes_method``.
    """
    from influence_gpu.cascades.synthetic import (
        bayes_accuracy,
        synthetic_activation_probability,
    )

    gen_cfg = (cfg.get("data") or {}).get("data") or {}
    if not str(gen_cfg.get("_target_", "")).endswith("synthetic_cascades"):
        return {}
    steps = int(gen_cfg.get("steps", 2))
    hops = 1 if gen_cfg.get("neighbourhood", "two_hop") != "two_hop" else 2
    x0, xT = _split_tensors(dm, "test")
    graph = dm.data.graph()
    work = x0.shape[0] * num_samples * steps * hops * max(graph.num_edges, graph.num_nodes)
    if steps > 1 and work > BAYES_MC_BUDGET:
        return {"bayes_test_accuracy": None, "bayes_test_expected": None,
                "bayes_method": f"skipped: Monte Carlo would take {work:.1e} arc updates"}
    prob = synthetic_activation_probability(
        graph, x0, a=gen_cfg.get("a", 0.5), b=gen_cfg.get("b", 0.5), steps=steps,
        neighbourhood=gen_cfg.get("neighbourhood", "two_hop"), num_samples=num_samples,
        seed=int(cfg.get("seed", 0)) + 1,
    )
    acc = bayes_accuracy(prob, xT.to(prob.device))
    return {"bayes_test_accuracy": acc["realised"], "bayes_test_expected": acc["expected"],
            "bayes_method": "exact" if steps <= 1 else f"monte_carlo, {num_samples} samples"}


def train_cascades(cfg: DictConfig) -> dict[str, Any]:
    """Train LTNN / RWNN (Lightning) or fit a MIP model on cascade data; write ``metrics.json``.

    Args:
        cfg: the composed ``conf/train.yaml`` with a cascade ``data`` config and a ``model``.

    Returns:
        The metrics written to ``<output_dir>/metrics.json``.

    Raises:
        ValueError: no ``model`` with a ``_target_``.
        MemoryError: the model's memory estimate exceeds the limit (RWNN).
    """
    from hydra.utils import instantiate
    from lightning.pytorch import LightningModule

    from influence_gpu.cascades.data import majority_accuracy
    from influence_gpu.pipeline import _output_dir, _seed_everything, _write_metrics, format_table

    _seed_everything(cfg.seed)
    out_dir = _output_dir(cfg)
    t_start = time.perf_counter()
    dm = instantiate(cfg.data)
    dm.setup("fit")
    x0_tr, xT_tr = _split_tensors(dm, "train")
    x0_te, xT_te = _split_tensors(dm, "test")
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
        **synthetic_bayes_ceiling(cfg, dm),
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
        callbacks = _instantiate_callbacks(cfg, "callbacks")
        loggers = _instantiate_callbacks(cfg, "logger")
        trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
        if cfg.get("train", True):
            trainer.fit(model=model, datamodule=dm, ckpt_path=cfg.get("ckpt_path"))
        metrics["fit_seconds"] = time.perf_counter() - t_fit
        metrics["steps"] = int(trainer.global_step)
        metrics["epochs"] = int(trainer.current_epoch)
        metrics["seconds_per_step"] = metrics["fit_seconds"] / max(trainer.global_step, 1)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        # the final model is the one reported; the last checkpoint holds exactly it
        ckpt = trainer.checkpoint_callback
        if ckpt is not None and ckpt.dirpath is not None:
            last = Path(ckpt.dirpath) / "last.ckpt"
            if not last.exists():
                trainer.save_checkpoint(last)
            metrics["checkpoint"] = str(last)
            metrics["best_checkpoint"] = str(ckpt.best_model_path or "")
        else:
            last = out_dir / "last.ckpt"
            trainer.save_checkpoint(last)
            metrics["checkpoint"] = str(last)
        model.eval()
        if cfg.get("test", True):
            trainer.test(model=model, datamodule=dm, verbose=False)
            metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()
                            if k.startswith("test/")})
        metrics["train_accuracy"] = cascade_accuracy(model, x0_tr, xT_tr)
        metrics["test_accuracy"] = cascade_accuracy(model, x0_te, xT_te)
    else:
        if not hasattr(model, "fit"):
            raise TypeError(f"{type(model).__name__} is neither a LightningModule nor has fit()")
        fit_metrics = model.fit(dm)
        metrics["fit_seconds"] = time.perf_counter() - t_fit
        metrics.update({k: v for k, v in dict(fit_metrics or {}).items()})
        if hasattr(model, "save"):  # the MIPs: weights file reloadable by evaluate.py
            name = getattr(model, "name", "model")
            metrics["checkpoint"] = str(model.save(out_dir / f"{name}.pt"))
        if hasattr(model, "predict"):
            metrics.setdefault("train_accuracy", cascade_accuracy(model, x0_tr, xT_tr))
            metrics.setdefault("test_accuracy", cascade_accuracy(model, x0_te, xT_te))
    metrics["seconds"] = time.perf_counter() - t_start
    metrics["output_dir"] = str(out_dir)
    bayes = metrics.get("bayes_test_accuracy")
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
    _write_metrics(out_dir, metrics)
    log.info("wrote %s", out_dir / "metrics.json")
    return metrics


def load_cascade_checkpoint(path: str | Path, map_location: Any = "cpu") -> Any:
    """Load an LTNN / RWNN checkpoint or a fitted MIP written by ``train.py``.

    The class is read from the file: LTNN / RWNN ``.ckpt`` files reload through
    ``load_from_checkpoint``, the MIPs' ``.pt`` files through ``LTMIPModel.load`` /
    ``RWMIPModel.load``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the checkpoint names no known class.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cls_path = ckpt.get("influence_gpu_class")
    if cls_path is not None and cls_path.startswith("influence_gpu.learn.mip."):
        from influence_gpu.learn import mip

        return getattr(mip, cls_path.rsplit(".", 1)[-1]).load(path)
    if cls_path is None:
        keys = ckpt.get("state_dict", {})
        cls_path = ("influence_gpu.learn.lit.RWNNLitModule" if "net.two_hop_index" in keys
                    else "influence_gpu.learn.lit.LTNNLitModule")
    module, name = cls_path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name, None)
    if cls is None:
        raise ValueError(f"{path}: unknown model class {cls_path!r}")
    return cls.load_from_checkpoint(path, map_location=map_location)


def evaluate_cascades(cfg: DictConfig) -> dict[str, Any]:
    """Reload a checkpoint and report its accuracy on the cascades of ``cfg.data``.

    Scores the train and test parts of the datamodule's split and all cascades together.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with ``task=cascades``, ``ckpt_path`` and a
            cascade ``data`` config.

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        ValueError: no ``ckpt_path``, no cascade data, or a model for another number of nodes.
    """
    from hydra.utils import instantiate

    from influence_gpu.cascades.data import majority_accuracy
    from influence_gpu.pipeline import _output_dir, _seed_everything, _write_metrics, format_table

    _seed_everything(cfg.seed)
    if not cfg.get("ckpt_path"):
        raise ValueError("task=cascades needs ckpt_path=<a .ckpt written by train.py>")
    if not is_cascade_config(cfg):
        raise ValueError("task=cascades needs a cascade data config, e.g. data=synthetic")
    out_dir = _output_dir(cfg)
    t0 = time.perf_counter()
    model = load_cascade_checkpoint(cfg.ckpt_path)
    if hasattr(model, "eval"):
        model.eval()
    dm = instantiate(cfg.data)
    dm.setup("test")
    nodes = int(model.hparams["num_nodes"] if hasattr(model, "hparams") else model.num_nodes)
    if nodes != dm.num_nodes:
        raise ValueError(
            f"checkpoint {cfg.ckpt_path} models {nodes} nodes but the data has {dm.num_nodes}"
        )
    parts = {p: _split_tensors(dm, p) for p in ("train", "test")}
    metrics: dict[str, Any] = {
        "task_name": str(cfg.get("task_name", "evaluate")),
        "task": "cascades",
        "ckpt_path": str(cfg.ckpt_path),
        "model": type(model).__name__,
        "data": dm.summary(),
        "train_accuracy": cascade_accuracy(model, *parts["train"]),
        "test_accuracy": cascade_accuracy(model, *parts["test"]),
        "accuracy": cascade_accuracy(model, dm.data.x0, dm.data.xT),
        "majority_test_accuracy": majority_accuracy(parts["train"][1], parts["test"][1]),
    }
    metrics["seconds"] = time.perf_counter() - t0
    metrics["output_dir"] = str(out_dir)
    print(format_table(
        [[metrics["model"], f"{metrics['train_accuracy']:.3f}", f"{metrics['test_accuracy']:.3f}",
          f"{metrics['accuracy']:.3f}", f"{metrics['majority_test_accuracy']:.3f}"]],
        ["model", "train acc", "test acc", "all acc", "majority test"],
        title=f"checkpoint {cfg.ckpt_path} on {dm.data.name}",
    ))
    _write_metrics(out_dir, metrics)
    return metrics
