"""Local search for paper C's signed problem: add / drop / swap and pair moves, local restarts.

The moves are scored by an incremental multi-source first-arrival evaluation that keeps, for the
current seed set, every node's first-arrival time and which parities (even / odd number of
negative edges) arrive at that time - the state of the simulator's signed double cover:

* **add** ``v``: a Dijkstra from ``v`` pruned at every node it reaches later than now (only the
  nodes it reaches no later than now can change); a node collects the parities of every
  predecessor that reaches it at its final time;
* **drop** ``s``: the nodes whose first arrival can come through ``s`` (reachable from ``s``
  along arcs with ``dist[u] + d = dist[w]``) are re-solved from their in-arcs from outside;
* **swap** ``s -> v``: a tentative drop, the add of every candidate ``v``, the best one kept.

Descent (first improvement, don't-look bits): nodes wait in a queue drawn in random order; a
non-seed is tried for an add, a seed for a drop and then for its best swap; a move applied
queues the neighbours of the moved nodes; when the queue empties after a move, every node is
queued again, so a descent ends at a local optimum of the three moves. Swap partners of ``s``:
every non-seed of its component when the component has at most ``full_swap_nodes`` nodes, else
the ``swap_candidates`` nodes nearest to ``s`` among those that lose ``s`` and its neighbours.

Pair moves (``pairs``, variable-neighbourhood descent): at a local optimum of the three moves,
a sweep looks for one improving **add + add** or **drop + drop** (the first flip applied
tentatively, the best second flip of the same kind after it: every node of the component on
small components, the seeds next to the changed region on large ones, where add + add is not
tried); after one, the three moves again. Without them the first descent on the random
benchmark instances ended 27% above the optimum on average; a drop + add is a swap already.

Local restarts: ``perturbations`` times, the seeds of a ball of ``ball_size`` nodes (breadth-first
from a random node) are redrawn, each a seed with probability ``p ~ U[0.05, 0.5]``, a descent
runs over the ball (with the pair moves when its result is within ``pair_margin`` of the best),
and the result is kept when it is cheaper, else undone. On a graph with at most ``ball_size``
nodes per component every restart is a fresh random start; on larger ones a restart is local,
and ``patience`` local restarts in a row without improvement end the search.

Node states follow the simulator's ``tie_break`` (``"pessimistic"``: a node reached first by both
parities is flipped; ``"optimistic"``: it is not); times are compared exactly, as the simulator
does. The default start, the cheapest node of every source component, makes the descent grow a
sparse set (on soc-sign-bitcoinalpha with costs and penalties in [1, 10], starting from every
node instead ended the first descent 13% dearer).
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.signed.objective import TIE_BREAKS, check_signed_graph

__all__ = ["LocalSearchResult", "signed_local_search", "initial_seeds"]

_INF = math.inf


@dataclass
class LocalSearchResult:
    """Outcome of :func:`signed_local_search`.

    Attributes:
        ids: internal ids of the seeds (sorted).
        cost: cost of ``ids`` under the search's tie rule (the evaluator's value).
        seconds: wall-clock time.
        rounds: descents run (the first, then one per restart).
        moves: moves applied, by kind (``add``, ``drop``, ``swap``, ``add2``, ``drop2``).
        evaluations: moves scored.
        finished: ``False`` when ``time_limit`` stopped the search before a round without a move.
    """

    ids: list[int]
    cost: float
    seconds: float
    rounds: int
    moves: dict[str, int] = field(default_factory=dict)
    evaluations: int = 0
    finished: bool = True


class _Arrivals:
    """First-arrival times and parities of one seed set, with incremental moves.

    ``dist[v]`` is the first-arrival time of ``v``; ``ev[v]`` / ``od[v]`` say whether a message
    with an even / odd number of negative edges arrives at that time. A change record is
    ``(nd, NE, NO)``: new time and parities of every node a move may change.
    """

    def __init__(self, graph: DiffusionGraph, delay: np.ndarray, f: np.ndarray, c: np.ndarray,
                 pessimistic: bool) -> None:
        n = graph.num_nodes
        src = graph.src.cpu().numpy().tolist()
        dst = graph.col.cpu().numpy().tolist()
        neg = (graph.edge_sign.cpu().numpy() < 0).tolist()
        self.n = n
        self.out: list[list[tuple[int, float, bool]]] = [[] for _ in range(n)]
        self.inn: list[list[tuple[int, float, bool]]] = [[] for _ in range(n)]
        for u, v, d, sg in zip(src, dst, delay.tolist(), neg, strict=True):
            self.out[u].append((v, d, sg))
            self.inn[v].append((u, d, sg))
        self.f = f.tolist()
        self.c = c.tolist()
        self.pess = pessimistic
        self.seed = [False] * n
        self.dist = [_INF] * n
        self.ev = [False] * n
        self.od = [False] * n
        self.unreached = n
        self.cost = 0.0
        self.evaluations = 0

    # -------------------------------------------------------------- state
    def _flip(self, e: bool, o: bool) -> bool:
        return o if self.pess else (o and not e)

    def seeds(self) -> list[int]:
        return [v for v in range(self.n) if self.seed[v]]

    def total(self) -> float:
        """Cost of the current set, summed afresh."""
        cost = 0.0
        for v in range(self.n):
            if self.seed[v]:
                cost += self.f[v]
            elif self.dist[v] < _INF and self._flip(self.ev[v], self.od[v]):
                cost += self.c[v]
        return cost

    def reset(self, seeds: list[int]) -> None:
        """Recompute everything for ``seeds`` (one multi-source Dijkstra)."""
        n = self.n
        self.seed = [False] * n
        for v in seeds:
            self.seed[v] = True
        self.dist = [_INF] * n
        self.ev = [False] * n
        self.od = [False] * n
        self._commit(self._region(list(range(n)), set(range(n))))
        self.unreached = sum(1 for v in range(n) if self.dist[v] == _INF)
        self.cost = self.total()

    def _region(self, region: list[int], inside: set[int]):
        """New times / parities of ``region``, every other node fixed (a drop, or a reset).

        Seeds of ``region`` start at time 0 with the even state; the others start from their
        in-arcs from outside; then a Dijkstra inside ``region`` where a node collects the
        parities of every predecessor that reaches it at its final time.
        """
        dist, ev, od, seed, out, inn = self.dist, self.ev, self.od, self.seed, self.out, self.inn
        nd: dict[int, float] = {}
        NE: dict[int, bool] = {}
        NO: dict[int, bool] = {}
        heap = []
        for w in region:
            if seed[w]:
                nd[w], NE[w], NO[w] = 0.0, True, False
                heap.append((0.0, w))
                continue
            best, e, o = _INF, False, False
            for p, d, sg in inn[w]:
                if p in inside:
                    continue
                x = dist[p] + d
                if x > best:
                    continue
                pe, po = (od[p], ev[p]) if sg else (ev[p], od[p])
                if x < best:
                    best, e, o = x, pe, po
                else:
                    e, o = e or pe, o or po
            nd[w], NE[w], NO[w] = best, e, o
            if best < _INF:
                heap.append((best, w))
        heapq.heapify(heap)
        while heap:
            du, u = heapq.heappop(heap)
            if du > nd[u]:
                continue
            eu, ou = NE[u], NO[u]
            for w, d, sg in out[u]:
                if w not in inside or seed[w]:
                    continue
                x = du + d
                cur = nd[w]
                if x > cur:
                    continue
                pe, po = (ou, eu) if sg else (eu, ou)
                if x < cur:
                    nd[w], NE[w], NO[w] = x, pe, po
                    heapq.heappush(heap, (x, w))
                else:
                    NE[w], NO[w] = NE[w] or pe, NO[w] or po
        return nd, NE, NO

    def _score(self, change, changed: dict[int, bool]) -> tuple[float, int]:
        """(cost change, unreached-count change) of a change record.

        ``changed`` maps the nodes that change seed status to their new status.
        """
        nd, NE, NO = change
        f, c, seed, dist, ev, od = self.f, self.c, self.seed, self.dist, self.ev, self.od
        pess = self.pess
        delta = 0.0
        for v, now in changed.items():
            delta += f[v] if now else -f[v]
        lost = 0
        for w, x in nd.items():
            now_seed = changed.get(w)
            was_seed = seed[w] if now_seed is None else not now_seed
            if now_seed is None:
                now_seed = was_seed
            old_x = dist[w]
            if not was_seed and old_x < _INF and (od[w] if pess else od[w] and not ev[w]):
                delta -= c[w]
            if x < _INF:
                if not now_seed and (NO[w] if pess else NO[w] and not NE[w]):
                    delta += c[w]
                if old_x == _INF:
                    lost -= 1
            elif old_x < _INF:
                lost += 1
        return delta, lost

    def _commit(self, change) -> list[tuple[int, float, bool, bool]]:
        nd, NE, NO = change
        undo = []
        dist, ev, od = self.dist, self.ev, self.od
        for w, x in nd.items():
            undo.append((w, dist[w], ev[w], od[w]))
            dist[w] = x
            if x < _INF:
                ev[w], od[w] = NE[w], NO[w]
            else:
                ev[w] = od[w] = False
        return undo

    # -------------------------------------------------------------- moves
    def add_change(self, v: int):
        """Change record and (cost change, unreached change) of making ``v`` a seed.

        A Dijkstra from ``v`` pruned at every node it reaches later than now: only the nodes
        it reaches no later than now can change.
        """
        self.evaluations += 1
        dist, ev, od, seed, out, inn = self.dist, self.ev, self.od, self.seed, self.out, self.inn
        seed[v] = True
        nd = {v: 0.0}
        NE = {v: True}
        NO = {v: False}
        heap = [(0.0, v)]
        while heap:
            du, u = heapq.heappop(heap)
            if du > nd[u]:
                continue
            if du == dist[u] and u != v:
                # a tie with the old time: the unchanged predecessors still deliver theirs
                e, o = NE[u], NO[u]
                for p, d, sg in inn[u]:
                    if p not in nd and dist[p] + d == du:
                        pe, po = (od[p], ev[p]) if sg else (ev[p], od[p])
                        e, o = e or pe, o or po
                NE[u], NO[u] = e, o
            eu, ou = NE[u], NO[u]
            for w, d, sg in out[u]:
                if seed[w]:
                    continue
                x = du + d
                if x > dist[w]:
                    continue
                cur = nd.get(w, _INF)
                if x > cur:
                    continue
                pe, po = (ou, eu) if sg else (eu, ou)
                if x < cur:
                    nd[w], NE[w], NO[w] = x, pe, po
                    heapq.heappush(heap, (x, w))
                else:
                    NE[w], NO[w] = NE[w] or pe, NO[w] or po
        seed[v] = False
        change = (nd, NE, NO)
        return change, self._score(change, {v: True})

    def drop_change(self, s: int):
        """Change record, (cost change, unreached change) and region of removing seed ``s``.

        The region is every node reachable from ``s`` along arcs that deliver a first message
        (``dist[u] + d == dist[w]``); nothing outside it changes.
        """
        self.evaluations += 1
        dist, seed, out = self.dist, self.seed, self.out
        region = [s]
        inside = {s}
        k = 0
        while k < len(region):
            u = region[k]
            k += 1
            du = dist[u]
            for w, d, _ in out[u]:
                if not seed[w] and w not in inside and du + d == dist[w]:
                    inside.add(w)
                    region.append(w)
        seed[s] = False
        change = self._region(region, inside)
        seed[s] = True
        return change, self._score(change, {s: False}), region

    def apply(self, change, delta: tuple[float, int], changed: dict[int, bool]):
        """Make a scored move; returns its undo record."""
        for v, now in changed.items():
            self.seed[v] = now
        undo = self._commit(change)
        self.cost += delta[0]
        self.unreached += delta[1]
        return undo, changed, delta

    def revert(self, record) -> None:
        """Undo a move made by :meth:`apply` (records are undone newest first)."""
        undo, changed, delta = record
        for w, x, e, o in reversed(undo):
            self.dist[w], self.ev[w], self.od[w] = x, e, o
        for v, now in changed.items():
            self.seed[v] = not now
        self.cost -= delta[0]
        self.unreached -= delta[1]


def _components(graph: DiffusionGraph) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = graph.num_nodes
    src, dst = graph.src.cpu().numpy(), graph.col.cpu().numpy()
    adj = csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    return connected_components(adj, directed=True, connection="weak")[1]


def initial_seeds(graph: DiffusionGraph, send_cost: np.ndarray) -> list[int]:
    """A feasible start: the cheapest node of every source strong component.

    One seed in every strong component that no arc enters reaches every node (on an undirected
    graph: one seed per connected component).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = graph.num_nodes
    src, dst = graph.src.cpu().numpy(), graph.col.cpu().numpy()
    adj = csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    k, scc = connected_components(adj, directed=True, connection="strong")
    entered = np.zeros(k, dtype=bool)
    cross = scc[src] != scc[dst]
    entered[scc[dst[cross]]] = True
    order = np.lexsort((np.arange(n), send_cost, scc))  # by component, then cost, then id
    first = np.ones(n, dtype=bool)
    first[1:] = scc[order][1:] != scc[order][:-1]
    return sorted(int(v) for v in order[first] if not entered[scc[v]])


