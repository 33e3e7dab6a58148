"""Cascade observations: ``(x0, xT)`` state pairs on a known graph (paper A).

A cascade is observed twice: ``x0`` (who is active at ``T0``) and ``xT`` (who is active at ``T``),
both 0/1 vectors over the ``N`` nodes. :class:`CascadeData` holds ``K`` such pairs together with
the graph they spread on; :class:`CascadeDataset` serves them to a ``DataLoader``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["CascadeData", "CascadeDataset", "majority_accuracy"]


@dataclass
class CascadeData:
    """``K`` observed cascades on one graph.

    Attributes:
        x0: ``[K, N]`` float 0/1 states at ``T0``.
        xT: ``[K, N]`` float 0/1 states at ``T`` (a node active in ``x0`` is active in ``xT``).
        edge_index: ``[2, E]`` int64 arcs ``(source, target)`` of the influence graph.
        num_nodes: ``N``.
        name: a short description (used in logs and ``metrics.json``).
        info: free-form facts about how the data was made (parameters, counts).

    Shapes:
        x0, xT ``[K, N]``; edge_index ``[2, E]``.
    """

    x0: torch.Tensor
    xT: torch.Tensor  # noqa: N815 - paper A's x^T
    edge_index: torch.Tensor
    num_nodes: int
    name: str = "cascades"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x0 = torch.as_tensor(self.x0).float()
        self.xT = torch.as_tensor(self.xT).float()
        self.edge_index = torch.as_tensor(self.edge_index).long()
        self.num_nodes = int(self.num_nodes)
        if self.x0.dim() != 2 or self.x0.shape != self.xT.shape:
            raise ValueError(
                f"x0 and xT must both be [K, N]; got {tuple(self.x0.shape)} and "
                f"{tuple(self.xT.shape)}"
            )
        if self.x0.shape[1] != self.num_nodes:
            raise ValueError(
                f"x0 has {self.x0.shape[1]} columns but num_nodes is {self.num_nodes}"
            )
        if self.edge_index.dim() != 2 or self.edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must be [2, E], got {tuple(self.edge_index.shape)}")
        if self.edge_index.numel() and (
            int(self.edge_index.min()) < 0 or int(self.edge_index.max()) >= self.num_nodes
        ):
            raise ValueError(f"edge_index has node ids outside [0, {self.num_nodes})")
        for name in ("x0", "xT"):
            t = getattr(self, name)
            if not bool(((t == 0) | (t == 1)).all()):
                raise ValueError(f"{name} must hold 0/1 states")

    @property
    def num_cascades(self) -> int:
        """Number of cascades ``K``."""
        return int(self.x0.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of arcs ``E`` of the influence graph."""
        return int(self.edge_index.shape[1])

    def graph(self) -> DiffusionGraph:
        """The influence graph as a :class:`DiffusionGraph` (no edge probabilities)."""
        return DiffusionGraph.from_edge_index(self.edge_index, num_nodes=self.num_nodes)

    def subset(self, index: torch.Tensor) -> CascadeData:
        """The cascades at ``index`` (same graph)."""
        return CascadeData(
            self.x0[index], self.xT[index], self.edge_index, self.num_nodes, self.name,
            dict(self.info),
        )


class CascadeDataset(Dataset):
    """A ``torch`` dataset of ``(x0, xT)`` float pairs, one per cascade.

    Args:
        x0: ``[K, N]`` 0/1 states at ``T0``.
        xT: ``[K, N]`` 0/1 states at ``T``.

    Raises:
        ValueError: the two tensors differ in shape.

    Shapes:
        x0, xT ``[K, N]``; an item is a pair of ``[N]`` float tensors.
    """

    def __init__(self, x0: torch.Tensor, xT: torch.Tensor) -> None:
        x0, xT = torch.as_tensor(x0).float(), torch.as_tensor(xT).float()
        if x0.shape != xT.shape or x0.dim() != 2:
            raise ValueError(
                f"x0 and xT must both be [K, N]; got {tuple(x0.shape)} and {tuple(xT.shape)}"
            )
        self.x0, self.xT = x0, xT

    def __len__(self) -> int:
        return int(self.x0.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x0[i], self.xT[i]


def majority_accuracy(xT_train: torch.Tensor, xT_eval: torch.Tensor) -> float:
    """Accuracy of the majority-class predictor fitted on ``xT_train`` (one class for all pairs).

    Args:
        xT_train: ``[K1, N]`` training targets (their majority state is the prediction).
        xT_eval: ``[K2, N]`` targets to score.

    Returns:
        The share of ``(cascade, node)`` pairs of ``xT_eval`` equal to the majority state.
    """
    majority = float(xT_train.float().mean() >= 0.5)
    return float((xT_eval.float() == majority).float().mean())
