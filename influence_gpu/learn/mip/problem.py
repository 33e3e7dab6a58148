"""The learning MIP of one target node (paper A, models (1) and (3)): data, arrays, solve.

Qiang, Pasiliao and Zheng (Applied Network Science 4:111, 2019) learn diffusion weights from
``K`` observed cascades ``(x0, xT)`` by a mixed-integer program that predicts every final state
with a threshold rule and minimises the mean absolute error. The problem separates by target node
``j`` (the paper's "decomposition method"): the in-weights of ``j`` only enter the predictions of
``j``. This module builds the small MIP of one target node from the cascades
(:func:`node_problem`), writes it as MILP arrays (:func:`node_milp`) and solves it with
:func:`influence_gpu.solvers.milp.solve_milp` under a time limit (:func:`solve_node_problem`);
:mod:`influence_gpu.learn.mip.models` runs one per node, in parallel.

The MIP of target node ``j``, over the training cascades ``k`` where ``j`` is inactive at ``T0``
(DESIGN.md section 5):

.. code-block:: text

    min   (1 / K_j) sum_k z_k
    s.t.  s_k = sum_v a_v w_v x0[k, i_v]          (influence on j in cascade k)
          s_k >= (theta + eps) p_k                 (p_k = 1 needs s_k above the threshold)
          s_k - theta <= M p_k                     (s_k above theta forces p_k = 1)
          z_k >= p_k - xT[k, j],  z_k >= xT[k, j] - p_k
          eps_w <= w_v <= 1,  p_k in {0, 1},  0 <= z_k <= 1
          sum_v w_v <= 1                           (LT only, paper (1e))

* **LT** (paper (1a)-(1h)): one term per in-arc ``(i, j)`` of the candidate graph, ``a_v = 1``,
  ``M = 1 - theta``, in-weights summing to at most 1, ``eps_w = eps`` (paper (1f)).
* **RW** (paper (3a)-(3f)): one term per in-arc (``a_v = a_ij1``, the path count of length 1) and
  one per nonzero of ``A^2`` (``a_v = a_ij2``, walks of length 2, ``i != j``), each with its own
  weight; ``M = sum_v a_v - theta`` (paper (3d)); no sum constraint; ``eps_w = 0`` (paper (3e)).

Readings we take (the paper is terse or inconsistent here):

* Paper (1c) reads ``s_k - theta >= eps - theta (1 - p_k)``, which for ``p_k = 0`` demands
  ``s_k >= eps`` and is infeasible for a cascade with no active in-neighbour of ``j``. We use
  DESIGN.md's ``s_k >= (theta + eps) p_k``, which is what the paper's text describes (activated
  exactly when the influence exceeds the threshold).
* Only ``(j, k)`` pairs with ``x0[k, j] = 0`` enter the MIP (the paper's set ``T``); a node active
  at ``T0`` stays active (the prediction is ``max(x0, rule)``), as in LTNN's fixed unit diagonal.
* ``z_k`` is continuous in ``[0, 1]``: with ``p_k`` and ``xT`` binary it equals
  ``|p_k - xT[k, j]|`` at every optimum, so the paper's binary ``z`` adds nothing.
* A learned model predicts ``j`` active iff ``s >= theta + eps / 2``: the MIP excludes
  ``theta < s < theta + eps`` so the midpoint reproduces the solver's ``p_k`` up to its
  feasibility tolerance (``fit`` reports any pair where they differ as ``prediction_mismatch``).

Accuracy (:func:`cascade_accuracy`) is the share of ``(cascade, node)`` pairs whose predicted final
state equals the observed one, over *all* pairs, those active at ``T0`` included (they are always
right, since every model here keeps them active and the data are monotone); the share over the
pairs inactive at ``T0`` alone is reported beside it (``*/accuracy_inactive``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from influence_gpu.solvers.milp import solve_milp

__all__ = [
    "cascade_accuracy",
    "NodeResult",
    "NodeProblem",
    "node_problem",
    "node_milp",
    "solve_node_problem",
]


def cascade_accuracy(
    pred: torch.Tensor, x0: torch.Tensor, xT: torch.Tensor, include_initial: bool = True
) -> float:
    """Share of ``(cascade, node)`` pairs whose predicted final state is right (paper A).

    Args:
        pred: ``[K, N]`` predicted 0/1 final states.
        x0: ``[K, N]`` observed 0/1 states at ``T0``.
        xT: ``[K, N]`` observed 0/1 states at ``T``.
        include_initial: count the pairs active at ``T0`` too (the default, and the definition
            used for every reported ``*/accuracy``); ``False`` scores only pairs inactive at
            ``T0``, the ones a model actually has to predict.

    Returns:
        The accuracy in ``[0, 1]`` (``nan`` when no pair is counted).

    Raises:
        ValueError: the three tensors differ in shape.

    Shapes:
        pred, x0, xT ``[K, N]``.
    """
    pred, x0, xT = (torch.as_tensor(t) for t in (pred, x0, xT))
    if not pred.shape == x0.shape == xT.shape:
        raise ValueError(
            f"pred, x0 and xT must share one shape, got {tuple(pred.shape)}, "
            f"{tuple(x0.shape)}, {tuple(xT.shape)}"
        )
    right = (pred > 0.5) == (xT > 0.5)
    if include_initial:
        return float(right.float().mean()) if right.numel() else math.nan
    mask = x0 <= 0.5
    n = int(mask.sum())
    return float(right[mask].float().sum() / n) if n else math.nan


@dataclass
class NodeResult:
    """How the MIP of one target node went.

    Attributes:
        node: target node ``j``.
        num_cascades: training cascades where ``j`` is inactive at ``T0`` (``K_j``).
        num_weights: learned weights of ``j`` (its candidate in-terms).
        objective: mean absolute training error of the returned solution (``nan`` if ``K_j = 0``).
        dual_bound: best lower bound on the objective HiGHS proved.
        mip_gap: relative gap ``(objective - dual_bound) / objective`` (0 when optimal).
        status: ``"optimal"``, ``"time_limit"``, ``"no_data"`` (``K_j = 0``), ``"no_candidates"``
            (no in-term: ``j`` is predicted inactive) or HiGHS's status text otherwise.
        time_s: wall-clock seconds of the solve.
        errors: misclassified cascades (``objective * num_cascades``).
    """

    node: int
    num_cascades: int
    num_weights: int
    objective: float
    dual_bound: float
    mip_gap: float
    status: str
    time_s: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for tables and JSON)."""
        return asdict(self)