def _flip(st: _Arrivals, x: int):
    """Score making ``x`` a seed (non-seed) or not (seed): ``(change, delta, moved, region)``.

    ``region`` is the drop region of a seed (``None`` for an add).
    """
    if st.seed[x]:
        change, delta, region = st.drop_change(x)
        return change, delta, {x: False}, region
    change, delta = st.add_change(x)
    return change, delta, {x: True}, None


def _partners(st: _Arrivals, v: int, change, region, comp: np.ndarray, comp_size: np.ndarray,
              *, pairs: bool, full_swap_nodes: int, swap_candidates: int) -> list[int]:
    """Second flips tried after the (tentatively applied) flip of ``v``.

    Without ``pairs`` (a swap: ``v`` was a seed), non-seeds; with ``pairs``, nodes of ``v``'s
    old kind (drop + drop, add + add: a drop + add is a swap, found without ``pairs``).
    Small components (at most ``full_swap_nodes`` nodes): every such node of the component.
    Large ones: non-seeds - the ``swap_candidates`` nodes nearest to ``v`` among those whose
    time or parity the flip changed and ``v``'s neighbours; seeds - the ``swap_candidates``
    seeds next to those nodes, nearest first.
    """
    seed = st.seed
    want_seed = (not seed[v]) if pairs else False
    if comp_size[comp[v]] <= full_swap_nodes:
        members = np.flatnonzero(comp == comp[v]).tolist()
        return [u for u in members if u != v and seed[u] == want_seed]
    nodes = region if region is not None else list(change[0])
    near = {u: st.dist[u] for u in nodes if u != v}
    for u, d, _ in st.out[v]:
        near[u] = min(near.get(u, _INF), d)
    cand = sorted((u for u in near if not seed[u]), key=near.__getitem__)[:swap_candidates]
    if not want_seed:
        return cand
    out = st.out
    seeds: dict[int, float] = {}
    for w in cand:
        for u, d, _ in out[w]:
            if seed[u] and u != v:
                seeds[u] = min(seeds.get(u, _INF), near[w] + d)
    return sorted(seeds, key=seeds.__getitem__)[:swap_candidates]


