"""Linear-threshold and random-walk learning MIPs (paper A, models (1) and (3)), solved with HiGHS.

* :mod:`.problem` - the MIP of one target node built from the cascades, its MILP arrays, its
  solve, and the accuracy the models report (formulation and readings in its docstring).
* :mod:`.models` - :class:`LTMIPModel` and :class:`RWMIPModel`: one node problem per target
  node, solved in parallel under a time limit, then prediction, scoring, save / load, export.

The MILP solver itself (highspy, or ``scipy.optimize.milp``) is :mod:`influence_gpu.solvers.milp`.
Model files name their class as ``influence_gpu.learn.mip.<Class>``, which imports from here.
"""

from influence_gpu.learn.mip.models import LTMIPModel, RWMIPModel
from influence_gpu.learn.mip.problem import (
    NodeProblem,
    NodeResult,
    cascade_accuracy,
    node_milp,
    node_problem,
    solve_node_problem,
)

__all__ = [
    "cascade_accuracy",
    "NodeResult",
    "NodeProblem",
    "node_problem",
    "node_milp",
    "solve_node_problem",
    "LTMIPModel",
    "RWMIPModel",
]