@dataclass
class NodeProblem:
    """The MIP data of one target node (picklable, numpy only, for worker processes).

    Attributes:
        node: target node ``j``.
        features: ``[K_j, V_j]`` float64 ``a_v * x0[k, i_v]``.
        target: ``[K_j]`` observed final states of ``j``.
        lower: lower bound ``eps_w`` of every weight.
        big_m: ``M`` of the constraint ``s_k - theta <= M p_k``.
        sum_le_one: add ``sum_v w_v <= 1`` (LT).
        theta: activation threshold.
        eps: activation margin.

    Shapes:
        features ``[K_j, V_j]``; target ``[K_j]``.
    """

    node: int
    features: np.ndarray
    target: np.ndarray
    lower: float
    big_m: float
    sum_le_one: bool
    theta: float
    eps: float


def node_problem(
    node: int,
    x0: np.ndarray,
    xT: np.ndarray,
    sources: np.ndarray,
    coef: np.ndarray,
    *,
    lower: float,
    big_m: float,
    sum_le_one: bool,
    theta: float,
    eps: float,
) -> NodeProblem:
    """The MIP data of target node ``node`` from the training cascades.

    Only the cascades where ``node`` is inactive at ``T0`` enter; term ``v`` contributes the
    feature ``coef[v] * x0[k, sources[v]]``.

    Args:
        node: target node ``j``.
        x0: ``[K, N]`` 0/1 states at ``T0``.
        xT: ``[K, N]`` 0/1 states at ``T``.
        sources: ``[V_j]`` source node ``i_v`` of each of ``j``'s terms.
        coef: ``[V_j]`` path count ``a_v`` of each term.
        lower: lower bound ``eps_w`` of every weight.
        big_m: ``M`` of the constraint ``s_k - theta <= M p_k``.
        sum_le_one: add ``sum_v w_v <= 1`` (LT).
        theta: activation threshold.
        eps: activation margin.

    Returns:
        The node's problem.

    Shapes:
        x0, xT ``[K, N]``; sources, coef ``[V_j]``.
    """
    rows = x0[:, node] < 0.5
    feats = x0[rows][:, sources] * coef
    return NodeProblem(
        node=node, features=np.ascontiguousarray(feats, dtype=np.float64),
        target=xT[rows, node].astype(np.float64), lower=lower, big_m=big_m,
        sum_le_one=sum_le_one, theta=theta, eps=eps,
    )


