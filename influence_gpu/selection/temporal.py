"""Seed selection on temporal graphs: KT and KTIM (paper E) and the peers it compares with.

Paper E ("An influence maximization algorithm based on improved K-shell in temporal social
networks") lost its formulas; DESIGN 7.3 fixes our reading, and every choice it leaves open is a
constructor option here:

* :class:`KT` -- layers of the improved k-shell
  (:func:`~influence_gpu.graph.temporal_stats.improved_kshell`) from the core outward, the
  largest comprehensive degree (CD) of each layer; with fewer layers than ``k`` it goes round
  again with each layer's next node;
* :class:`KTIM` -- candidates = the ``num_candidates`` nodes of largest ``Ks`` (ties by CD), seeds
  = the top ``k`` of them by CD;
* :class:`IMIT` (Wu et al.) -- CELF over Monte Carlo temporal IC (100 runs);
* :class:`TIM` (Chen et al., two-stage) -- candidates by temporal characteristic, then greedy over
  them with 100 runs;
* :class:`CCA` (Cao et al., core covering) -- repeatedly the node of largest ``Ks`` (ties by
  degree), excluding every node within ``radius`` hops of it.

The layering is offline work (paper E leaves it out of the running times): it is computed
before the selection clock starts and reported as ``extra["offline_seconds"]``. Ties always go
to the lowest node id. IMIT and TIM reuse the one greedy engine
(:func:`~influence_gpu.selection.lazy_greedy.lazy_greedy`) over a
:class:`~influence_gpu.selection.oracles.SpreadOracle`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from influence_gpu.diffusion._common import draw_key, make_generator
from influence_gpu.diffusion.base import Diffusion, TemporalIC
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.temporal_stats import temporal_characteristic, temporal_layering
from influence_gpu.selection.base import (
    SelectionResult,
    Selector,
    check_graph,
    check_k,
    make_result,
)
from influence_gpu.selection.heuristics import core_numbers
from influence_gpu.selection.lazy_greedy import lazy_greedy
from influence_gpu.selection.oracles import SpreadOracle

__all__ = ["KT", "KTIM", "IMIT", "TIM", "CCA"]


def _positive_int(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return x


def _rank(*keys: np.ndarray) -> np.ndarray:
    """Node ids sorted by the keys, largest first, ties by lowest id (``keys[0]`` primary)."""
    n = keys[0].size
    return np.lexsort((np.arange(n), *[-k.astype(np.float64) for k in reversed(keys)]))


class _Layered(Selector):
    """Shared options of the layering-based selectors."""

    def __init__(self, direction: str = "out", same_layer: bool = False) -> None:
        self.direction = direction
        self.same_layer = bool(same_layer)

    def _layering(self, graph: DiffusionGraph):
        """The layering and its offline seconds (of its first computation; it is cached)."""
        lay = temporal_layering(graph, direction=self.direction, same_layer=self.same_layer)
        return lay, lay.seconds


class KT(_Layered):
    """KT (paper E): the largest-CD node of each improved k-shell layer, core first.

    Args:
        direction: TC over out-arcs (``"out"``, DESIGN 7.3) or in- plus out-arcs (``"both"``).
        same_layer: CD counts only out-neighbours in the node's own layer.
    """

    name = "kt"

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds; ``extra`` has ``offline_seconds`` (layering) and ``num_layers``."""
        graph = check_graph(graph)
        k = check_k(k, graph.num_nodes)
        lay, offline = self._layering(graph)
        t0 = time.perf_counter()
        ks, cd = lay.ks.numpy(), lay.cd.numpy()
        order = _rank(ks, cd)  # by layer (core first), CD inside a layer
        layer_of = ks[order]
        # position of each node inside its layer: round j takes the j-th node of every layer
        starts = np.flatnonzero(np.r_[True, layer_of[1:] != layer_of[:-1]])
        sizes = np.diff(np.r_[starts, order.size])
        within = np.arange(order.size) - np.repeat(starts, sizes)
        layer_idx = np.repeat(np.arange(starts.size), sizes)
        pick = order[np.lexsort((layer_idx, within))][:k]
        return make_result(graph, self.name, pick.tolist(), t0,
                           extra={"offline_seconds": offline, "num_layers": int(starts.size)})


