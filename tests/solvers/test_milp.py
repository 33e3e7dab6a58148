"""solve_milp: a hand-checked knapsack, infeasibility, solver resolution, scipy fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from influence_gpu import typing as ig_typing
from influence_gpu.solvers import MILPResult, resolve_milp_solver, solve_milp

SOLVERS = ["scipy"] + (["highspy"] if ig_typing.WITH_HIGHS else [])


def knapsack():
    """max 5 x1 + 4 x2 + 3 x3 s.t. 2 x1 + 3 x2 + x3 <= 5, x binary: x = (1, 1, 0), value 9.

    The LP relaxation reaches 10 + 2/3 (x1 = x3 = 1, x2 = 2/3), so integrality matters.
    """
    return {
        "c": -np.array([5.0, 4.0, 3.0]),
        "A": sp.csc_matrix(np.array([[2.0, 3.0, 1.0]])),
        "lower": np.zeros(3),
        "upper": np.ones(3),
        "integrality": np.ones(3, dtype=np.uint8),
        "row_lower": np.array([-np.inf]),
        "row_upper": np.array([5.0]),
    }


@pytest.mark.parametrize("solver", SOLVERS)
def test_knapsack_optimum(solver):
    res = solve_milp(**knapsack(), time_limit=10.0, mip_rel_gap=0.0, solver=solver)
    assert isinstance(res, MILPResult) and res.solver == solver
    assert res.status == "optimal"
    assert np.allclose(res.x, [1.0, 1.0, 0.0])
    assert res.objective == pytest.approx(-9.0)
    assert res.dual_bound == pytest.approx(-9.0)
    assert res.mip_gap == pytest.approx(0.0, abs=1e-9) or math.isnan(res.mip_gap)
    assert res.time_s >= 0


@pytest.mark.parametrize("solver", SOLVERS)
def test_relaxation_without_integrality(solver):
    kw = {**knapsack(), "integrality": np.zeros(3, dtype=np.uint8)}
    res = solve_milp(**kw, time_limit=10.0, solver=solver)
    assert res.status == "optimal" and res.objective == pytest.approx(-(10 + 2 / 3))


@pytest.mark.parametrize("solver", SOLVERS)
def test_feasible_start_is_accepted(solver):
    # scipy takes no start and ignores it; highspy starts from it: same optimum either way
    res = solve_milp(**knapsack(), mip_rel_gap=0.0, solver=solver, initial=np.zeros(3))
    assert res.status == "optimal" and res.objective == pytest.approx(-9.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_has_no_solution(solver):
    kw = {**knapsack(), "row_lower": np.array([7.0]), "row_upper": np.array([np.inf])}  # > 6
    res = solve_milp(**kw, time_limit=10.0, solver=solver)
    assert res.status not in ("optimal", "time_limit")
    assert res.x is None and math.isnan(res.objective)


def test_auto_reads_the_flag_at_call_time(monkeypatch):
    monkeypatch.setattr(ig_typing, "WITH_HIGHS", False)
    assert resolve_milp_solver("auto") == "scipy"
    assert solve_milp(**knapsack(), solver="auto").solver == "scipy"
    with pytest.raises(ValueError, match="pip install highspy"):
        resolve_milp_solver("highspy")
    monkeypatch.setattr(ig_typing, "WITH_HIGHS", True)
    assert resolve_milp_solver("auto") == "highspy"


def test_unknown_solver_refused():
    with pytest.raises(ValueError, match="solver must be one of"):
        solve_milp(**knapsack(), solver="gurobi")