def node_milp(prob: NodeProblem) -> dict[str, Any]:
    """The node's MIP as the arrays of :func:`~influence_gpu.solvers.milp.solve_milp`.

    Columns: ``[w (V), p (K), z (K)]``; rows: per cascade the two threshold rows and the two
    absolute-value rows, then the LT sum row. ``initial`` is a feasible start (every weight at
    its lower bound, nothing predicted active), so that a time limit always leaves an incumbent.

    Returns:
        ``c``, ``A`` (CSC), ``lower``, ``upper``, ``integrality``, ``row_lower``, ``row_upper``
        and ``initial``, by those names.
    """
    import scipy.sparse as sp

    F, y = prob.features, prob.target.astype(np.float64)
    K, V = F.shape
    c = np.concatenate([np.zeros(V + K), np.full(K, 1.0 / K)])
    lb = np.concatenate([np.full(V, prob.lower), np.zeros(2 * K)])
    ub = np.ones(V + 2 * K)
    integrality = np.concatenate([np.zeros(V), np.ones(K), np.zeros(K)]).astype(np.uint8)
    Fs = sp.csr_matrix(F)
    eye = sp.identity(K, format="csr")
    zero_kv = sp.csr_matrix((K, V))
    rows = [
        sp.hstack([Fs, -(prob.theta + prob.eps) * eye, sp.csr_matrix((K, K))]),  # >= 0
        sp.hstack([Fs, -prob.big_m * eye, sp.csr_matrix((K, K))]),  # <= theta
        sp.hstack([zero_kv, -eye, eye]),  # z - p >= -y
        sp.hstack([zero_kv, eye, eye]),  # z + p >= y
    ]
    r_lo = [np.zeros(K), np.full(K, -np.inf), -y, y]
    r_hi = [np.full(K, np.inf), np.full(K, prob.theta), np.full(K, np.inf), np.full(K, np.inf)]
    if prob.sum_le_one:
        rows.append(sp.hstack([sp.csr_matrix(np.ones((1, V))), sp.csr_matrix((1, 2 * K))]))
        r_lo.append(np.array([-np.inf]))
        r_hi.append(np.array([1.0]))
    A = sp.vstack(rows, format="csc")
    initial = np.concatenate([lb[:V], np.zeros(K), y])
    return {"c": c, "A": A, "lower": lb, "upper": ub, "integrality": integrality,
            "row_lower": np.concatenate(r_lo), "row_upper": np.concatenate(r_hi),
            "initial": initial}


def solve_node_problem(
    prob: NodeProblem, solver: str = "scipy", time_limit: float = 10.0, mip_rel_gap: float = 1e-4
) -> tuple[np.ndarray, NodeResult]:
    """Solve the MIP of one target node.

    Args:
        prob: the node's problem.
        solver: ``"scipy"`` (``scipy.optimize.milp``), ``"highspy"`` or ``"auto"`` (see
            :func:`~influence_gpu.solvers.milp.solve_milp`).
        time_limit: seconds HiGHS may spend.
        mip_rel_gap: relative gap at which HiGHS stops.

    Returns:
        ``(weights [V_j], result)``. If HiGHS returns no solution (a time limit before the first
        incumbent) the weights are the feasible all-at-lower-bound point and the status says so.
    """
    t = time.perf_counter()
    F, y = prob.features, prob.target
    K, V = F.shape
    w_lb = np.full(V, prob.lower)
    if K == 0:
        return w_lb, NodeResult(prob.node, 0, V, math.nan, math.nan, 0.0, "no_data", 0.0, 0)
    if V == 0:
        err = int(y.sum())
        return w_lb, NodeResult(prob.node, K, 0, err / K, err / K, 0.0, "no_candidates",
                                time.perf_counter() - t, err)
    res = solve_milp(**node_milp(prob), time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                     solver=solver)
    x, status, dual, gap = res.x, res.status, res.dual_bound, res.mip_gap
    if x is None:
        w, status = w_lb, f"{status}_no_solution"
    else:
        w = np.clip(x[:V], prob.lower, 1.0)
    # the objective of the returned weights, recomputed with the prediction rule
    s = F @ w
    pred = s >= prob.theta + prob.eps / 2
    err = int((pred != (y > 0.5)).sum())
    obj = err / K
    if not np.isfinite(gap):
        gap = 0.0 if status == "optimal" else math.nan
    return w, NodeResult(prob.node, K, V, obj, dual, gap, status, time.perf_counter() - t, err)


def _solve_task(args: tuple[NodeProblem, str, float, float]) -> tuple[np.ndarray, NodeResult]:
    return solve_node_problem(*args)


