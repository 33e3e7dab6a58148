"""``LightningDataModule`` over :class:`~influence_gpu.cascades.data.CascadeData` (paper A).

Splits: paper A trains on 80% of the cascades and tests on 20% (``train_fraction = 0.8``, a random
permutation drawn with ``split_seed``); on the Digg data it trains on the first 300 of 406
(``num_train = 300``, no shuffling). Paper A has no validation set: with ``val_fraction = 0`` the
validation loop scores the training cascades (so ``val/*`` tracks the training fit and the test
cascades are never used for model selection); ``val_fraction > 0`` holds out that share of the
training cascades instead.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from influence_gpu.cascades.data import CascadeData, CascadeDataset
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["CascadeDataModule"]


class CascadeDataModule(LightningDataModule):
    """Train / val / test loaders of ``(x0, xT)`` cascade pairs on one graph.

    The model is built from :attr:`edge_index` and :attr:`num_nodes` (the pipeline passes them
    explicitly; a model never receives the datamodule).

    Args:
        data: the cascades and their graph.
        batch_size: cascades per batch (paper A: 10).
        train_fraction: share of cascades used for training (ignored when ``num_train`` is set).
        num_train: train on the first ``num_train`` cascades, test on the rest (no shuffling).
        val_fraction: share of the training cascades held out for validation (0: validate on
            the training cascades).
        split_seed: seed of the random split.
        shuffle: shuffle training batches.
        num_workers: ``DataLoader`` workers.

    Raises:
        ValueError: fractions out of range or a split that leaves a part empty.
    """

    def __init__(
        self,
        data: CascadeData,
        batch_size: int = 10,
        train_fraction: float = 0.8,
        num_train: int | None = None,
        val_fraction: float = 0.0,
        split_seed: int = 0,
        shuffle: bool = True,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(data, CascadeData):
            raise TypeError(f"data must be a CascadeData, got {type(data).__name__}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 < float(train_fraction) <= 1.0:
            raise ValueError(f"train_fraction must lie in (0, 1], got {train_fraction}")
        if not 0.0 <= float(val_fraction) < 1.0:
            raise ValueError(f"val_fraction must lie in [0, 1), got {val_fraction}")
        K = data.num_cascades
        if num_train is not None and not 1 <= int(num_train) < K:
            raise ValueError(
                f"num_train must lie in [1, {K - 1}] for {K} cascades, got {num_train}"
            )
        self.data = data
        self.batch_size = int(batch_size)
        self.train_fraction = float(train_fraction)
        self.num_train = None if num_train is None else int(num_train)
        self.val_fraction = float(val_fraction)
        self.split_seed = int(split_seed)
        self.shuffle = bool(shuffle)
        self.num_workers = int(num_workers)
        self.train_index, self.val_index, self.test_index = self._split()
        self.train_dataset: CascadeDataset | None = None
        self.val_dataset: CascadeDataset | None = None
        self.test_dataset: CascadeDataset | None = None

    # ------------------------------------------------------------------ graph facts
    @property
    def num_nodes(self) -> int:
        """Number of nodes ``N``."""
        return self.data.num_nodes

    @property
    def edge_index(self) -> torch.Tensor:
        """``[2, E]`` arcs of the influence graph."""
        return self.data.edge_index

    @property
    def graph(self) -> DiffusionGraph:
        """The influence graph as a :class:`DiffusionGraph`."""
        return self.data.graph()

    # ------------------------------------------------------------------ splits
    def _split(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        K = self.data.num_cascades
        if self.num_train is not None:
            order = torch.arange(K)
            n_train = self.num_train
        else:
            gen = torch.Generator().manual_seed(self.split_seed)
            order = torch.randperm(K, generator=gen)
            n_train = int(round(self.train_fraction * K))
            if n_train < 1 or (self.train_fraction < 1 and n_train >= K):
                raise ValueError(
                    f"train_fraction={self.train_fraction} of {K} cascades leaves a part empty"
                )
        train, test = order[:n_train], order[n_train:]
        if self.val_fraction > 0:
            n_val = int(round(self.val_fraction * len(train)))
            if not 1 <= n_val < len(train):
                raise ValueError(
                    f"val_fraction={self.val_fraction} of {len(train)} training cascades leaves "
                    "a part empty"
                )
            train, val = train[n_val:], train[:n_val]
        else:
            val = train
        return train, val, test

    def setup(self, stage: str | None = None) -> None:
        """Build the three datasets (idempotent)."""
        if self.train_dataset is None:
            x0, xT = self.data.x0, self.data.xT
            self.train_dataset = CascadeDataset(x0[self.train_index], xT[self.train_index])
            self.val_dataset = CascadeDataset(x0[self.val_index], xT[self.val_index])
            self.test_dataset = CascadeDataset(x0[self.test_index], xT[self.test_index])

    def _loader(self, ds: CascadeDataset | None, shuffle: bool) -> DataLoader:
        self.setup()
        return DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        """Training batches (shuffled unless ``shuffle=False``)."""
        return self._loader(self.train_dataset, self.shuffle)

    def val_dataloader(self) -> DataLoader:
        """Validation batches (the training cascades when ``val_fraction = 0``)."""
        return self._loader(self.val_dataset, False)

    def test_dataloader(self) -> DataLoader:
        """Test batches."""
        return self._loader(self.test_dataset, False)

    def predict_dataloader(self) -> DataLoader:
        """The test batches, for ``Trainer.predict``."""
        return self._loader(self.test_dataset, False)

    def summary(self) -> dict[str, Any]:
        """Counts for logs and ``metrics.json``."""
        return {
            "name": self.data.name, "num_nodes": self.num_nodes,
            "num_edges": self.data.num_edges, "num_cascades": self.data.num_cascades,
            "num_train": len(self.train_index), "num_val": len(self.val_index),
            "num_test": len(self.test_index),
            "val_is_train": self.val_fraction == 0,
            "active_share_x0": float(self.data.x0.mean()),
            "active_share_xT": float(self.data.xT.mean()),
            **{k: v for k, v in self.data.info.items() if k not in ("users", "items")},
        }
