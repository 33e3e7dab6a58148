"""Lightning modules for LTNN / RWNN (paper A): MSE loss, Adam, accuracy on train / val / test.

Hyperparameters are saved without the graph tensors (``edge_index`` is ignored, its size is
saved as ``num_edges`` / ``num_two_hop``) and without the optimizer factory (a
``functools.partial`` would need ``weights_only=False`` to unpickle; a reloaded module is for
inference and falls back to Adam lr 1e-3 if trained further), so a checkpoint of a 1.5M-arc
model stays a weights file and ``LTNNLitModule.load_from_checkpoint(path)`` rebuilds the network
from the saved sizes and fills the buffers from the state dict: the same predictions, no
datamodule needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from lightning.pytorch import LightningModule
from torchmetrics.classification import BinaryAccuracy

from influence_gpu.graph.diffusion_graph import DiffusionGraph, edge_index_hash
from influence_gpu.learn.networks import LTNN, RWNN

__all__ = ["LTNNLitModule", "RWNNLitModule"]

OptimizerFactory = Callable[..., torch.optim.Optimizer]


class _CascadeLitModule(LightningModule):
    """Shared training logic; subclasses build ``self.net`` in ``__init__``."""

    net: LTNN | RWNN

    def _setup_metrics(self) -> None:
        self.train_acc = BinaryAccuracy()
        self.val_acc = BinaryAccuracy()
        self.test_acc = BinaryAccuracy()

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Soft final states ``[B, N]``."""
        return self.net(x0)

    @torch.no_grad()
    def predict(self, x0: torch.Tensor) -> torch.Tensor:
        """Predicted 0/1 final states ``[B, N]`` (influence above ``theta``)."""
        return self.net.predict(x0.to(self.device))

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str, acc: BinaryAccuracy
              ) -> torch.Tensor:
        x0, xT = batch
        out = self.net(x0)
        loss = torch.nn.functional.mse_loss(out, xT)
        acc.update(out, xT.long())
        # sync_dist: with DDP the epoch loss (monitored by checkpointing / early stopping) is the
        # mean over the ranks; the accuracy metric object syncs its counts itself
        self.log(f"{stage}/loss", loss, on_step=False, on_epoch=True, prog_bar=stage != "train",
                 batch_size=x0.shape[0], sync_dist=True)
        self.log(f"{stage}/accuracy", acc, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=x0.shape[0])
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """MSE between soft predictions and observed final states."""
        return self._step(batch, "train", self.train_acc)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Validation loss and accuracy."""
        self._step(batch, "val", self.val_acc)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        """Test loss and accuracy."""
        self._step(batch, "test", self.test_acc)

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """0/1 predictions of a batch."""
        x0 = batch[0] if isinstance(batch, (tuple, list)) else batch
        return self.net.predict(x0)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """Project the weights back into ``[0, 1]`` after the optimiser step."""
        self.net.project_()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam (lr 1e-3, paper A) unless a partial optimizer was configured."""
        factory = getattr(self, "_optimizer_factory", None)
        if factory is None:
            return torch.optim.Adam(self.parameters(), lr=1e-3)
        return factory(params=self.parameters())

    #: :func:`~influence_gpu.graph.diffusion_graph.edge_index_hash` of the graph the network
    #: is built on (``None``: restored from a checkpoint written before hashes were saved).
    graph_hash: str | None = None
    #: short model name saved in checkpoints (``"ltnn"`` / ``"rwnn"``).
    kind: str = ""

    def _record_graph(self, edge_index: torch.Tensor | None, num_nodes: int) -> None:
        self.graph_hash = None if edge_index is None else edge_index_hash(edge_index, num_nodes)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the class, the model kind and the graph's hash in the checkpoint.

        The class lets a checkpoint be reloaded without knowing it; ``graph_hash`` (the
        :func:`~influence_gpu.graph.diffusion_graph.edge_index_hash` of the ``edge_index`` /
        ``num_nodes`` the network was built on) lets a reader refuse it on another graph.
        """
        checkpoint["influence_gpu_class"] = f"{type(self).__module__}.{type(self).__qualname__}"
        checkpoint["model_kind"] = self.kind
        checkpoint["graph_hash"] = self.graph_hash

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the graph hash (``None`` for checkpoints written before it was saved)."""
        self.graph_hash = checkpoint.get("graph_hash", self.graph_hash)

    def to_diffusion_graph(self) -> DiffusionGraph:
        """The learned influence weights as an LT :class:`DiffusionGraph` (in-sums <= 1)."""
        return self.net.to_diffusion_graph()


