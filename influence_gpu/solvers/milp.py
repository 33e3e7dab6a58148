"""Mixed-integer linear programs through HiGHS: ``highspy`` when installed, ``scipy`` otherwise.

One function, :func:`solve_milp`, takes a MILP as arrays,

.. code-block:: text

    min  c^T x   s.t.  row_lower <= A x <= row_upper,  lower <= x <= upper,
                       x_i integer where integrality[i] = 1,

and solves it under a time limit and a relative MIP gap with HiGHS: through ``highspy`` directly
(one thread, an optional feasible start) when the package is installed, else through
``scipy.optimize.milp`` (which bundles HiGHS). ``solver="auto"`` reads
:data:`influence_gpu.typing.WITH_HIGHS` at call time, so a test can switch it off. The learning
MIPs of :mod:`influence_gpu.learn.mip` solve one such program per target node.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from influence_gpu import typing as ig_typing

__all__ = ["MILP_SOLVERS", "MILPResult", "resolve_milp_solver", "solve_milp"]

#: Accepted values of ``solver``.
MILP_SOLVERS = ("auto", "scipy", "highspy")


@dataclass
class MILPResult:
    """What HiGHS returned for one MILP.

    Attributes:
        x: ``[n]`` float64 solution (``None`` when HiGHS found no feasible point, e.g. a time
            limit before the first incumbent).
        objective: ``c^T x`` as HiGHS reports it (``nan`` without a solution).
        status: ``"optimal"``, ``"time_limit"``, or the backend's status otherwise
            (``"scipy_status_<n>"`` / HiGHS's model status in snake case).
        mip_gap: relative gap between ``objective`` and ``dual_bound`` (``nan`` if not reported).
        dual_bound: best lower bound on the objective HiGHS proved (``nan`` if not reported).
        time_s: wall-clock seconds of the solve, model setup included.
        solver: the backend used, ``"scipy"`` or ``"highspy"``.
    """

    x: np.ndarray | None
    objective: float
    status: str
    mip_gap: float
    dual_bound: float
    time_s: float
    solver: str


def resolve_milp_solver(solver: str = "auto") -> str:
    """The backend ``solver`` names: ``"highspy"`` or ``"scipy"``.

    Args:
        solver: ``"auto"`` (highspy when installed, else scipy), ``"scipy"`` or ``"highspy"``.

    Returns:
        ``"highspy"`` or ``"scipy"``.

    Raises:
        ValueError: an unknown name, or ``"highspy"`` without the package.
    """
    if solver not in MILP_SOLVERS:
        raise ValueError(f"solver must be one of {MILP_SOLVERS}, got {solver!r}")
    if solver == "auto":
        return "highspy" if ig_typing.WITH_HIGHS else "scipy"
    if solver == "highspy" and not ig_typing.WITH_HIGHS:
        raise ValueError("solver='highspy' needs the highspy package (pip install highspy)")
    return solver


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _solve_scipy(c, A, lower, upper, integrality, row_lower, row_upper, time_limit, mip_rel_gap):
    from scipy.optimize import Bounds, LinearConstraint, milp

    res = milp(
        c, integrality=integrality, bounds=Bounds(lower, upper),
        constraints=LinearConstraint(A, row_lower, row_upper),
        options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap),
                 "disp": False},
    )
    status = {0: "optimal", 1: "time_limit"}.get(res.status, f"scipy_status_{res.status}")
    x = None if res.x is None else np.asarray(res.x)
    objective = math.nan if x is None else _float_or_nan(res.fun)
    return (x, objective, status, _float_or_nan(getattr(res, "mip_gap", None)),
            _float_or_nan(getattr(res, "mip_dual_bound", None)))


def _solve_highspy(c, A, lower, upper, integrality, row_lower, row_upper, time_limit,
                   mip_rel_gap, initial, threads):
    import highspy

    h = highspy.Highs()
    for key, val in (("output_flag", False), ("time_limit", float(time_limit)),
                     ("mip_rel_gap", float(mip_rel_gap)), ("threads", int(threads))):
        h.setOptionValue(key, val)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), A.shape[0]
    lp.col_cost_, lp.col_lower_ = c, lower
    lp.col_upper_ = np.minimum(upper, highspy.kHighsInf)
    lp.row_lower_ = np.maximum(row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.minimum(row_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
    lp.a_matrix_.value_ = A.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(c), A.shape[0]
    lp.integrality_ = [highspy.HighsVarType.kInteger if t else highspy.HighsVarType.kContinuous
                       for t in integrality]
    h.passModel(lp)
    if initial is not None:
        start = highspy.HighsSolution()
        start.col_value = np.asarray(initial, dtype=np.float64).tolist()
        start.value_valid = True
        h.setSolution(start)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    status = {highspy.HighsModelStatus.kOptimal: "optimal",
              highspy.HighsModelStatus.kTimeLimit: "time_limit"}.get(
        ms, h.modelStatusToString(ms).lower().replace(" ", "_"))
    sol = h.getSolution()
    x = np.asarray(sol.col_value) if sol.value_valid else None
    objective = math.nan if x is None else float(info.objective_function_value)
    return x, objective, status, float(info.mip_gap), float(info.mip_dual_bound)


def solve_milp(
    c: np.ndarray,
    A: Any,
    lower: np.ndarray,
    upper: np.ndarray,
    integrality: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    time_limit: float = math.inf,
    mip_rel_gap: float = 1e-4,
    solver: str = "auto",
    initial: np.ndarray | None = None,
    threads: int = 1,
) -> MILPResult:
    """Minimise ``c^T x`` over a MILP given as arrays, with HiGHS.

    Args:
        c: ``[n]`` objective coefficients.
        A: ``[m, n]`` constraint matrix, a ``scipy.sparse`` CSC matrix (highspy reads its
            column pointers; scipy accepts any sparse or dense matrix).
        lower: ``[n]`` variable lower bounds (``-inf`` allowed).
        upper: ``[n]`` variable upper bounds (``inf`` allowed).
        integrality: ``[n]`` 1 for an integer variable, 0 for a continuous one.
        row_lower: ``[m]`` constraint lower bounds (``-inf`` allowed).
        row_upper: ``[m]`` constraint upper bounds (``inf`` allowed).
        time_limit: seconds HiGHS may spend.
        mip_rel_gap: relative gap at which HiGHS stops.
        solver: ``"auto"`` (highspy when installed, read at call time; else scipy), ``"scipy"``
            or ``"highspy"``.
        initial: ``[n]`` feasible start, so that a time limit always leaves an incumbent
            (highspy only: ``scipy.optimize.milp`` takes no start and ignores it).
        threads: HiGHS threads (highspy only).

    Returns:
        The solution, objective, status, MIP gap, dual bound and seconds.

    Raises:
        ValueError: an unknown ``solver``, or ``"highspy"`` without the package.

    Shapes:
        c, lower, upper, integrality, initial ``[n]``; A ``[m, n]``; row_lower, row_upper
        ``[m]``; ``MILPResult.x`` ``[n]``.
    """
    backend = resolve_milp_solver(solver)
    t = time.perf_counter()
    if backend == "highspy":
        out = _solve_highspy(c, A, lower, upper, integrality, row_lower, row_upper, time_limit,
                             mip_rel_gap, initial, threads)
    else:
        out = _solve_scipy(c, A, lower, upper, integrality, row_lower, row_upper, time_limit,
                           mip_rel_gap)
    x, objective, status, gap, dual = out
    return MILPResult(x=x, objective=objective, status=status, mip_gap=gap, dual_bound=dual,
                      time_s=time.perf_counter() - t, solver=backend)
