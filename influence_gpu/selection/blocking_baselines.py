"""Simulation-free baselines of influence blocking (paper B): degree, proximity, random.

Each is a :class:`~influence_gpu.selection.base.BlockingSelector` whose result has no objective
estimate (``prefix_objective`` empty); :func:`candidate_list` is the candidate rule shared with
the CELF blockers of :mod:`.blocking`.

``k`` larger than the candidate pool (every blocker, here and in :mod:`.blocking`): the
selection is not refused (a sweep over ``k`` on a small graph still runs), but it returns the
whole pool, warns (``UserWarning``) and marks the result: ``finished=False``,
``extra["short_of_k"] = {"k": k, "pool": pool_size, "returned": len(ids)}``
(:func:`note_short_of_k`). The pool is ``V - S_F`` for degree / proximity / random blocking and
the candidate list for the CELF blockers.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import torch

from influence_gpu.diffusion._common import make_generator
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.neighbourhoods import hop_neighbourhood
from influence_gpu.selection.base import SelectionResult, Selector, check_ids, check_k, make_result

__all__ = ["DegreeBlocking", "ProximityBlocking", "RandomBlocking", "candidate_list",
           "note_short_of_k"]


def note_short_of_k(result: SelectionResult, k: int, pool: int) -> SelectionResult:
    """Mark (and warn about) a result with fewer than ``k`` seeds because the pool ran out.

    Sets ``finished=False`` and ``extra["short_of_k"] = {"k", "pool", "returned"}``; a result
    with ``k`` seeds is returned unchanged.
    """
    if k > pool and len(result.ids) < k:
        warnings.warn(
            f"{result.method}: k={k} but only {pool} candidate node(s) can be chosen (outside the "
            f"false seeds); returning {len(result.ids)} seed(s), finished=False",
            stacklevel=3,
        )
        result.finished = False
        result.extra["short_of_k"] = {"k": k, "pool": pool, "returned": len(result.ids)}
    return result


def candidate_list(graph: DiffusionGraph, false_ids: torch.Tensor, candidates: Any,
                   h: int) -> list[int]:
    """Candidates as a sorted list without ``S_F``: ``N_h(S_F)`` by default, ``"all"`` for V.

    Raises:
        ValueError: a string other than ``"all"``, or ids out of range.
    """
    if candidates is None:
        cand = hop_neighbourhood(graph, false_ids, h)
    elif isinstance(candidates, str):
        if candidates != "all":
            raise ValueError(f"candidates must be None, 'all' or node ids, got {candidates!r}")
        cand = torch.arange(graph.num_nodes, device=graph.device)
    else:
        cand = torch.unique(check_ids(graph, candidates, "candidates"))
    bad = set(false_ids.tolist())
    return [v for v in cand.tolist() if v not in bad]


def _pool_size(graph: DiffusionGraph, false_ids: torch.Tensor) -> int:
    """``|V - S_F|``: how many truth seeds degree / proximity / random blocking can choose."""
    return graph.num_nodes - int(torch.unique(false_ids).numel())


def _random_order(graph: DiffusionGraph, excluded: torch.Tensor, k: int,
                  generator: torch.Generator | int | None) -> list[int]:
    gen = generator if isinstance(generator, torch.Generator) else make_generator(
        generator, graph.device)
    mask = torch.ones(graph.num_nodes, dtype=torch.bool, device=graph.device)
    mask[excluded] = False
    pool = torch.nonzero(mask).reshape(-1)
    return pool[torch.randperm(pool.numel(), generator=gen, device=graph.device)[:k]].tolist()


class DegreeBlocking(Selector):
    """The ``k`` nodes of largest out-degree outside ``S_F`` (ties: lowest id)."""

    name = "degree"
    blocking = True

    def select(self, graph: DiffusionGraph, k: int, *, false_seeds: Any,
               generator: torch.Generator | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds; ``generator`` is unused.

        Fewer than ``k`` nodes outside ``S_F``: all of them, with a warning and
        ``finished=False`` (see the module docstring).
        """
        t0 = time.perf_counter()
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        deg = graph.out_degree().double()
        deg[f] = -1.0
        order = torch.sort(deg, descending=True, stable=True).indices[: k + f.numel()]
        res = make_result(graph, self.name, [v for v in order.tolist() if deg[v] >= 0][:k], t0)
        return note_short_of_k(res, k, _pool_size(graph, f))


class ProximityBlocking(Selector):
    """Out-neighbours of ``S_F``, largest out-degree first; a random fill when too few."""

    name = "proximity"
    blocking = True

    def select(self, graph: DiffusionGraph, k: int, *, false_seeds: Any,
               generator: torch.Generator | int | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds; ``generator`` draws the fill.

        Fewer than ``k`` nodes outside ``S_F``: all of them, with a warning and
        ``finished=False`` (see the module docstring).
        """
        t0 = time.perf_counter()
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        nb = hop_neighbourhood(graph, f, 1)
        deg = graph.out_degree()[nb].double()
        order = nb[torch.sort(deg, descending=True, stable=True).indices].tolist()
        if len(order) < k:
            order += _random_order(graph, torch.cat([f, nb]), k - len(order), generator)
        return note_short_of_k(make_result(graph, self.name, order[:k], t0), k,
                               _pool_size(graph, f))


class RandomBlocking(Selector):
    """``k`` nodes drawn uniformly from ``V - S_F`` with the ``generator`` of ``select``."""

    name = "random"
    blocking = True

    def select(self, graph: DiffusionGraph, k: int, *, false_seeds: Any,
               generator: torch.Generator | int | None = None) -> SelectionResult:
        """Choose up to ``k`` truth seeds.

        Fewer than ``k`` nodes outside ``S_F``: all of them, with a warning and
        ``finished=False`` (see the module docstring).
        """
        t0 = time.perf_counter()
        k = check_k(k)
        f = check_ids(graph, false_seeds, "false_seeds")
        res = make_result(graph, self.name, _random_order(graph, f, k, generator), t0)
        return note_short_of_k(res, k, _pool_size(graph, f))
