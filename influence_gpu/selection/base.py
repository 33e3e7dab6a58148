"""The seed-selection contract: :class:`SeedSelector`, :class:`BlockingSelector`, one result.

Every method is a class whose constructor takes its hyper-parameters (and its
:class:`~influence_gpu.diffusion.base.Diffusion` or oracle where it needs one) and whose
``select`` returns a :class:`SelectionResult`:

* ``SeedSelector.select(graph, k, *, generator=None)`` - influence maximisation;
* ``BlockingSelector.select(graph, k, *, false_seeds, generator=None)`` - influence blocking
  (paper B): choose a truth set disjoint from the given false seeds (internal ids).

``conf/selector/<name>.yaml`` has ``_target_`` = the class and one key per constructor argument,
so an app builds a selector with ``hydra.utils.instantiate`` and nothing else names methods.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch

from influence_gpu import validation as _v
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "SelectionResult",
    "SeedSelector",
    "BlockingSelector",
    "Selector",
    "check_graph",
    "check_k",
    "check_ids",
    "make_result",
]


@dataclass
class SelectionResult:
    """Seeds chosen by a selection method, with its own view of their value.

    Attributes:
        ids: internal node ids in the order chosen.
        seeds: the same nodes in the graph's labels (what users see).
        method: name of the method.
        prefix_objective: the method's own estimate of the objective after each prefix (empty
            for heuristics without one).
        prefix_seconds: elapsed seconds when each prefix was complete.
        seconds: wall-clock time of the whole selection.
        finished: ``False`` when a time limit (or too few candidates) stopped it before ``k``.
        evaluations: number of seed sets the oracle scored.
        oracle_calls: number of (batched) oracle calls.
        extra: method-specific numbers (e.g. IMM's ``num_rr_sets`` and ``approximation``).
    """

    ids: list[int]
    seeds: list[Any]
    method: str
    prefix_objective: list[float] = field(default_factory=list)
    prefix_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = True
    evaluations: int = 0
    oracle_calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """The method's estimate for the whole set (NaN when it has none)."""
        return self.prefix_objective[-1] if self.prefix_objective else float("nan")

    @property
    def gains(self) -> list[float]:
        """Marginal gain of each seed when it was chosen (from ``prefix_objective``)."""
        vals = self.prefix_objective
        return [v - (vals[i - 1] if i else 0.0) for i, v in enumerate(vals)]


@runtime_checkable
class SeedSelector(Protocol):
    """An influence-maximisation method: ``select(graph, k, *, generator) -> SelectionResult``."""

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:  # pragma: no cover - protocol
        """Choose ``k`` seeds of ``graph``."""
        ...


@runtime_checkable
class BlockingSelector(Protocol):
    """An influence-blocking method: ``select(graph, k, *, false_seeds, generator)``."""

    def select(
        self,
        graph: DiffusionGraph,
        k: int,
        *,
        false_seeds: Any,
        generator: torch.Generator | None = None,
    ) -> SelectionResult:  # pragma: no cover - protocol
        """Choose at most ``k`` truth seeds disjoint from ``false_seeds`` (internal ids)."""
        ...


class Selector:
    """Convenience base: ``name``, ``blocking`` flag and a readable ``repr``.

    Subclasses set ``name`` and implement ``select``; ``blocking = True`` marks a
    :class:`BlockingSelector`.
    """

    name: ClassVar[str] = ""
    blocking: ClassVar[bool] = False

    def __repr__(self) -> str:
        items = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_")
        )
        return f"{type(self).__name__}({items})"


def check_graph(graph: Any) -> DiffusionGraph:
    """Return ``graph`` or raise ``TypeError`` when it is not a :class:`DiffusionGraph`."""
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    return graph


#: ``k`` as an int in ``[1, available]``; the rule lives in :mod:`influence_gpu.validation`.
check_k = _v.check_k


def check_ids(graph: DiffusionGraph, ids: Any, name: str) -> torch.Tensor:
    """Internal ids ``[m]`` (int64 on the graph's device), range-checked; ``None`` -> empty.

    Repeats are allowed here (callers that need distinct ids deduplicate or check).

    Raises:
        TypeError: float, bool or non-numeric ids.
        ValueError: an id outside ``[0, num_nodes)`` (or outside int64).
    """
    return _v.check_node_ids(ids, graph.num_nodes, name, device=graph.device, unique=False)


def make_result(
    graph: DiffusionGraph,
    method: str,
    ids: Any,
    t0: float,
    *,
    prefix_objective: list[float] | None = None,
    prefix_seconds: list[float] | None = None,
    **fields: Any,
) -> SelectionResult:
    """Build a :class:`SelectionResult` from internal ids; ``seconds`` counted from ``t0``.

    Heuristics without per-prefix times get the final time for every prefix.
    """
    ids = [int(i) for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids)]
    now = time.perf_counter() - t0
    return SelectionResult(
        ids=ids,
        seeds=graph.labels_of(ids) if ids else [],
        method=method,
        prefix_objective=list(prefix_objective or []),
        prefix_seconds=list(prefix_seconds) if prefix_seconds is not None else [now] * len(ids),
        seconds=now,
        **fields,
    )


def nan_to_none(x: float) -> float | None:
    """JSON-friendly float (NaN -> None)."""
    return None if isinstance(x, float) and math.isnan(x) else x