class KTIM(_Layered):
    """KTIM (paper E): the top ``k`` by CD among the ``num_candidates`` nodes nearest the core.

    Args:
        num_candidates: candidate set size (paper E: 200); raised to ``k`` when ``k`` is larger.
        direction: as :class:`KT`.
        same_layer: as :class:`KT`.
    """

    name = "ktim"

    def __init__(self, num_candidates: int = 200, direction: str = "out",
                 same_layer: bool = False) -> None:
        super().__init__(direction, same_layer)
        self.num_candidates = _positive_int(num_candidates, "num_candidates")

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds; ``extra`` has ``offline_seconds`` and ``num_candidates``."""
        graph = check_graph(graph)
        k = check_k(k, graph.num_nodes)
        lay, offline = self._layering(graph)
        t0 = time.perf_counter()
        ks, cd = lay.ks.numpy(), lay.cd.numpy()
        m = min(graph.num_nodes, max(self.num_candidates, k))
        cand = _rank(ks, cd)[:m]
        pick = cand[_rank(cd[cand])[:k]]
        return make_result(graph, self.name, pick.tolist(), t0,
                           extra={"offline_seconds": offline, "num_candidates": int(m)})


def _fixed_worlds(diffusion: Diffusion | None, num_samples: int,
                  gen: torch.Generator, common: bool) -> Diffusion:
    """The oracle's diffusion: ``num_samples`` runs, one hash key for every call when ``common``."""
    diffusion = TemporalIC() if diffusion is None else diffusion
    if not isinstance(diffusion, Diffusion):
        raise TypeError(f"diffusion must be a Diffusion object, got {type(diffusion).__name__}")
    opts = dict(diffusion.options)
    if common and isinstance(diffusion, TemporalIC) and "edge_uniforms" not in opts:
        opts.setdefault("key", draw_key(gen))
    return type(diffusion)(num_samples, diffusion.memory_budget, **opts)


class _MonteCarlo(Selector):
    """Shared constructor of IMIT and TIM (the greedy engine over a temporal spread oracle)."""

    def __init__(self, diffusion: Diffusion | None = None, num_samples: int = 100, *,
                 mode: str = "celf", batch_size: int = 8, common_random_numbers: bool = True,
                 time_limit: float | None = None, progress: bool = False) -> None:
        self.diffusion = diffusion
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.mode = mode
        self.batch_size = batch_size
        self.common_random_numbers = bool(common_random_numbers)
        self.time_limit = time_limit
        self.progress = progress

    def _greedy(self, graph: DiffusionGraph, k: int, cand: list[int], generator: Any,
                t0: float, offline: float, extra: dict[str, Any]) -> SelectionResult:
        gen = make_generator(generator, graph.device)
        diff = _fixed_worlds(self.diffusion, self.num_samples, gen, self.common_random_numbers)
        oracle = SpreadOracle(graph, diff, generator=gen, common_random_numbers=False)
        trace = lazy_greedy(k, cand, oracle, mode=self.mode, batch_size=self.batch_size,
                            time_limit=self.time_limit, progress=self.progress, desc=self.name)
        extra = {"offline_seconds": offline, "num_samples": self.num_samples,
                 "oracle": repr(oracle), **extra}
        return make_result(graph, self.name, trace.chosen, t0,
                           prefix_objective=trace.prefix_values,
                           prefix_seconds=trace.prefix_seconds, finished=trace.finished,
                           evaluations=trace.evaluations, oracle_calls=trace.calls, extra=extra)


class IMIT(_MonteCarlo):
    """IMIT (Wu et al., as paper E runs it): CELF on the temporal IC with 100 Monte Carlo runs.

    Args:
        diffusion: the model and its options (default :class:`TemporalIC`); its ``num_samples``
            is replaced by ``num_samples``.
        num_samples: runs per evaluation (paper E: 100).
        mode: the greedy engine's mode (``"celf"``; ``"greedy"`` / ``"celf_pp"`` allowed).
        batch_size: stale heads re-scored per oracle call.
        common_random_numbers: every evaluation on the same ``num_samples`` worlds (one hash key
            drawn from the generator), so the oracle is a fixed submodular function and CELF picks
            what greedy would.
        time_limit: seconds after which it stops with the seeds chosen so far.
        progress: tqdm bar.
    """

    name = "imit"

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds over all nodes; ``offline_seconds`` is 0 (no offline stage)."""
        t0 = time.perf_counter()
        graph = check_graph(graph)
        k = check_k(k, graph.num_nodes)
        return self._greedy(graph, k, list(range(graph.num_nodes)), generator, t0, 0.0, {})


class TIM(_MonteCarlo):
    """TIM, two-stage (Chen et al., as paper E runs it): TC candidates, then greedy over them.

    Args:
        num_candidates: the candidates are the nodes of largest temporal characteristic (an
            option DESIGN 7.3 leaves open; default 100, raised to ``k`` when smaller).
        direction: TC over ``"out"`` or ``"both"`` arcs.
        diffusion, num_samples, mode, batch_size, common_random_numbers, time_limit, progress:
            as :class:`IMIT` (``mode="celf"`` gives greedy's seeds on common worlds).
    """

    name = "tim"

    def __init__(self, diffusion: Diffusion | None = None, num_samples: int = 100,
                 num_candidates: int = 100, direction: str = "out", **kwargs: Any) -> None:
        super().__init__(diffusion, num_samples, **kwargs)
        self.num_candidates = _positive_int(num_candidates, "num_candidates")
        self.direction = direction

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds; ``offline_seconds`` is the candidate stage (TC ranking)."""
        graph = check_graph(graph)
        k = check_k(k, graph.num_nodes)
        t = time.perf_counter()
        tc = temporal_characteristic(graph, self.direction).numpy()
        m = min(graph.num_nodes, max(self.num_candidates, k))
        cand = sorted(_rank(tc)[:m].tolist())
        offline = time.perf_counter() - t
        t0 = time.perf_counter()
        return self._greedy(graph, k, cand, generator, t0, offline, {"num_candidates": m})


def _undirected_csr(graph: DiffusionGraph) -> tuple[np.ndarray, np.ndarray]:
    n = graph.num_nodes
    a, b = graph.src.cpu().numpy(), graph.col.cpu().numpy()
    ends, nbrs = np.concatenate([a, b]), np.concatenate([b, a])
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=ptr[1:])
    return ptr, nbrs[order]