_KIND = {(True, True): "add2", (False, False): "drop2", (False, True): "swap",
         (True, False): "swap"}


def _improve(st: _Arrivals, active: list[int], rng: np.random.Generator, comp: np.ndarray,
             comp_size: np.ndarray, *, swap: bool, pairs: bool, full_swap_nodes: int,
             swap_candidates: int, eps: float,
             deadline: float, moves: dict[str, int],
             stop_after_pair: bool = False) -> tuple[list, bool]:
    """Apply improving moves around ``active`` until none is left (don't-look bits).

    A node ``v`` is tried when it is queued: its flip (an add for a non-seed, a drop for a
    seed); when that does not improve, the best flip of a second node after it (with
    ``swap``: a seed's drop followed by an add; with ``pairs``: any two flips - add + add,
    drop + drop, add + drop, drop + add). A move applied queues the neighbours of the moved
    nodes. When the queue empties after some move, the whole ``active`` set is queued again,
    so the search stops only when a sweep over ``active`` finds no improving move.
    Returns the records of the moves applied (for an undo) and whether it stopped before
    ``deadline``.
    """
    queue = deque(rng.permutation(np.asarray(active, dtype=np.int64)).tolist())
    queued = set(queue)
    records = []
    out = st.out
    small = comp_size <= full_swap_nodes

    def activate(record: Any) -> None:
        """Queue the neighbours of the nodes a move made or unmade seeds."""
        for v in record[1]:
            for w, _, _ in out[v]:
                if w not in queued:
                    queued.add(w)
                    queue.append(w)

    applied = 0
    while True:
        if not queue:
            if len(records) == applied:
                break
            # a sweep over the whole active set again: stop only at a local optimum
            applied = len(records)
            queue.extend(rng.permutation(np.asarray(active, dtype=np.int64)).tolist())
            queued.update(queue)
        if time.perf_counter() > deadline:
            return records, False
        v = queue.popleft()
        queued.discard(v)
        was_seed = st.seed[v]
        change, delta, moved, region = _flip(st, v)
        if st.unreached + delta[1] == 0 and delta[0] < -eps:
            records.append(st.apply(change, delta, moved))
            moves["drop" if was_seed else "add"] += 1
            activate(records[-1])
            continue
        if not (swap and was_seed or pairs and (was_seed or small[comp[v]])):
            continue
        rec = st.apply(change, delta, moved)
        cand = _partners(st, v, change, region, comp, comp_size, pairs=pairs,
                         full_swap_nodes=full_swap_nodes, swap_candidates=swap_candidates)
        best, best_move = -eps, None
        for u in cand:
            ch, d2, mv, _ = _flip(st, u)
            if st.unreached + d2[1] == 0 and delta[0] + d2[0] < best:
                best, best_move = delta[0] + d2[0], (ch, d2, mv)
        if best_move is None:
            st.revert(rec)
            continue
        records.append(rec)
        records.append(st.apply(*best_move))
        moves[_KIND[(not was_seed, next(iter(best_move[2].values())))]] += 1
        if stop_after_pair:
            return records, True
        activate(records[-2])
        activate(records[-1])
    return records, True


