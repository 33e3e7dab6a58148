"""Exact seed selection for paper C's signed first-arrival problem: three single-level MILPs.

Paper C's problem is bi-level: the leader chooses seeds ``x`` (send cost ``f_i`` each), the
follower routes the message to every node along shortest-delay paths, and the leader pays ``C_i``
for every node reached in the flipped state. Each formulation below replaces the follower by
optimality conditions of its shortest-path problem (our reading of DESIGN 7.5; paper C names the
three families but its equations are in its reference):

``"bellman"``
    Bellman's conditions (DESIGN 7.5). Arrival times ``a_i`` with ``a_i <= M_i (1 - x_i)`` and
    ``a_i <= a_j + d_ji`` on every arc; predecessor binaries ``z_ji`` with
    ``sum_j z_ji + x_i = 1`` and ``a_i >= a_j + d_ji - M_ji (1 - z_ji)``; the state
    ``pi_i = pi_j xor s_ji`` linearised on ``z_ji`` (positive arc: ``|pi_i - pi_j| <= 1 - z_ji``;
    negative arc: ``|pi_i + pi_j - 1| <= 1 - z_ji``) and ``pi_i <= 1 - x_i``. One predecessor
    per node is exact when no node can be reached first by both parities; when the pair tables
    show such a *parity tie* is possible (e.g. equal integer delays), the component gets the
    same conditions on the signed double cover instead (a copy of every node per state, so a
    node may relay both states, as the simulator does): ``t_ji`` marks an arc that delivers a
    first message (``a_i >= a_j + d_ji - M_ji (1 - t_ji)``), binaries ``r0_i`` / ``r1_i`` say
    that the unflipped / flipped state arrives first, and the XOR is linearised on continuous
    ``w`` (``w_b,ji <= t_ji``, ``w_b,ji <= r_{b xor s_ji, j}``,
    ``r_b,i <= [b = 0] x_i + sum_j w_b,ji``, ``r0_i + r1_i >= 1``, ``r1_i <= 1 - x_i``); a
    node is flipped when ``r0_i = 0``.
``"kkt"``
    KKT conditions of the follower's LP. For every destination ``i`` a unit flow ``y^i`` from a
    super source through a seed (``s^i_k <= x_k``) to ``i`` (primal feasibility), potentials
    ``a`` with ``a_v <= a_u + d_uv`` and ``a_k <= M_k (1 - x_k)`` (dual feasibility), and
    complementary slackness ``y^i_uv <= t_uv`` with the big-M tightness of ``t`` as above. The
    origin ``k`` of the flow fixes the state: ``pi_i >= sum_k [every shortest k-i path is odd]
    s^i_k``.
``"paths"``
    Path elimination. From the precomputed all-pairs shortest paths, ``y_ki`` assigns ``i`` to
    origin ``k`` (``sum_k y_ki = 1``, ``y_ki <= x_k``), and for every origin ``k`` the
    inequality ``sum_{l : D(l, i) <= D(k, i)} y_li >= x_k`` eliminates every path from a seed
    farther than the nearest one (written with cumulative variables per distance group, so the
    matrix has ``O(n^2)`` entries); ``pi_i >= sum_k [every shortest k-i path is odd] y_ki``.

Preprocessing (always on): the problem splits over weakly connected components; a component of
one node, or more generally a node without in-arcs, is a forced seed; a component where no
node can ever be reached flipped (e.g. no negative edge) is solved directly by the cheapest node
of each source strongly connected component (one seed there reaches every node and no penalty can
occur); only arcs that are themselves shortest paths (``d_ji = D(j, i)``) can deliver a first
message, and KKT's commodity ``i`` only uses arcs that start a shortest path to ``i``; a node no
origin reaches flipped gets ``pi_i = 0`` (``r0_i = 1``). Valid inequalities
(``valid_inequalities=True``; ``t`` is ``z`` in the tree form): ``t_ji + x_i <= 1``,
``sum_j t_ji + x_i >= 1``, ``t_ij + t_ji <= 1``, ``a_i >= d_min,i (1 - x_i)``, one seed per
source component, and for KKT strong duality per commodity (``sum d y^i = a_i``). Big-Ms are
per node: ``M_i`` = the largest distance from any node to ``i`` (eccentricity),
``M_ji = M_j + d_ji``.

Ties. The three formulations let the leader pick, among the shortest paths that reach a node
first, one that keeps it unflipped: they model the simulator's ``tie_break="optimistic"``
exactly. The simulator's default, ``"pessimistic"``, flips such a node; a flip can only be added,
so the MILP optimum is a lower bound on the pessimistic optimum and a MILP solution whose
pessimistic cost equals that bound is optimal for it too (``select_signed`` checks this). With
continuous random delays ties have probability zero and both rules agree. Distances are compared
with a relative tolerance of ``1e-9``; the simulator compares exactly.

Delays must be positive (a zero-delay cycle could carry a state of its own in the Bellman
formulation). Components above :data:`MAX_MILP_COMPONENT` nodes are refused (all-pairs tables).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.signed.objective import check_signed_graph
from influence_gpu.solvers.milp import solve_milp

__all__ = ["FORMULATIONS", "MAX_MILP_COMPONENT", "SignedMILPSolution", "solve_signed_milp"]

#: Formulations of :func:`solve_signed_milp`.
FORMULATIONS = ("bellman", "kkt", "paths")
#: Largest component (nodes) the MILPs accept: the all-pairs tables take ``16 n^2`` bytes.
MAX_MILP_COMPONENT = 2000


@dataclass
class SignedMILPSolution:
    """What the MILPs found for the whole graph (all components together).

    Attributes:
        ids: internal ids of the seeds (sorted); for a component whose MILP hit its time limit
            without an incumbent, the trivial set (cheapest node per source component).
        objective: MILP objective of ``ids`` (optimistic tie rule), constants included.
        lower_bound: sum over components of the proven lower bounds.
        optimal: every component solved to optimality.
        status: ``"optimal"``, ``"time_limit"``, or the first other backend status.
        seconds: wall-clock time, preprocessing included.
        formulation: the formulation used.
        incomplete: components whose MILP returned no solution (their seeds are the trivial set).
        stats: sizes (``components``, ``milps``, ``variables``, ``binaries``, ``rows``,
            ``nonzeros``, ``forced_seeds``, ``trivial_components``) and the solver.
    """

    ids: list[int]
    objective: float
    lower_bound: float
    optimal: bool
    status: str
    seconds: float
    formulation: str
    incomplete: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------- preprocessing
@dataclass
class _Component:
    nodes: np.ndarray  # global ids
    src: np.ndarray  # local arc tails
    dst: np.ndarray  # local arc heads
    delay: np.ndarray
    neg: np.ndarray  # bool, negative arc
    f: np.ndarray
    c: np.ndarray
    D: np.ndarray | None = None  # [k, i] shortest distance k -> i
    odd_only: np.ndarray | None = None  # [k, i] every shortest k -> i path is odd (k != i)
    parity_ties: bool = False  # some node can be reached first by both parities
    tol: float = 0.0
    sources: list[np.ndarray] = field(default_factory=list)  # source strong components

    @property
    def n(self) -> int:
        return self.nodes.size


def _components(graph: DiffusionGraph, delay: np.ndarray, f: np.ndarray, c: np.ndarray):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = graph.num_nodes
    src = graph.src.cpu().numpy()
    dst = graph.col.cpu().numpy()
    neg = graph.edge_sign.cpu().numpy() < 0
    adj = csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    ncomp, label = connected_components(adj, directed=True, connection="weak")
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(ncomp + 1))
    local = np.empty(n, dtype=np.int64)
    arc_comp = label[src]
    arc_order = np.argsort(arc_comp, kind="stable")
    arc_bounds = np.searchsorted(arc_comp[arc_order], np.arange(ncomp + 1))
    comps = []
    for k in range(ncomp):
        nodes = order[bounds[k]:bounds[k + 1]]
        local[nodes] = np.arange(nodes.size)
        arcs = arc_order[arc_bounds[k]:arc_bounds[k + 1]]
        comps.append(_Component(nodes, local[src[arcs]], local[dst[arcs]], delay[arcs],
                                neg[arcs], f[nodes], c[nodes]))
    return comps


def _source_components(comp: _Component) -> list[np.ndarray]:
    """Strong components of ``comp`` that no arc enters from another one (local ids)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = comp.n
    adj = csr_matrix((np.ones(comp.src.size), (comp.src, comp.dst)), shape=(n, n))
    _, scc = connected_components(adj, directed=True, connection="strong")
    entered = np.zeros(scc.max() + 1, dtype=bool)
    cross = scc[comp.src] != scc[comp.dst]
    entered[scc[comp.dst[cross]]] = True
    return [np.flatnonzero(scc == s) for s in np.flatnonzero(~entered)]


