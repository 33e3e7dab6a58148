"""Seed selection for paper C's signed problem: one entry point and two selector classes.

:func:`select_signed` solves ``min sum_{i in S} f_i + sum_{i flipped} C_i`` (DESIGN 7.5) either
exactly with one of the MILPs of :mod:`.milp` (``method="milp"``) or heuristically with the local
search of :mod:`.local_search` (``method="local_search"``), and re-scores the set it returns with
the simulator (:func:`~influence_gpu.selection.signed.objective.signed_cost`), under the tie rule
asked for.

Optimality under ties. The MILPs model the simulator's ``tie_break="optimistic"``; their optimum
is a lower bound for the default ``"pessimistic"`` rule too (a tie can only add flipped nodes).
A MILP set is reported ``optimal`` when every component's MILP closed and the set's cost under
the requested rule equals the MILP optimum (always so without parity ties, e.g. with continuous
random delays). A set not proven optimal - a time limit, or ties under the pessimistic rule
(a warning says so) - is polished by the local search under the requested rule, in the time
left, and ``gap`` measures the result against the MILP's lower bound.

:class:`SignedMILP` and :class:`SignedLocalSearch` wrap it in the selector contract of
:mod:`influence_gpu.selection.base` (``select(graph, k=None, *, generator=None)``); the signed
problem chooses its own number of seeds, so ``k`` is accepted and ignored. Costs and penalties
are constructor arguments in any form :func:`~influence_gpu.graph.signed_instances.node_costs`
takes (a number, per-node values, a node attribute mapping, a rule such as
``{"rule": "uniform", "low": 1, "high": 10, "seed": 0}``), resolved on the graph at select time.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import SelectionResult, Selector, make_result
from influence_gpu.selection.signed.local_search import signed_local_search
from influence_gpu.selection.signed.milp import FORMULATIONS, solve_signed_milp
from influence_gpu.selection.signed.objective import (
    TIE_BREAKS,
    _cost_of_ids,
    check_signed_graph,
    resolve_costs,
)

__all__ = ["SignedSelection", "select_signed", "SignedMILP", "SignedLocalSearch", "METHODS"]

#: Methods of :func:`select_signed`.
METHODS = ("milp", "local_search")


@dataclass
class SignedSelection:
    """A seed set for paper C's problem and what is known about it.

    Attributes:
        seeds: the seeds in the graph's labels (sorted by internal id).
        cost: send costs plus penalties of flipped nodes, by the simulator under ``tie_break``
            (``inf`` for an infeasible set, which the methods never return).
        optimal: the cost is proven optimal (MILP closed; see the module docstring for ties).
        gap: ``(cost - lower_bound) / cost`` (0 when optimal; ``nan`` for local search, which
            proves no bound).
        seconds: wall-clock time of the selection.
        ids: the seeds as internal ids.
        lower_bound: proven lower bound on the optimum (``nan`` for local search).
        method: ``"milp_bellman"``, ``"milp_kkt"``, ``"milp_paths"`` or ``"local_search"``.
        tie_break: the tie rule of ``cost``.
        extra: method details (MILP status, objective, model sizes; local-search moves).
    """

    seeds: list[Any]
    cost: float
    optimal: bool
    gap: float
    seconds: float
    ids: list[int] = field(default_factory=list)
    lower_bound: float = math.nan
    method: str = ""
    tie_break: str = "pessimistic"
    extra: dict[str, Any] = field(default_factory=dict)


def select_signed(
    graph: DiffusionGraph,
    send_cost: Any,
    penalty: Any,
    method: str = "milp",
    formulation: str = "bellman",
    time_limit: float | None = None,
    *,
    tie_break: str = "pessimistic",
    mip_rel_gap: float = 1e-6,
    valid_inequalities: bool = True,
    solver: str = "auto",
    seed: int | None = 0,
    local_search: dict[str, Any] | None = None,
) -> SignedSelection:
    """Choose seeds minimising send costs plus penalties of flipped nodes (paper C).

    Args:
        graph: signed graph with positive delays (``edge_sign``; ``edge_delay``, 1 when absent);
            an undirected graph holds both arcs of every edge.
        send_cost: ``f``, any form :func:`~influence_gpu.graph.signed_instances.node_costs`
            accepts.
        penalty: ``C``, the same forms.
        method: ``"milp"`` (exact) or ``"local_search"``.
        formulation: MILP formulation, ``"bellman"``, ``"kkt"`` or ``"paths"``.
        time_limit: seconds (``None``: no limit) for the MILP and the local search that
            polishes a set the MILP did not prove optimal (a component without an incumbent
            starts from its cheapest node).
        tie_break: the simulator's tie rule the returned cost uses, ``"pessimistic"`` or
            ``"optimistic"``.
        mip_rel_gap: relative gap at which HiGHS stops.
        valid_inequalities: add the MILPs' valid inequalities.
        solver: HiGHS backend of :func:`~influence_gpu.solvers.milp.solve_milp`.
        seed: seed of the local search.
        local_search: extra keyword arguments of
            :func:`~influence_gpu.selection.signed.local_search.signed_local_search`.

    Returns:
        The :class:`SignedSelection`.

    Raises:
        ValueError: an unknown method / formulation / tie rule, an unsigned graph, a
            non-positive delay, costs or penalties of the wrong length or negative.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "milp" and formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    check_signed_graph(graph, positive_delays=True)
    f, c = resolve_costs(graph, send_cost, penalty)
    ls_opts = dict(local_search or {})
    if method == "local_search":
        res = signed_local_search(graph, f, c, tie_break=tie_break, seed=seed,
                                  time_limit=time_limit, **ls_opts)
        cost = _cost_of_ids(graph, torch.tensor(res.ids, dtype=torch.long), f, c, tie_break)[0]
        return SignedSelection(
            seeds=graph.labels_of(res.ids), cost=cost, optimal=False, gap=math.nan,
            seconds=time.perf_counter() - t0, ids=res.ids, method="local_search",
            tie_break=tie_break,
            extra={"rounds": res.rounds, "moves": res.moves, "evaluations": res.evaluations,
                   "finished": res.finished},
        )
    sol = solve_signed_milp(graph, f, c, formulation, time_limit=time_limit,
                            mip_rel_gap=mip_rel_gap, valid_inequalities=valid_inequalities,
                            solver=solver)
    ids = sol.ids
    cost = _cost_of_ids(graph, torch.tensor(ids, dtype=torch.long), f, c, tie_break)[0]
    tol = 1e-6 * max(1.0, abs(cost))
    optimal = sol.optimal and cost <= sol.objective + tol
    if sol.optimal and not optimal:
        warnings.warn(
            f"the MILP optimum {sol.objective:.6g} models ties between shortest paths "
            f"optimistically; its set costs {cost:.6g} under tie_break={tie_break!r}, so "
            "optimality is not proven (the MILP optimum stays a lower bound)",
            stacklevel=2,
        )
    improved = False
    left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    if not optimal and (left is None or left > 0):
        # polish a set the MILP did not prove optimal (time limit, ties) under the asked rule
        better = signed_local_search(graph, f, c, tie_break=tie_break, init=ids, seed=seed,
                                     time_limit=left, **ls_opts)
        if better.cost < cost - tol:
            ids = better.ids
            cost = _cost_of_ids(graph, torch.tensor(ids, dtype=torch.long), f, c, tie_break)[0]
            improved = True
            optimal = sol.optimal and cost <= sol.objective + tol
    lower = min(sol.lower_bound, cost)
    gap = 0.0 if optimal else (max(0.0, cost - lower) / cost if cost > 0 else 0.0)
    return SignedSelection(
        seeds=graph.labels_of(ids), cost=cost, optimal=optimal, gap=gap,
        seconds=time.perf_counter() - t0, ids=list(ids), lower_bound=lower,
        method=f"milp_{formulation}", tie_break=tie_break,
        extra={"status": sol.status, "milp_objective": sol.objective,
               "milp_seconds": sol.seconds, "incomplete_components": sol.incomplete,
               "improved_by_local_search": improved, **sol.stats},
    )