class LTNNLitModule(_CascadeLitModule):
    """LTNN trained with MSE and Adam (paper A).

    Args:
        num_nodes: ``N``.
        edge_index: ``[2, E]`` arcs of ``A`` (not saved as a hyperparameter; its size is).
        num_edges: arc count when restoring from a checkpoint without ``edge_index``.
        theta: threshold (0.5).
        normalize: in-weights sum to 1 (LT semantics; default on).
        temperature: sigmoid logit scale (1 = paper).
        init: initial weight (``None``: uniform in ``[0, 1]``).
        optimizer: a partial optimizer (``torch.optim.Adam`` with ``lr``), ``None`` = Adam 1e-3.
    """

    kind = "ltnn"

    def __init__(
        self,
        num_nodes: int,
        edge_index: torch.Tensor | None = None,
        num_edges: int | None = None,
        theta: float = 0.5,
        normalize: bool = True,
        temperature: float = 1.0,
        init: float | None = None,
        optimizer: OptimizerFactory | None = None,
    ) -> None:
        super().__init__()
        self.net = LTNN(num_nodes, edge_index, num_edges, theta=theta, normalize=normalize,
                        temperature=temperature, init=init)
        self._record_graph(edge_index, num_nodes)
        self._optimizer_factory = optimizer
        self.save_hyperparameters(ignore=["edge_index", "optimizer"], logger=False)
        self.hparams["num_edges"] = self.net.num_edges
        self._setup_metrics()


class RWNNLitModule(_CascadeLitModule):
    """RWNN trained with MSE and Adam (paper A).

    Args:
        num_nodes: ``N``.
        edge_index: ``[2, E]`` arcs of ``A`` (not saved as a hyperparameter; sizes are).
        num_edges: arc count when restoring without ``edge_index``.
        num_two_hop: nnz of the (pruned) ``A^2`` when restoring without ``edge_index``.
        top_m: keep the ``top_m`` largest walk counts per target in ``A^2``.
        theta: threshold (0.5).
        normalize: normalise each column's total weight to 1 (default off, as the RW model).
        temperature: sigmoid logit scale.
        init: initial weight (``None``: uniform).
        batch_size: cascades per step, for the memory estimate.
        max_memory: byte limit of the memory check (``None``: available memory; ``0``: skip).
        optimizer: partial optimizer, ``None`` = Adam 1e-3.
    """

    kind = "rwnn"

    def __init__(
        self,
        num_nodes: int,
        edge_index: torch.Tensor | None = None,
        num_edges: int | None = None,
        num_two_hop: int | None = None,
        top_m: int | None = None,
        theta: float = 0.5,
        normalize: bool = False,
        temperature: float = 1.0,
        init: float | None = None,
        batch_size: int = 10,
        max_memory: int | None = None,
        optimizer: OptimizerFactory | None = None,
    ) -> None:
        super().__init__()
        self.net = RWNN(num_nodes, edge_index, num_edges, num_two_hop, top_m=top_m, theta=theta,
                        normalize=normalize, temperature=temperature, init=init,
                        batch_size=batch_size, max_memory=max_memory,
                        verbose=edge_index is not None)
        self._record_graph(edge_index, num_nodes)
        self._optimizer_factory = optimizer
        self.save_hyperparameters(ignore=["edge_index", "optimizer"], logger=False)
        self.hparams["num_edges"] = self.net.num_edges
        self.hparams["num_two_hop"] = self.net.num_two_hop
        self._setup_metrics()