def _pair_tables(comp: _Component) -> None:
    """All-pairs distances and path parities on the signed double cover of ``comp``."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = comp.n
    if n > MAX_MILP_COMPONENT:
        raise ValueError(
            f"a connected component has {n} nodes, more than the MILP formulations take "
            f"({MAX_MILP_COMPONENT}); use method='local_search'"
        )
    neg = comp.neg.astype(np.int64)
    rows = np.concatenate([2 * comp.src, 2 * comp.src + 1])
    cols = np.concatenate([2 * comp.dst + neg, 2 * comp.dst + 1 - neg])
    data = np.concatenate([comp.delay, comp.delay])
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(2 * n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=2 * n), out=indptr[1:])
    cover = csr_matrix((data[order], cols[order], indptr), shape=(2 * n, 2 * n))
    dist = dijkstra(cover, directed=True, indices=2 * np.arange(n))
    d_even, d_odd = dist[:, 0::2], dist[:, 1::2]
    D = np.minimum(d_even, d_odd)
    finite = np.isfinite(D)
    comp.tol = 1e-9 * max(1.0, float(D[finite].max()) if finite.any() else 1.0)
    even = finite & (d_even <= D + comp.tol)
    odd = finite & (d_odd <= D + comp.tol)
    comp.D = D
    comp.odd_only = odd & ~even
    # a parity tie: one origin with shortest paths of both parities, or two origins at the
    # same distance whose shortest paths have different parities
    np.fill_diagonal(odd, False)
    if (even & odd).any():
        comp.parity_ties = True
        return
    order = np.argsort(D, axis=0, kind="stable")
    ds = np.take_along_axis(D, order, axis=0)
    ps = np.take_along_axis(odd, order, axis=0)
    with np.errstate(invalid="ignore"):
        same = np.diff(ds, axis=0) <= comp.tol
    comp.parity_ties = bool((same & (ps[1:] != ps[:-1])).any())


# ------------------------------------------------------------------------- model building
class _Model:
    """Columns and sparse rows of one MILP, assembled into the arrays ``solve_milp`` takes."""

    def __init__(self) -> None:
        self.cols: list[tuple[np.ndarray, ...]] = []
        self.nvar = 0
        self.ri: list[np.ndarray] = []
        self.ci: list[np.ndarray] = []
        self.vi: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.nrow = 0

    def var(self, k: int, lb: Any = 0.0, ub: Any = 1.0, cost: Any = 0.0,
            integer: bool = False) -> np.ndarray:
        idx = np.arange(self.nvar, self.nvar + k)
        self.nvar += k
        full = [np.broadcast_to(np.asarray(v, dtype=np.float64), (k,)) for v in (lb, ub, cost)]
        self.cols.append((*full, np.full(k, 1 if integer else 0, dtype=np.int64)))
        return idx

    def rows(self, k: int, terms: list[tuple[Any, Any, Any]], lo: Any, hi: Any) -> None:
        """``k`` rows ``lo <= sum coef * var <= hi``; each term ``(row, col, coef)`` broadcasts."""
        for r, cidx, v in terms:
            r, cidx, v = np.broadcast_arrays(np.asarray(r), np.asarray(cidx),
                                             np.asarray(v, dtype=np.float64))
            self.ri.append(r.reshape(-1) + self.nrow)
            self.ci.append(cidx.reshape(-1))
            self.vi.append(v.reshape(-1))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (k,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (k,)))
        self.nrow += k

    def arrays(self):
        from scipy.sparse import csc_matrix

        lb, ub, cost, integ = (np.concatenate([c[i] for c in self.cols]) for i in range(4))

        def cat(xs: list[np.ndarray], dt: Any) -> np.ndarray:
            return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)

        A = csc_matrix((cat(self.vi, np.float64),
                        (cat(self.ri, np.int64), cat(self.ci, np.int64))),
                       shape=(self.nrow, self.nvar))
        A.sum_duplicates()
        return (cost, A, lb, ub, integ, cat(self.lo, np.float64), cat(self.hi, np.float64))


def _common(comp: _Component, m: _Model, forced: np.ndarray, valid: bool):
    """Seeds ``x``, arrival times ``a``, tight-arc binaries ``t`` (Bellman and KKT share them).

    Returns ``(x, a, t, arcs)`` where ``arcs`` indexes the component's arcs that are shortest
    paths themselves (the only ones that can deliver a first message).
    """
    n, D, tol = comp.n, comp.D, comp.tol
    j, i, d = comp.src, comp.dst, comp.delay
    arcs = np.flatnonzero(d <= D[j, i] + tol)
    j, i, d = j[arcs], i[arcs], d[arcs]
    ecc = np.where(np.isfinite(D), D, 0.0).max(axis=0)
    x = m.var(n, lb=forced.astype(np.float64), ub=1.0, cost=comp.f, integer=True)
    a = m.var(n, lb=0.0, ub=ecc)
    t = m.var(arcs.size, integer=True)
    E = arcs.size
    big = ecc[j] + d
    r = np.arange(n)
    m.rows(n, [(r, a, 1.0), (r, x, ecc)], -np.inf, ecc)  # a_i <= M_i (1 - x_i)
    re = np.arange(E)
    m.rows(E, [(re, a[i], 1.0), (re, a[j], -1.0)], -np.inf, d)  # a_i <= a_j + d_ji
    m.rows(E, [(re, a[i], 1.0), (re, a[j], -1.0), (re, t, -big)], d - big, np.inf)
    if valid:
        m.rows(E, [(re, t, 1.0), (re, x[i], 1.0)], -np.inf, 1.0)  # no tight arc into a seed
        has_in = np.bincount(i, minlength=n) > 0
        nodes = np.flatnonzero(has_in)
        pos = np.full(n, -1)
        pos[nodes] = np.arange(nodes.size)
        m.rows(nodes.size, [(pos[i], t, 1.0), (np.arange(nodes.size), x[nodes], 1.0)],
               1.0, np.inf)  # every non-seed has a tight in-arc
        key = j * n + i
        order = np.argsort(key)
        skey = key[order]
        at = np.clip(np.searchsorted(skey, i * n + j), 0, max(E - 1, 0))
        pairs = np.flatnonzero(skey[at] == i * n + j) if E else np.zeros(0, np.int64)
        other = order[at[pairs]]
        keep = pairs < other
        pairs, other = pairs[keep], other[keep]
        rp = np.arange(pairs.size)
        m.rows(pairs.size, [(rp, t[pairs], 1.0), (rp, t[other], 1.0)], -np.inf, 1.0)
        dmin = np.full(n, np.inf)
        np.minimum.at(dmin, i, d)
        rn = np.arange(nodes.size)
        m.rows(nodes.size, [(rn, a[nodes], 1.0), (rn, x[nodes], dmin[nodes])],
               dmin[nodes], np.inf)  # a_i >= d_min (1 - x_i)
        for src_comp in comp.sources:
            m.rows(1, [(np.zeros(src_comp.size, dtype=np.int64), x[src_comp], 1.0)], 1.0,
                   np.inf)
    return x, a, t, (arcs, j, i, d)


def _build_bellman(comp: _Component, forced: np.ndarray, flippable: np.ndarray, valid: bool):
    m = _Model()
    n = comp.n
    x, a, t, (arcs, j, i, d) = _common(comp, m, forced, valid)
    E = arcs.size
    neg = comp.neg[arcs]
    re = np.arange(E)
    rn = np.arange(n)
    if not comp.parity_ties:
        # DESIGN's predecessor form: t is z, sum_j z_ji + x_i = 1, pi_i = pi_j xor s_ji on z_ji
        pi = m.var(n, ub=flippable.astype(np.float64), cost=comp.c)
        m.rows(n, [(i, t, 1.0), (rn, x, 1.0)], 1.0, 1.0)
        pos = ~neg
        # positive arc: |pi_i - pi_j| <= 1 - z; negative arc: |pi_i + pi_j - 1| <= 1 - z
        m.rows(E, [(re, pi[i], 1.0), (re, pi[j], np.where(pos, -1.0, 1.0)),
                   (re, t, np.where(pos, 1.0, -1.0))],
               np.where(pos, -np.inf, 0.0), np.where(pos, 1.0, np.inf))
        m.rows(E, [(re, pi[i], np.where(pos, -1.0, 1.0)), (re, pi[j], 1.0), (re, t, 1.0)],
               -np.inf, np.where(pos, 1.0, 2.0))
        m.rows(n, [(rn, pi, 1.0), (rn, x, 1.0)], -np.inf, 1.0)
        return m, x, 0.0
    # double cover: a node may relay both states when they arrive at the same time
    r0 = m.var(n, lb=(~flippable).astype(np.float64), ub=1.0, cost=-comp.c, integer=True)
    r1 = m.var(n, integer=True)
    w0 = m.var(E)
    w1 = m.var(E)
    for w in (w0, w1):
        m.rows(E, [(re, w, 1.0), (re, t, -1.0)], -np.inf, 0.0)
    # w_b <= r_{b xor s}(j): unflipped arrives through a positive arc from an unflipped j, ...
    m.rows(E, [(re, w0, 1.0), (re, np.where(neg, r1[j], r0[j]), -1.0)], -np.inf, 0.0)
    m.rows(E, [(re, w1, 1.0), (re, np.where(neg, r0[j], r1[j]), -1.0)], -np.inf, 0.0)
    m.rows(n, [(rn, r0, 1.0), (rn, x, -1.0), (i, w0, -1.0)], -np.inf, 0.0)
    m.rows(n, [(rn, r1, 1.0), (i, w1, -1.0)], -np.inf, 0.0)
    m.rows(n, [(rn, r1, 1.0), (rn, x, 1.0)], -np.inf, 1.0)
    m.rows(n, [(rn, r0, 1.0), (rn, r1, 1.0)], 1.0, np.inf)
    return m, x, float(comp.c.sum())


def _build_kkt(comp: _Component, forced: np.ndarray, flippable: np.ndarray, valid: bool):
    m = _Model()
    n, D, tol = comp.n, comp.D, comp.tol
    x, a, t, (arcs, j, i, d) = _common(comp, m, forced, valid)
    # usable[e, q]: arc e starts a shortest path towards destination q
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(D[j, :]) & (np.abs(d[:, None] + D[i, :] - D[j, :]) <= tol)
    for q in range(n):
        e = np.flatnonzero(usable[:, q])
        dag = np.unique(np.concatenate([j[e], i[e], [q]]))
        pos = np.full(n, -1)
        pos[dag] = np.arange(dag.size)
        y = m.var(e.size)
        s = m.var(dag.size)
        rhs = (dag == q).astype(np.float64)
        k = dag.size
        m.rows(k, [(np.arange(k), s, 1.0), (pos[i[e]], y, 1.0), (pos[j[e]], y, -1.0)], rhs, rhs)
        m.rows(k, [(np.arange(k), s, 1.0), (np.arange(k), x[dag], -1.0)], -np.inf, 0.0)
        re = np.arange(e.size)
        m.rows(e.size, [(re, y, 1.0), (re, t[e], -1.0)], -np.inf, 0.0)
        if flippable[q] and comp.c[q] > 0:
            pi = m.var(1, cost=comp.c[q])
            odd = comp.odd_only[dag, q]
            m.rows(1, [(0, pi, 1.0), (np.zeros(int(odd.sum()), np.int64), s[odd], -1.0)],
                   0.0, np.inf)
        if valid:  # strong duality: the flow's length is the arrival time
            m.rows(1, [(np.zeros(e.size, np.int64), y, d[e]), (0, a[q], -1.0)], 0.0, 0.0)
    return m, x, 0.0


def _build_paths(comp: _Component, forced: np.ndarray, flippable: np.ndarray, valid: bool):
    m = _Model()
    n, D, tol = comp.n, comp.D, comp.tol
    x = m.var(n, lb=forced.astype(np.float64), ub=1.0, cost=comp.f, integer=True)
    if valid:
        for src_comp in comp.sources:
            m.rows(1, [(np.zeros(src_comp.size, dtype=np.int64), x[src_comp], 1.0)], 1.0,
                   np.inf)
    for q in range(n):
        origins = np.flatnonzero(np.isfinite(D[:, q]))
        origins = origins[np.argsort(D[origins, q], kind="stable")]
        dq = D[origins, q]
        group = np.concatenate([[0], np.cumsum(np.diff(dq) > tol)]).astype(np.int64)
        k, g = origins.size, int(group[-1]) + 1
        y = m.var(k)
        Y = m.var(g)
        m.rows(1, [(np.zeros(k, np.int64), y, 1.0)], 1.0, 1.0)
        rk = np.arange(k)
        m.rows(k, [(rk, y, 1.0), (rk, x[origins], -1.0)], -np.inf, 0.0)
        rg = np.arange(g)
        # Y_g = Y_{g-1} + sum of y in group g
        m.rows(g, [(rg, Y, 1.0), (rg[1:], Y[:-1], -1.0), (group, y, -1.0)], 0.0, 0.0)
        # a seed k makes every origin farther than k useless for q
        m.rows(k, [(rk, Y[group], 1.0), (rk, x[origins], -1.0)], 0.0, np.inf)
        if flippable[q] and comp.c[q] > 0:
            pi = m.var(1, cost=comp.c[q])
            odd = comp.odd_only[origins, q]
            m.rows(1, [(0, pi, 1.0), (np.zeros(int(odd.sum()), np.int64), y[odd], -1.0)],
                   0.0, np.inf)
    return m, x, 0.0


_BUILDERS = {"bellman": _build_bellman, "kkt": _build_kkt, "paths": _build_paths}


def _trivial_seeds(comp: _Component) -> np.ndarray:
    """Cheapest node of every source strong component (local ids).

    Feasible always, and optimal when no node can be flipped.
    """
    return np.array([s[np.argmin(comp.f[s])] for s in comp.sources], dtype=np.int64)


def solve_signed_milp(
    graph: DiffusionGraph,
    send_cost: np.ndarray,
    penalty: np.ndarray,
    formulation: str = "bellman",
    *,
    time_limit: float | None = None,
    mip_rel_gap: float = 1e-6,
    valid_inequalities: bool = True,
    solver: str = "auto",
    threads: int = 1,
) -> SignedMILPSolution:
    """Solve paper C's problem to optimality (optimistic tie rule) with one MILP per component.

    Args:
        graph: signed graph with positive delays (``edge_delay``; 1 when absent).
        send_cost: ``[n]`` float64 send costs ``f`` (non-negative).
        penalty: ``[n]`` float64 penalties ``C`` (non-negative).
        formulation: ``"bellman"``, ``"kkt"`` or ``"paths"`` (module docstring).
        time_limit: seconds for all components together (``None``: no limit); each MILP gets
            what is left.
        mip_rel_gap: relative gap at which HiGHS stops.
        valid_inequalities: add the valid inequalities of the module docstring.
        solver: ``solve_milp``'s backend (``"auto"``, ``"scipy"``, ``"highspy"``).
        threads: HiGHS threads (highspy only).

    Returns:
        The :class:`SignedMILPSolution`.

    Raises:
        ValueError: an unknown formulation, an unsigned graph, a non-positive delay, a
            component larger than :data:`MAX_MILP_COMPONENT`.
    """
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    t0 = time.perf_counter()
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    delay = check_signed_graph(graph, positive_delays=True)
    f = np.asarray(send_cost, dtype=np.float64)
    c = np.asarray(penalty, dtype=np.float64)
    comps = _components(graph, delay, f, c)
    seeds: list[int] = []
    objective = lower = 0.0
    status, optimal, incomplete = "optimal", True, 0
    stats = {"components": len(comps), "milps": 0, "variables": 0, "binaries": 0, "rows": 0,
             "nonzeros": 0, "forced_seeds": 0, "trivial_components": 0, "parity_tie_components": 0,
             "solver": None}
    build = _BUILDERS[formulation]
    for comp in comps:
        comp.sources = _source_components(comp)
        forced = np.bincount(comp.dst, minlength=comp.n) == 0
        stats["forced_seeds"] += int(forced.sum())
        if comp.n == 1:
            seeds.append(int(comp.nodes[0]))
            objective += float(comp.f[0])
            lower += float(comp.f[0])
            stats["trivial_components"] += 1
            continue
        _pair_tables(comp)
        flippable = comp.odd_only.any(axis=0)
        if not flippable.any():
            local = _trivial_seeds(comp)
            seeds.extend(int(v) for v in comp.nodes[local])
            value = float(comp.f[local].sum())
            objective += value
            lower += value
            stats["trivial_components"] += 1
            continue
        m, x, const = build(comp, forced, flippable, valid_inequalities)
        arrays = m.arrays()
        stats["milps"] += 1
        stats["parity_tie_components"] += int(comp.parity_ties)
        stats["variables"] += m.nvar
        stats["binaries"] += int(arrays[4].sum())
        stats["rows"] += m.nrow
        stats["nonzeros"] += int(arrays[1].nnz)
        left = max(0.0, deadline - time.perf_counter())
        res = solve_milp(*arrays, time_limit=left, mip_rel_gap=mip_rel_gap, solver=solver,
                         threads=threads)
        stats["solver"] = res.solver
        if res.status != "optimal":
            optimal = False
            if status == "optimal":
                status = res.status
        # any feasible set pays at least one send cost
        bound = max(res.dual_bound + const if math.isfinite(res.dual_bound) else -math.inf,
                    float(comp.f.min()))
        if res.x is None:
            incomplete += 1
            local = _trivial_seeds(comp)
            value = math.nan
        else:
            local = np.flatnonzero(res.x[x] > 0.5)
            value = res.objective + const
            bound = min(bound, value)
        seeds.extend(int(v) for v in comp.nodes[local])
        objective += value
        lower += bound
    return SignedMILPSolution(
        ids=sorted(seeds), objective=objective, lower_bound=lower, optimal=optimal,
        status=status, seconds=time.perf_counter() - t0, formulation=formulation,
        incomplete=incomplete, stats=stats,
    )