def _seed_from(generator: torch.Generator | None, default: int | None) -> int | None:
    if generator is None:
        return default
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator,
                             device=generator.device).item())


def _result(graph: DiffusionGraph, sel: SignedSelection, t0: float) -> SelectionResult:
    extra = {"cost": sel.cost, "optimal": sel.optimal, "gap": sel.gap,
             "lower_bound": sel.lower_bound, "tie_break": sel.tie_break,
             "num_seeds": len(sel.ids), **sel.extra}
    finished = sel.extra.get("finished", sel.extra.get("status") == "optimal")
    return make_result(graph, sel.method, sel.ids, t0, finished=bool(finished), extra=extra)


class SignedMILP(Selector):
    """Exact seeds for paper C's problem with one of the MILPs (``milp_<formulation>``).

    Args:
        formulation: ``"bellman"``, ``"kkt"`` or ``"paths"``
            (:mod:`influence_gpu.selection.signed.milp`).
        time_limit: seconds (``None``: none).
        send_cost: send costs ``f`` in any form ``node_costs`` takes (e.g. a rule mapping).
        penalty: penalties ``C``, the same forms.
        tie_break: tie rule of the reported cost.
        mip_rel_gap: relative gap at which HiGHS stops.
        valid_inequalities: add the valid inequalities.
        solver: HiGHS backend (``"auto"``, ``"scipy"``, ``"highspy"``).
    """

    def __init__(
        self,
        formulation: str = "bellman",
        time_limit: float | None = None,
        send_cost: Any = 1.0,
        penalty: Any = 1.0,
        tie_break: str = "pessimistic",
        mip_rel_gap: float = 1e-6,
        valid_inequalities: bool = True,
        solver: str = "auto",
    ) -> None:
        if formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
        self.formulation = formulation
        self.time_limit = time_limit
        self.send_cost = send_cost
        self.penalty = penalty
        self.tie_break = tie_break
        self.mip_rel_gap = mip_rel_gap
        self.valid_inequalities = valid_inequalities
        self.solver = solver

    @property
    def name(self) -> str:  # type: ignore[override]
        """``milp_bellman``, ``milp_kkt`` or ``milp_paths``."""
        return f"milp_{self.formulation}"

    def select(self, graph: DiffusionGraph, k: int | None = None, *,
               generator: torch.Generator | None = None) -> SelectionResult:
        """Solve the MILP; ``k`` is ignored (the problem sizes its own seed set).

        Returns:
            A :class:`SelectionResult` whose ``extra`` holds ``cost``, ``optimal``, ``gap``,
            ``lower_bound`` and the MILP's status and sizes; ``finished`` is ``False`` when the
            time limit stopped HiGHS.
        """
        t0 = time.perf_counter()
        sel = select_signed(graph, self.send_cost, self.penalty, "milp", self.formulation,
                            self.time_limit, tie_break=self.tie_break,
                            mip_rel_gap=self.mip_rel_gap,
                            valid_inequalities=self.valid_inequalities, solver=self.solver,
                            seed=_seed_from(generator, 0))
        return _result(graph, sel, t0)