def _descend(st: _Arrivals, active: list[int], rng: np.random.Generator, comp: np.ndarray,
             comp_size: np.ndarray, *, pairs: bool, **opts: Any) -> tuple[list, bool]:
    """Variable-neighbourhood descent around ``active``.

    Adds, drops and swaps to a local optimum; then (with ``pairs``) a sweep for one improving
    pair move (add + add, drop + drop); after one, back to the first level; until no pair move
    improves.
    """
    records: list = []
    while True:
        more, done = _improve(st, active, rng, comp, comp_size, pairs=False, **opts)
        records += more
        if not done or not pairs:
            return records, done
        more, done = _improve(st, active, rng, comp, comp_size, pairs=True,
                              stop_after_pair=True, **opts)
        records += more
        if not done or not more:
            return records, done


def _ball(st: _Arrivals, center: int, size: int) -> list[int]:
    """The first ``size`` nodes of a breadth-first search from ``center``."""
    ball = [center]
    seen = {center}
    k = 0
    while k < len(ball) and len(ball) < size:
        for w, _, _ in st.out[ball[k]]:
            if w not in seen:
                seen.add(w)
                ball.append(w)
                if len(ball) >= size:
                    break
        k += 1
    return ball


def signed_local_search(
    graph: DiffusionGraph,
    send_cost: np.ndarray,
    penalty: np.ndarray,
    *,
    tie_break: str = "pessimistic",
    init: str | list[int] = "cheapest",
    seed: int | None = 0,
    time_limit: float | None = None,
    perturbations: int = 100,
    ball_size: int = 64,
    swap: bool = True,
    pairs: bool = True,
    pair_margin: float = 0.03,
    patience: int | None = 25,
    full_swap_nodes: int = 200,
    swap_candidates: int = 32,
) -> LocalSearchResult:
    """Add / drop / swap and pair-move local search with random restarts (module docstring).

    Args:
        graph: signed graph (``edge_sign``; ``edge_delay``, 1 when absent, positive: with a
            zero delay two nodes would share an arrival time and the parity scan would need
            a fixed point).
        send_cost: ``[n]`` float64 send costs.
        penalty: ``[n]`` float64 penalties.
        tie_break: ``"pessimistic"`` or ``"optimistic"`` (the simulator's rule).
        init: ``"cheapest"`` (:func:`initial_seeds`: the cheapest node of every source
            component), ``"all"`` (every node a seed) or internal ids (completed with
            :func:`initial_seeds`' nodes where they leave nodes unreached).
        seed: seed of the scan order and of the restarts (``None``: fresh randomness).
        time_limit: seconds (``None``: none), checked between moves.
        perturbations: number of random local restarts after the first descent.
        ball_size: nodes re-drawn by one restart (the first ``ball_size`` nodes of a
            breadth-first search from a random node; the whole component when smaller).
        swap: try swap moves.
        pairs: after the add / drop / swap descent, look for pair moves (two adds, or two
            drops, at once: moves no single flip or swap reaches, e.g. two seeds whose drop
            only pays when both go) and descend again (variable-neighbourhood descent). On
            components larger than ``full_swap_nodes`` only drop + drop pairs are tried.
        pair_margin: a restart's result gets the pair moves when it is within this fraction
            of the best cost (the first descent always does).
        patience: stop the local restarts (those whose ball is smaller than its component)
            after this many in a row without improvement (``None``: run all
            ``perturbations``). Restarts on components of at most ``ball_size`` nodes are
            fresh random starts and always run.
        full_swap_nodes: components up to this size try every non-seed as a swap partner.
        swap_candidates: in larger components, the swap partners of a seed ``s`` are the
            ``swap_candidates`` nodes nearest to ``s`` among those that lose ``s`` and its
            neighbours.

    Returns:
        The :class:`LocalSearchResult` (``rounds`` = descents run, the first included).

    Raises:
        ValueError: an unsigned graph, bad delays, a bad ``init`` or ``tie_break``.
    """
    t0 = time.perf_counter()
    deadline = _INF if time_limit is None else t0 + float(time_limit)
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    delay = check_signed_graph(graph, positive_delays=True)
    f = np.asarray(send_cost, dtype=np.float64)
    c = np.asarray(penalty, dtype=np.float64)
    n = graph.num_nodes
    rng = np.random.default_rng(seed)
    st = _Arrivals(graph, delay, f, c, tie_break == "pessimistic")
    if isinstance(init, str):
        if init not in ("all", "cheapest"):
            raise ValueError(f"init must be 'all', 'cheapest' or a list of ids, got {init!r}")
        st.reset(list(range(n)) if init == "all" else initial_seeds(graph, f))
    else:
        ids = sorted({int(v) for v in init})
        if ids and (ids[0] < 0 or ids[-1] >= n):
            raise ValueError(f"init has a node id out of range for num_nodes={n}")
        st.reset(ids)
        if st.unreached:
            st.reset(sorted(set(ids) | set(initial_seeds(graph, f))))
    comp = _components(graph)
    comp_size = np.bincount(comp)
    eps = 1e-9 * max(1.0, float(f.sum() + c.sum()))
    moves = {"add": 0, "drop": 0, "swap": 0, "add2": 0, "drop2": 0}
    opts = {"swap": swap, "full_swap_nodes": full_swap_nodes, "swap_candidates": swap_candidates,
            "eps": eps, "deadline": deadline, "moves": moves}
    _, finished = _descend(st, list(range(n)), rng, comp, comp_size, pairs=pairs, **opts)
    best = st.cost
    rounds = 1
    idle = 0
    for _ in range(perturbations if finished else 0):
        if patience is not None and idle >= patience:
            break
        if time.perf_counter() > deadline:
            finished = False
            break
        rounds += 1
        ball = _ball(st, int(rng.integers(n)), ball_size)
        p = rng.uniform(0.05, 0.5)
        records = []
        local = len(ball) < comp_size[comp[ball[0]]]
        for v in ball:
            want = bool(rng.random() < p)
            if want == st.seed[v]:
                continue
            if want:
                change, delta = st.add_change(v)
            else:
                change, delta, _ = st.drop_change(v)
                if delta[1]:
                    continue
            records.append(st.apply(change, delta, {v: want}))
        more, done = _descend(st, ball, rng, comp, comp_size, pairs=False, **opts)
        records.extend(more)
        if done and pairs and st.cost < best + pair_margin * abs(best):
            more, done = _descend(st, ball, rng, comp, comp_size, pairs=True, **opts)
            records.extend(more)
        if st.cost < best - eps:
            best = st.cost
            idle = 0
        else:
            idle += local
            for rec in reversed(records):
                st.revert(rec)
        if not done:
            finished = False
            break
    return LocalSearchResult(
        ids=st.seeds(), cost=st.total(), seconds=time.perf_counter() - t0, rounds=rounds,
        moves=moves, evaluations=st.evaluations, finished=finished,
    )
