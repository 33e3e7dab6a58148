"""``evaluate.py task=cascades ckpt_path=... data=...``: score a learned cascade model (paper A).

The checkpoint (an LTNN / RWNN ``.ckpt`` or a fitted MIP's ``.pt`` written by ``train.py``) is
reloaded from the class it names and scored on the train and test parts of ``cfg.data``'s split
and on all its cascades: the share of ``(cascade, node)`` pairs whose final state it predicts.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from influence_gpu.apps._run import finish, format_table, output_dir, seed_everything

__all__ = ["run", "load_cascade_checkpoint", "cascade_accuracy", "split_tensors"]

log = logging.getLogger(__name__)


def cascade_accuracy(model: Any, x0: torch.Tensor, xT: torch.Tensor, batch_size: int = 256
                     ) -> float:
    """Share of ``(cascade, node)`` pairs whose predicted final state equals ``xT``.

    Args:
        model: anything with ``predict(x0) -> [B, N]`` 0/1 predictions.
        x0: ``[K, N]`` initial states.
        xT: ``[K, N]`` observed final states.
        batch_size: cascades per call.

    Returns:
        Accuracy in ``[0, 1]`` (NaN without cascades).

    Shapes:
        x0, xT ``[K, N]``.
    """
    if x0.shape[0] == 0:
        return float("nan")
    correct = 0.0
    for s in range(0, x0.shape[0], batch_size):
        pred = model.predict(x0[s:s + batch_size]).to("cpu").float()
        correct += float((pred == xT[s:s + batch_size].float()).sum())
    return correct / xT.numel()


def split_tensors(dm: Any, part: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x0, xT)`` of a cascade datamodule's ``train`` / ``val`` / ``test`` part."""
    ds = getattr(dm, f"{part}_dataset")
    return ds.x0, ds.xT


def load_cascade_checkpoint(path: str | Path, map_location: Any = "cpu") -> Any:
    """Load an LTNN / RWNN checkpoint or a fitted MIP written by ``train.py``.

    The class is read from the file (``influence_gpu_class``): LTNN / RWNN ``.ckpt`` files reload
    through ``load_from_checkpoint``, the MIPs' ``.pt`` files through ``LTMIPModel.load`` /
    ``RWMIPModel.load``. Older Lightning checkpoints without the class are LTNN, or RWNN when
    their weights hold the two-hop index.

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
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        cls = None
    if cls is None:
        raise ValueError(f"{path}: unknown model class {cls_path!r}")
    return cls.load_from_checkpoint(path, map_location=map_location)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Reload ``cfg.ckpt_path`` and report its accuracy on the cascades of ``cfg.data``.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with ``task=cascades``, ``ckpt_path`` and a
            cascade ``data`` config.

    Returns:
        The metrics written to ``metrics.json``: ``train_accuracy``, ``test_accuracy``,
        ``accuracy`` (all cascades), ``majority_test_accuracy``, the model's class and the data.

    Raises:
        ValueError: no ``ckpt_path``, no data config, or a model for another number of nodes.
    """
    from hydra.utils import instantiate

    from influence_gpu.cascades.data import majority_accuracy

    seed_everything(cfg)
    if not cfg.get("ckpt_path"):
        raise ValueError("task=cascades needs ckpt_path=<a .ckpt written by train.py>")
    if cfg.get("data") is None or "_target_" not in cfg.data:
        raise ValueError("task=cascades needs a cascade data config, e.g. data=synthetic")
    out_dir = output_dir(cfg)
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
    parts = {p: split_tensors(dm, p) for p in ("train", "test")}
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
    print(format_table(
        [[metrics["model"], f"{metrics['train_accuracy']:.3f}", f"{metrics['test_accuracy']:.3f}",
          f"{metrics['accuracy']:.3f}", f"{metrics['majority_test_accuracy']:.3f}"]],
        ["model", "train acc", "test acc", "all acc", "majority test"],
        title=f"checkpoint {cfg.ckpt_path} on {dm.data.name}",
    ))
    return finish(out_dir, metrics, t0)
