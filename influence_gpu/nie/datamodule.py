"""Lightning DataModule over an NIE training-set file (paper B).

``prepare_data`` builds (or resumes) the file with
:func:`~influence_gpu.nie.instances.build_training_set` when a graph is given; ``setup`` reads it,
checks the graph hash, and splits the instances into train / validation / test with a seeded
permutation. The raw (unstandardised) features are served: the model standardises them with the
scaler it fits on :attr:`NIEDataModule.train_features`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["NIEDataModule"]


class NIEDataModule(L.LightningDataModule):
    """Train / val / test loaders of ``(features [7], blocked influence)`` pairs.

    Args:
        path: the training-set file (built here when missing or partial and ``graph`` is set).
        graph: the graph (needed to build the file; checked against the file's hash).
        num_instances: instances to generate (paper: 100,000; CPU default much smaller).
        num_samples: competitive-IC runs per label (paper: 1,000).
        generation: further keyword arguments of ``build_training_set`` (``seed``, ``x``,
            ``h``, ``chunk_size``, ...).
        val_fraction: share of the instances held out for validation.
        test_fraction: share held out for testing.
        batch_size: training batch size (paper: 512).
        num_workers: DataLoader workers.
        split_seed: seed of the train / val / test permutation.

    Raises:
        ValueError: fractions outside ``[0, 1)`` or summing to ``>= 1``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        graph: DiffusionGraph | None = None,
        num_instances: int = 4000,
        num_samples: int = 100,
        generation: dict[str, Any] | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        batch_size: int = 512,
        num_workers: int = 0,
        split_seed: int = 0,
    ) -> None:
        super().__init__()
        for name, v in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0.0 <= float(v) < 1.0:
                raise ValueError(f"{name} must lie in [0, 1), got {v!r}")
        if float(val_fraction) + float(test_fraction) >= 1.0:
            raise ValueError("val_fraction + test_fraction must be < 1")
        self.path = Path(path)
        self.graph = graph
        self.num_instances = int(num_instances)
        self.num_samples = int(num_samples)
        self.generation = dict(generation or {})
        self.val_fraction = float(val_fraction)
        self.test_fraction = float(test_fraction)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.split_seed = int(split_seed)
        self.graph_hash: str | None = None
        self.h: int = int(self.generation.get("h", 2))
        self.weight_rule: str = str(self.generation.get("weight_rule", "alg1"))
        self.worlds: int = int(self.generation.get("worlds", 0))
        self.worlds_seed: int = int(self.generation.get("worlds_seed", 0))
        self.roots_per_world: int = int(self.generation.get("roots_per_world", 0))
        self.data_train: TensorDataset | None = None
        self.data_val: TensorDataset | None = None
        self.data_test: TensorDataset | None = None

    def prepare_data(self) -> None:
        """Build or resume the training-set file (needs ``graph``)."""
        if self.graph is None:
            if not self.path.exists():
                raise ValueError(f"training set {str(self.path)!r} does not exist and no graph "
                                 "was given to build it")
            return
        from influence_gpu.nie.instances import build_training_set

        self.path.parent.mkdir(parents=True, exist_ok=True)
        build_training_set(self.graph, self.num_instances, self.num_samples, self.path,
                           **self.generation)

    def setup(self, stage: str | None = None) -> None:
        """Read the file and split it (idempotent)."""
        if self.data_train is not None:
            return
        from influence_gpu.nie.instances import load_training_set

        state = load_training_set(self.path, self.graph, require_complete=True)
        self.graph_hash = state["graph_hash"]
        self.h = int(state["config"].get("h", self.h))
        self.weight_rule = str(state["config"]["weight_rule"])
        self.worlds = int(state["config"]["worlds"])
        self.worlds_seed = int(state["config"]["worlds_seed"])
        self.roots_per_world = int(state["config"]["roots_per_world"])
        x = state["features"].float()
        y = state["labels"].float()
        num = x.size(0)
        perm = torch.randperm(num, generator=torch.Generator().manual_seed(self.split_seed))
        n_val = int(round(self.val_fraction * num))
        n_test = int(round(self.test_fraction * num))
        if num - n_val - n_test < 2 or (self.val_fraction > 0 and n_val < 1):
            raise ValueError(f"{self.path}: {num} instances are too few to split")
        val, test, train = perm[:n_val], perm[n_val:n_val + n_test], perm[n_val + n_test:]
        self.data_train = TensorDataset(x[train], y[train])
        self.data_val = TensorDataset(x[val], y[val])
        self.data_test = TensorDataset(x[test], y[test])

    @property
    def train_features(self) -> torch.Tensor:
        """``[I_train, 7]`` training features (for the model's scaler)."""
        self.setup()
        return self.data_train.tensors[0]

    @property
    def train_labels(self) -> torch.Tensor:
        """``[I_train]`` training labels."""
        self.setup()
        return self.data_train.tensors[1]

    def _loader(self, data: TensorDataset, shuffle: bool) -> DataLoader:
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches."""
        return self._loader(self.data_train, True)

    def val_dataloader(self) -> DataLoader:
        """Validation batches."""
        return self._loader(self.data_val, False)

    def test_dataloader(self) -> DataLoader:
        """Test batches."""
        return self._loader(self.data_test, False)