class SignedLocalSearch(Selector):
    """Add / drop / swap and pair-move local search with restarts for paper C's problem.

    Args:
        send_cost: send costs ``f`` in any form ``node_costs`` takes.
        penalty: penalties ``C``, the same forms.
        tie_break: tie rule of the simulator the search follows.
        time_limit: seconds (``None``: none).
        perturbations: number of local restarts after the first descent.
        ball_size: nodes redrawn by one restart.
        swap_candidates: swap partners per seed on large components.
        seed: seed of the search when ``select`` gets no generator.
        pairs: try pair moves (add + add, drop + drop) at every local optimum.
        pair_margin: restarts within this fraction of the best cost get the pair moves.
        patience: local restarts in a row without improvement that end the search
            (``None``: none).
    """

    name = "local_search"

    def __init__(
        self,
        send_cost: Any = 1.0,
        penalty: Any = 1.0,
        tie_break: str = "pessimistic",
        time_limit: float | None = None,
        perturbations: int = 100,
        ball_size: int = 64,
        swap_candidates: int = 32,
        seed: int | None = 0,
        pairs: bool = True,
        pair_margin: float = 0.03,
        patience: int | None = 25,
    ) -> None:
        self.send_cost = send_cost
        self.penalty = penalty
        self.tie_break = tie_break
        self.time_limit = time_limit
        self.perturbations = perturbations
        self.ball_size = ball_size
        self.swap_candidates = swap_candidates
        self.seed = seed
        self.pairs = pairs
        self.pair_margin = pair_margin
        self.patience = patience

    def select(self, graph: DiffusionGraph, k: int | None = None, *,
               generator: torch.Generator | None = None) -> SelectionResult:
        """Run the local search; ``k`` is ignored (the problem sizes its own seed set).

        The search is seeded from ``generator`` when one is given, else from ``seed``.

        Returns:
            A :class:`SelectionResult` whose ``extra`` holds ``cost`` (``optimal`` is
            ``False``, ``gap`` NaN) and the moves made.
        """
        t0 = time.perf_counter()
        sel = select_signed(
            graph, self.send_cost, self.penalty, "local_search", time_limit=self.time_limit,
            tie_break=self.tie_break, seed=_seed_from(generator, self.seed),
            local_search={"perturbations": self.perturbations, "ball_size": self.ball_size,
                          "swap_candidates": self.swap_candidates, "pairs": self.pairs,
                          "pair_margin": self.pair_margin, "patience": self.patience},
        )
        return _result(graph, sel, t0)
