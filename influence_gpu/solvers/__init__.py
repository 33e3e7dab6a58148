"""Optimisation back ends shared by the library: MILPs through HiGHS (:mod:`.milp`).

``highspy`` is used when installed, ``scipy.optimize.milp`` otherwise; neither is imported until a
problem is solved.
"""

from influence_gpu.solvers.milp import MILP_SOLVERS, MILPResult, resolve_milp_solver, solve_milp

__all__ = ["MILP_SOLVERS", "MILPResult", "resolve_milp_solver", "solve_milp"]
