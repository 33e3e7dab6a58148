"""``evaluate.py task=cascades ckpt_path=... data=...``: score a learned cascade model (paper A).

The checkpoint (an LTNN / RWNN ``.ckpt`` or a fitted MIP's ``.pt`` written by ``train.py``) is
reloaded from the class it names and scored on the train and test parts of ``cfg.data``'s split
and on all its cascades: the share of ``(cascade, node)`` pairs whose final state it predicts.
"""

from __future__ import annotations

import importlib
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from influence_gpu.apps._run import finish, format_table, output_dir, seed_everything

__all__ = ["run", "load_cascade_checkpoint", "check_checkpoint_graph", "cascade_accuracy",
           "split_tensors", "CASCADE_CLASSES"]

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


#: The classes ``evaluate.py task=cascades`` scores, by module path.
CASCADE_CLASSES = (
    "influence_gpu.learn.lit.LTNNLitModule",
    "influence_gpu.learn.lit.RWNNLitModule",
    "influence_gpu.learn.mip.LTMIPModel",
    "influence_gpu.learn.mip.RWMIPModel",
)


def _read_any_checkpoint(path: Path) -> dict[str, Any]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        raise ValueError(
            f"{path}: not a readable checkpoint, truncated or not written by train.py "
            f"({type(err).__name__}: {str(err)[:200]})"
        ) from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: not a checkpoint written by train.py "
                         f"(holds a {type(ckpt).__name__})")
    return ckpt


def check_checkpoint_graph(model: Any, path: str | Path, edge_index: Any, num_nodes: int) -> None:
    """Refuse ``model`` (loaded from ``path``) when it was built on another graph.

    Compares the model's ``graph_hash`` with
    :func:`~influence_gpu.graph.diffusion_graph.edge_index_hash` of ``edge_index`` /
    ``num_nodes``. A checkpoint written before graph hashes were saved loads with a warning
    that the graph cannot be checked.

    Raises:
        ValueError: naming the file, the model kind and both hashes.
    """
    from influence_gpu.graph.diffusion_graph import edge_index_hash

    kind = getattr(model, "kind", None) or getattr(model, "name", type(model).__name__)
    want = getattr(model, "graph_hash", None)
    if want is None:
        warnings.warn(
            f"{path}: this {kind} checkpoint was written without a graph hash, so it cannot be "
            "checked that it was trained on this graph; retrain it to get one",
            stacklevel=2,
        )
        return
    have = edge_index_hash(edge_index, num_nodes)
    if want != have:
        raise ValueError(
            f"{path}: this {kind} checkpoint was trained on another graph (graph_hash "
            f"{want[:12]}..., this data's graph {have[:12]}...); train a model on this graph"
        )


def load_cascade_checkpoint(path: str | Path, map_location: Any = "cpu", *,
                            edge_index: Any = None, num_nodes: int | None = None) -> Any:
    """Load an LTNN / RWNN checkpoint or a fitted MIP written by ``train.py``.

    The class is read from the file (``influence_gpu_class``): LTNN / RWNN ``.ckpt`` files reload
    through ``load_from_checkpoint``, the MIPs' ``.pt`` files through ``LTMIPModel.load`` /
    ``RWMIPModel.load``. Older Lightning checkpoints without the class are LTNN, or RWNN when
    their weights hold the two-hop index. With ``edge_index`` and ``num_nodes`` the model's
    graph is checked too (:func:`check_checkpoint_graph`).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: ``"path: ..."`` when the file is truncated, foreign (not written by
            ``train.py``), names a class that is not a cascade model, or holds a model of
            another graph.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a checkpoint file")
    ckpt = _read_any_checkpoint(path)
    cls_path = ckpt.get("influence_gpu_class")
    if cls_path is not None and not isinstance(cls_path, str):
        raise ValueError(f"{path}: not a checkpoint written by train.py (bad class entry)")
    if cls_path is not None and cls_path.startswith("influence_gpu.learn.mip."):
        name = cls_path.rsplit(".", 1)[-1]
        if name not in ("LTMIPModel", "RWMIPModel"):
            raise ValueError(f"{path}: unknown model class {cls_path!r}")
        from influence_gpu.learn import mip

        model = getattr(mip, name).load(path)
    else:
        if cls_path is None:
            keys = ckpt.get("state_dict")
            if not isinstance(keys, dict) or "pytorch-lightning_version" not in ckpt:
                raise ValueError(
                    f"{path}: not a checkpoint written by train.py (no model class, no "
                    "Lightning state_dict)"
                )
            cls_path = ("influence_gpu.learn.lit.RWNNLitModule" if "net.two_hop_index" in keys
                        else "influence_gpu.learn.lit.LTNNLitModule")
        if cls_path not in CASCADE_CLASSES:
            raise ValueError(
                f"{path}: unknown model class {cls_path!r}; task=cascades scores "
                f"{', '.join(c.rsplit('.', 1)[-1] for c in CASCADE_CLASSES)} checkpoints"
            )
        missing = [k for k in ("state_dict", "pytorch-lightning_version", "hyper_parameters")
                   if k not in ckpt]
        if missing:
            raise ValueError(f"{path}: incomplete checkpoint (no {', '.join(missing)})")
        module, name = cls_path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module), name)
        try:
            model = cls.load_from_checkpoint(path, map_location=map_location)
        except Exception as err:  # noqa: BLE001 - a damaged file, reported with its name
            raise ValueError(
                f"{path}: cannot rebuild {name} from this checkpoint "
                f"({type(err).__name__}: {str(err)[:300]})"
            ) from None
    if edge_index is not None and num_nodes is not None:
        check_checkpoint_graph(model, path, edge_index, num_nodes)
    return model


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
    check_checkpoint_graph(model, cfg.ckpt_path, dm.edge_index, dm.num_nodes)
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