class CCA(_Layered):
    """Core covering (Cao et al., as paper E runs it), radius 1 by default.

    Repeatedly takes the available node of largest ``Ks`` (ties by degree, then lowest id) and
    makes every node within ``radius`` hops of it (arcs in either direction) unavailable. When no
    available node is left before ``k`` seeds, the rest are the best excluded nodes in the same
    order (``extra["refilled"]`` counts them).

    Args:
        radius: covering distance in hops (paper E: 1).
        shells: ``"temporal"`` (the improved k-shell of paper E, DESIGN 7.3) or ``"static"``
            (Batagelj-Zaversnik cores of the undirected view, Cao et al.'s original).
        degree: tie-break degree, ``"out"``, ``"in"`` or ``"total"`` (arcs, not contacts).
        direction: TC direction of the temporal shells.
    """

    name = "cca"

    def __init__(self, radius: int = 1, shells: str = "temporal", degree: str = "out",
                 direction: str = "out") -> None:
        super().__init__(direction, False)
        if isinstance(radius, bool) or not isinstance(radius, int) or radius < 0:
            raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
        if shells not in ("temporal", "static"):
            raise ValueError(f"shells must be 'temporal' or 'static', got {shells!r}")
        if degree not in ("out", "in", "total"):
            raise ValueError(f"degree must be 'out', 'in' or 'total', got {degree!r}")
        self.radius, self.shells, self.degree = radius, shells, degree

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds; ``extra`` has ``offline_seconds`` (shells) and ``refilled``."""
        graph = check_graph(graph)
        n = graph.num_nodes
        k = check_k(k, n)
        if self.shells == "temporal":
            lay, offline = self._layering(graph)
            ks = lay.ks.numpy()
        else:
            t = time.perf_counter()
            ks = core_numbers(graph).cpu().numpy()
            offline = time.perf_counter() - t
        t0 = time.perf_counter()
        deg = {"out": graph.out_degree, "in": graph.in_degree}.get(self.degree)
        deg = (graph.out_degree() + graph.in_degree()) if deg is None else deg()
        order = _rank(ks, deg.cpu().numpy())
        ptr, nbrs = _undirected_csr(graph)
        free = np.ones(n, dtype=bool)
        seen = np.full(n, -1, dtype=np.int64)  # BFS stamp: the seed whose ball saw the node
        chosen: list[int] = []
        for v in order.tolist():
            if len(chosen) == k:
                break
            if not free[v]:
                continue
            chosen.append(v)
            ball = np.array([v])
            free[v], seen[v] = False, v
            for _ in range(self.radius):  # hop ball of the seed, through any node
                nxt = np.concatenate([nbrs[ptr[u]:ptr[u + 1]] for u in ball.tolist()])
                nxt = np.unique(nxt[seen[nxt] != v])
                if nxt.size == 0:
                    break
                free[nxt], seen[nxt] = False, v
                ball = nxt
        refilled = 0
        if len(chosen) < k:
            taken = set(chosen)
            for v in order.tolist():
                if len(chosen) == k:
                    break
                if v not in taken:
                    chosen.append(v)
                    refilled += 1
        return make_result(graph, self.name, chosen, t0,
                           extra={"offline_seconds": offline, "refilled": refilled,
                                  "radius": self.radius, "shells": self.shells})
