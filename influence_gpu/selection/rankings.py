"""Score rankings of paper D: top ``k`` by influence-based closeness (ICC) or plain closeness.

Each selector scores every node once and returns the ``k`` largest, ties to the lower id;
``extra["score"]`` holds the chosen nodes' scores. The sets are nested (the ``k`` set is a
prefix of the ``k + 1`` set) and no simulation is run.

* :class:`ICCRanking` - paper D's influence-based closeness score (DESIGN 7.4;
  :func:`~influence_gpu.graph.closeness.icc_score`).
* :class:`ClosenessRanking` - Wasserman-Faust closeness over outward hops, paper D's baseline
  (:func:`~influence_gpu.graph.closeness.closeness_centrality`).
"""

from __future__ import annotations

import time

import torch

from influence_gpu.diffusion.base import Diffusion
from influence_gpu.graph.closeness import DEFAULT_THRESHOLD, closeness_centrality, icc_score
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import (
    SelectionResult,
    Selector,
    check_graph,
    check_k,
    make_result,
)

__all__ = ["ICCRanking", "ClosenessRanking"]


class _Ranking(Selector):
    """Top ``k`` nodes by a score, ties to the lower id; ``extra["score"]`` of the chosen."""

    def _score(self, graph: DiffusionGraph) -> torch.Tensor:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} must define _score (a ranking's node scores)")

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose the ``k`` nodes of largest score (``generator`` unused).

        Args:
            graph: the graph (with ``edge_prob`` where the score needs it).
            k: number of seeds, ``1 <= k <= num_nodes``.
            generator: unused (the rankings are deterministic).

        Returns:
            :class:`SelectionResult` without an objective estimate; ``extra["score"]`` lists
            the chosen nodes' scores in order.

        Raises:
            ValueError: ``k`` out of range.
        """
        t0 = time.perf_counter()
        graph = check_graph(graph)
        k = check_k(k, graph.num_nodes)
        score = self._score(graph).double().cpu()
        ids = torch.argsort(-score, stable=True)[:k]
        return make_result(graph, self.name, ids, t0,
                           extra={"score": [float(score[v]) for v in ids]})


class ICCRanking(_Ranking):
    """Top ``k`` by paper D's influence-based closeness score (DESIGN 7.4).

    ``ICC_active - blocked_weight * ICC_blocked`` under a non-submodular model (minimum /
    multiplication threshold), ``ICC_active`` under a submodular one (IC, LT), which has no
    blocked state (:func:`~influence_gpu.graph.closeness.icc_score`). The score reads the
    weights ``b(u, v)`` in ``edge_prob``; paper D uses ``lt_weights``.

    Args:
        diffusion: the model; only whether it is submodular matters (``None``: as
            non-submodular).
        blocked_weight: weight of ``ICC_blocked`` (1: DESIGN's score; 0: ``ICC_active`` alone).
        threshold: the path-product cut-off ``lambda``.
    """

    name = "icc"

    def __init__(self, diffusion: Diffusion | None = None, blocked_weight: float = 1.0,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.diffusion = diffusion
        self.blocked_weight = float(blocked_weight)
        self.threshold = float(threshold)

    def _score(self, graph: DiffusionGraph) -> torch.Tensor:
        submodular = self.diffusion is not None and self.diffusion.submodular
        weight = 0.0 if submodular else self.blocked_weight
        return icc_score(graph, blocked_weight=weight, threshold=self.threshold)


class ClosenessRanking(_Ranking):
    """Top ``k`` by plain closeness over outward hops (Wasserman-Faust), paper D's baseline."""

    name = "closeness"

    def _score(self, graph: DiffusionGraph) -> torch.Tensor:
        return closeness_centrality(graph)
