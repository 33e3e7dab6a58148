"""The Lightning module that trains the Neural Influence Estimator (paper B).

:class:`NIELitModule` trains an :class:`~influence_gpu.nie.estimator.NIEMLP` (or an
:class:`~influence_gpu.nie.estimator.NIEEnsemble`) with the MSE loss (batch 512 and lr 0.05 as in
the paper; the paper does not name its optimiser, the config uses Adam, which is what its
``lr = 0.05`` and "minimal hyperparameter sensitivity" suggest for a 2-layer MLP - SGD is one
config override away). Logs ``train/loss``, ``val/mse``, ``val/r2`` (``val/loss`` = ``val/mse``, so
the default early-stopping / checkpoint callbacks monitor the validation MSE). Checkpoints carry
the graph's content hash and the featurizer's ``h``; :meth:`influence_gpu.nie.estimator.NIE.load`
reads them without Lightning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics import MeanSquaredError, R2Score

from influence_gpu.nie.estimator import build_nie_net
from influence_gpu.nie.features import check_weight_rule, check_worlds, feature_names

__all__ = ["NIELitModule"]


class NIELitModule(L.LightningModule):
    """Lightning module training :class:`~influence_gpu.nie.estimator.NIEMLP` with the MSE loss.

    Call ``model.fit_scaler(train_features, train_labels)`` before ``Trainer.fit``
    (the NIE training pipeline does). The loss is the MSE of the standardised
    labels (the MSE divided by the label variance: same minimiser, better conditioned); the
    logged ``val/mse`` is in the labels' own units.

    Args:
        optimizer: partial of a torch optimizer (``params`` missing); default Adam, lr 0.05.
        in_features: number of features (``None``: 7, or 8 with ``worlds``).
        hidden_dims: hidden layer sizes (paper: ``[128, 128]``).
        scheduler: optional partial of an LR scheduler (``optimizer`` missing).
        graph_hash: ``DiffusionGraph.content_hash()`` of the training graph (saved in checkpoints).
        h: hop radius of the features the model was trained on (saved in checkpoints).
        weight_rule: interrelation weight rule of those features, ``"alg1"`` (paper B) or
            ``"edge"`` (saved in checkpoints; see :mod:`influence_gpu.nie.features`).
        worlds: sampled worlds of the ``saved`` feature the model was trained with (``0``:
            paper B's seven features; saved in checkpoints).
        worlds_seed: seed of those worlds (saved in checkpoints).
        roots_per_world: sampled roots per world of their sketch (saved in checkpoints).
        residual: learn the label minus the ``saved`` feature and predict ``saved`` plus the
            correction (:class:`~influence_gpu.nie.estimator.NIEMLP`; needs ``worlds``).
        num_members: MLPs averaged (1: the paper's single MLP; more: an
            :class:`~influence_gpu.nie.estimator.NIEEnsemble` whose members are trained on the
            same batches, the loss being their mean MSE).

    Raises:
        RuntimeError: ``fit`` without a fitted scaler.
        ValueError: an unknown ``weight_rule``, ``num_members < 1``, or ``in_features`` not the
            number of features ``worlds`` gives.
    """

    def __init__(
        self,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        in_features: int | None = None,
        hidden_dims: Sequence[int] = (128, 128),
        scheduler: Callable[..., Any] | None = None,
        graph_hash: str | None = None,
        h: int = 2,
        weight_rule: str = "alg1",
        num_members: int = 1,
        worlds: int = 0,
        worlds_seed: int = 0,
        roots_per_world: int = 0,
        residual: bool = False,
    ) -> None:
        super().__init__()
        # the optimizer / scheduler partials are not saved (a checkpoint is for inference)
        self.save_hyperparameters(logger=False, ignore=["optimizer", "scheduler"])
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.worlds = check_worlds(worlds)
        self.worlds_seed = int(worlds_seed)
        self.roots_per_world = check_worlds(roots_per_world, "roots_per_world")
        if residual and not self.worlds:
            raise ValueError("residual=True needs the sampled-world feature (worlds > 0)")
        self.residual = bool(residual)
        num_features = len(feature_names(self.worlds))
        if in_features is None:
            in_features = num_features
        if int(in_features) != num_features:
            raise ValueError(
                f"in_features={in_features} but worlds={worlds} gives {num_features} features"
            )
        self.net = build_nie_net(in_features, list(hidden_dims), num_members,
                                 residual=7 if self.residual else None)
        self.num_members = int(num_members)
        self.graph_hash = graph_hash
        self.h = int(h)
        self.weight_rule = check_weight_rule(weight_rule)
        self.val_mse = MeanSquaredError()
        self.val_r2 = R2Score()
        self.test_mse = MeanSquaredError()
        self.test_r2 = R2Score()

    def fit_scaler(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """See :meth:`~influence_gpu.nie.estimator.NIEMLP.fit_scaler`."""
        self.net.fit_scaler(features, labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted blocked influence ``[B]`` of raw features ``[B, F]``."""
        return self.net(x)

    def on_fit_start(self) -> None:
        """Refuse to train without a fitted scaler."""
        if not bool(self.net.scaler_fitted):
            raise RuntimeError(
                "NIELitModule: call fit_scaler(train_features, train_labels) before fit"
            )

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        """MSE of the standardised labels."""
        x, y = batch
        target = (y - self.net.label_mean) / self.net.label_std
        pred = self.net.forward_standardized(x)  # [B], or [num_members, B]
        loss = nn.functional.mse_loss(pred, target.expand_as(pred))
        # sync_dist: with DDP the epoch loss is the mean over the ranks (the metric objects of
        # the evaluation steps sync their sums themselves)
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=x.size(0), sync_dist=True)
        return loss

    def _eval_step(self, batch, mse: MeanSquaredError, r2: R2Score, stage: str) -> None:
        x, y = batch
        pred = self.net(x)
        mse.update(pred, y)
        r2.update(pred, y)
        self.log(f"{stage}/mse", mse, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=x.size(0))
        self.log(f"{stage}/r2", r2, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=x.size(0))

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """Validation MSE and R² in label units."""
        self._eval_step(batch, self.val_mse, self.val_r2, "val")

    def on_validation_epoch_end(self) -> None:
        """``val/loss`` = ``val/mse`` for the default callbacks."""
        # compute() already reduces over the ranks (every rank holds the same value)
        self.log("val/loss", self.val_mse.compute(), sync_dist=True)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """Test MSE and R² in label units."""
        self._eval_step(batch, self.test_mse, self.test_r2, "test")

    def configure_optimizers(self) -> Any:
        """The optimizer (and scheduler) partials of the config."""
        if self.optimizer_factory is None:
            opt = torch.optim.Adam(self.parameters(), lr=0.05)
        else:
            opt = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return opt
        sched = self.scheduler_factory(optimizer=opt)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/mse"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the graph hash and the NIE settings next to the weights."""
        checkpoint["graph_hash"] = self.graph_hash
        checkpoint["nie"] = {
            "in_features": self.net.in_features,
            "hidden_dims": list(self.net.hidden_dims),
            "h": self.h,
            "weight_rule": self.weight_rule,
            "num_members": self.num_members,
            "worlds": self.worlds,
            "worlds_seed": self.worlds_seed,
            "roots_per_world": self.roots_per_world,
            "residual": 7 if self.residual else None,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the graph hash."""
        self.graph_hash = checkpoint.get("graph_hash", self.graph_hash)
