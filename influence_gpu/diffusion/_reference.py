"""Slow pure-Python reference simulators, one run at a time, used by the tests.

Each reference takes the same injected randomness as the fast batched simulator (edge coins,
thresholds) for a single run, so the two can be compared outcome for outcome. They read the graph
through plain Python lists and share no code with the fast versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from influence_gpu.graph.diffusion_graph import DiffusionGraph


def _out_lists(graph: DiffusionGraph) -> list[list[tuple[int, int]]]:
    """``out[u]`` = list of ``(edge_id, v)`` in CSR order."""
    rowptr = graph.rowptr.tolist()
    col = graph.col.tolist()
    return [[(e, col[e]) for e in range(rowptr[u], rowptr[u + 1])] for u in range(graph.num_nodes)]


def ic_reference(
    graph: DiffusionGraph, seeds: Sequence[int], edge_uniforms: Sequence[float]
) -> tuple[list[int], list[int]]:
    """One independent-cascade run with given edge coins (Kempe et al. 2003).

    Edge ``e`` is live iff ``edge_uniforms[e] < edge_prob[e]``. A node activated at step t tries
    each out-neighbour once at step t + 1; when several succeed at once, the lowest-numbered
    active parent is recorded.

    Returns:
        ``(step, parent)``: per node, activation step (-1 never, 0 seeds) and parent (-1 none).
    """
    prob = graph.edge_prob.tolist()
    out = _out_lists(graph)
    n = graph.num_nodes
    step = [-1] * n
    parent = [-1] * n
    frontier = sorted(int(s) for s in seeds)
    for s in frontier:
        step[s] = 0
    t = 0
    while frontier:
        t += 1
        new = []
        for u in frontier:
            for e, v in out[u]:
                if step[v] == -1 and edge_uniforms[e] < prob[e]:
                    step[v] = t
                    parent[v] = u
                    new.append(v)
        frontier = sorted(new)
    return step, parent


def competitive_ic_reference(
    graph: DiffusionGraph,
    false_seeds: Sequence[int],
    true_seeds: Sequence[int],
    edge_uniforms_run: Sequence[float],
) -> tuple[list[int], list[int], list[int]]:
    """One competitive IC run (false F vs true T cascade, paper B) with given edge coins.

    Edge ``e`` is live iff ``edge_uniforms_run[e] < edge_prob[e]``. A node activated at step t
    passes its colour to each inactive out-neighbour at step t + 1 over live edges; a node
    reached by both colours in the same step becomes F. The recorded parent is the
    lowest-numbered parent of the winning colour.

    Returns:
        ``(color, step, parent)`` per node: colour 0 inactive / 1 F / 2 T, activation step
        (-1 never, 0 seeds) and parent (-1 none).

    """
    prob = graph.edge_prob.tolist()
    out = _out_lists(graph)
    n = graph.num_nodes
    color = [0] * n
    step = [-1] * n
    parent = [-1] * n
    for c, seeds in ((1, false_seeds), (2, true_seeds)):
        for s in seeds:
            s = int(s)
            if color[s]:
                raise ValueError(f"node {s} is seeded twice")
            color[s] = c
            step[s] = 0
    frontier = sorted(v for v in range(n) if color[v])
    t = 0
    while frontier:
        t += 1
        best: dict[int, tuple[int, int]] = {}
        for u in frontier:
            for e, v in out[u]:
                if color[v] == 0 and edge_uniforms_run[e] < prob[e]:
                    cand = (color[u], u)  # F (1) before T (2), then the smaller parent
                    if v not in best or cand < best[v]:
                        best[v] = cand
        for v, (c, u) in best.items():
            color[v] = c
            step[v] = t
            parent[v] = u
        frontier = sorted(best)
    return color, step, parent


def temporal_ic_reference(
    graph: DiffusionGraph,
    seeds: Sequence[int],
    edge_uniforms_run: Sequence[float],
    start_time: float | None = None,
    *,
    strict: bool = False,
) -> tuple[list[float], list[int], list[int]]:
    """One temporal independent-cascade (ICT) run, event by event (paper E's model).

    Seeds are active from ``start_time`` (default: the earliest contact). Each newly active node
    ``u`` schedules one try per out-arc ``e = (u, v)`` at the first contact ``t >= tau_u``
    (``t > tau_u`` if ``strict``); tries are processed from a priority queue ordered by
    ``(t, hops, u)``; a try on an inactive ``v`` succeeds iff ``edge_uniforms_run[e] < p_e`` and
    then activates ``v`` at ``t``, whose own tries are scheduled.

    Returns:
        ``(time, hops, parent)`` per node: activation time (``inf`` never), number of hops from
        a seed (0 seeds, -1 never) and the activating node (-1 seeds / never).

    """
    import bisect
    import heapq

    prob = graph.edge_prob.tolist()
    out = _out_lists(graph)
    tp = graph.time_ptr.tolist()
    tv = graph.time_values.tolist()
    if start_time is None:
        start_time = min(tv) if tv else 0
    n = graph.num_nodes
    time = [float("inf")] * n
    hops = [-1] * n
    parent = [-1] * n
    queue: list[tuple[float, int, int, int, int]] = []

    def schedule(u: int) -> None:
        for e, v in out[u]:
            contacts = tv[tp[e] : tp[e + 1]]
            find = bisect.bisect_right if strict else bisect.bisect_left
            i = find(contacts, time[u])
            if i < len(contacts):
                heapq.heappush(queue, (contacts[i], hops[u] + 1, u, v, e))

    for s in sorted(int(s) for s in seeds):
        time[s] = start_time
        hops[s] = 0
    for s in sorted(int(s) for s in seeds):
        schedule(s)
    while queue:
        t, h, u, v, e = heapq.heappop(queue)
        if hops[v] != -1:  # already active: no try
            continue
        if edge_uniforms_run[e] < prob[e]:
            time[v], hops[v], parent[v] = t, h, u
            schedule(v)
    return [float(t) for t in time], hops, parent


def signed_reference(
    graph: DiffusionGraph,
    seeds: Sequence[int],
    seed_states: Sequence[int] | None = None,
    tie_break: str = "pessimistic",
) -> list[int]:
    """Signed first-arrival states by a plain Dijkstra with parity tracking (paper C's model).

    Labels are ``(node, state)`` pairs: a message in state ``s`` crossing arc ``e`` arrives in
    state ``s * sign[e]`` after ``delay[e]`` (1 when the graph has no delays). Seeds emit their own
    state from time 0 and relay nothing else. A non-seed takes the state(s) of the earliest
    arriving messages; when both states arrive first, ``"pessimistic"`` keeps -1 and
    ``"optimistic"`` keeps +1.

    Returns:
        State per node: +1, -1, or 0 (never reached).

    """
    import heapq

    n = graph.num_nodes
    sign = graph.edge_sign.tolist()
    delay = graph.edge_delay.tolist() if graph.edge_delay is not None else [1.0] * len(sign)
    out = _out_lists(graph)
    seeds = [int(s) for s in seeds]
    states = [1] * len(seeds) if seed_states is None else [int(x) for x in seed_states]
    is_seed = [False] * n
    for s in seeds:
        is_seed[s] = True
    best: dict[tuple[int, int], float] = {}
    queue = [(0.0, s, st) for s, st in zip(seeds, states, strict=True)]
    for _, s, st in queue:
        best[(s, st)] = 0.0
    heapq.heapify(queue)
    done: set[tuple[int, int]] = set()
    while queue:
        d, u, st = heapq.heappop(queue)
        if (u, st) in done:
            continue
        done.add((u, st))
        for e, v in out[u]:
            if is_seed[v]:
                continue
            nd, ns = d + delay[e], st * sign[e]
            if nd < best.get((v, ns), float("inf")):
                best[(v, ns)] = nd
                heapq.heappush(queue, (nd, v, ns))
    result = [0] * n
    for v in range(n):
        if is_seed[v]:
            continue
        dp, dm = best.get((v, 1), float("inf")), best.get((v, -1), float("inf"))
        if dp == dm == float("inf"):
            continue
        if dp == dm:
            result[v] = -1 if tie_break == "pessimistic" else 1
        else:
            result[v] = 1 if dp < dm else -1
    for s, st in zip(seeds, states, strict=True):
        result[s] = st
    return result


def _threshold_in_lists(graph: DiffusionGraph) -> list[list[tuple[int, int]]]:
    """``inn[v]`` = list of ``(edge_id, u)`` for the arcs ``u -> v``, by increasing ``u``."""
    rowptr = graph.rowptr.tolist()
    col = graph.col.tolist()
    inn: list[list[tuple[int, int]]] = [[] for _ in range(graph.num_nodes)]
    for u in range(graph.num_nodes):
        for e in range(rowptr[u], rowptr[u + 1]):
            inn[col[e]].append((e, u))
    return inn


def lt_reference(
    graph: DiffusionGraph, seeds: Sequence[int], thresholds_run: Sequence[float]
) -> tuple[list[int], list[int]]:
    """One linear-threshold run with given thresholds (Kempe et al. 2003), synchronous steps.

    At step t every inactive node v sums ``edge_prob`` over its in-neighbours active at the end
    of step t - 1 and activates iff the sum is > 0 and >= ``thresholds_run[v]``. Its parent is
    the lowest-numbered in-neighbour with positive weight activated at step t - 1.

    Returns:
        ``(step, parent)``: per node, activation step (-1 never, 0 seeds) and parent (-1 none).

    """
    w = [float(x) for x in graph.edge_prob.tolist()]
    theta = [float(x) for x in thresholds_run]
    inn = _threshold_in_lists(graph)
    n = graph.num_nodes
    step = [-1] * n
    parent = [-1] * n
    for s in seeds:
        step[int(s)] = 0
    t = 0
    while True:
        t += 1
        new = []
        for v in range(n):
            if step[v] != -1:
                continue
            acc = 0.0
            par = -1
            for e, u in inn[v]:
                if step[u] != -1:
                    acc += w[e]
                    if step[u] == t - 1 and w[e] > 0 and (par == -1 or u < par):
                        par = u
            if acc > 0 and acc >= theta[v]:
                new.append((v, par))
        if not new:
            break
        for v, par in new:
            step[v] = t
            parent[v] = par
    return step, parent


def _threshold_model_reference(
    graph: DiffusionGraph,
    seeds: Sequence[int],
    thresholds_run: Sequence[float],
    rule: str,
    alpha: Sequence[float] | None,
) -> tuple[list[int], list[bool], list[int]]:
    w = [float(x) for x in graph.edge_prob.tolist()]
    theta = [float(x) for x in thresholds_run]
    a = [1.0] * graph.num_nodes if alpha is None else [float(x) for x in alpha]
    inn = _threshold_in_lists(graph)
    n = graph.num_nodes
    step = [-1] * n
    blocked = [False] * n
    parent = [-1] * n
    for s in seeds:
        step[int(s)] = 0
    t = 0
    while True:
        t += 1
        tested = []
        for v in range(n):
            if step[v] != -1 or blocked[v]:
                continue
            act = [(e, u) for e, u in inn[v] if step[u] != -1]
            if not act:
                continue
            if rule == "min":
                x = min(a[u] * w[e] for e, u in act)
            else:
                x = 1.0
                for e, _ in act:
                    x *= w[e]
            tested.append((v, x >= theta[v], min(u for _, u in act)))
        if not tested:
            break
        for v, ok, par in tested:
            if ok:
                step[v] = t
                parent[v] = par
            else:
                blocked[v] = True
    return step, blocked, parent


def minimum_threshold_reference(
    graph: DiffusionGraph,
    seeds: Sequence[int],
    thresholds_run: Sequence[float],
    alpha: Sequence[float] | None = None,
) -> tuple[list[int], list[bool], list[int]]:
    """One minimum-threshold run with given thresholds (paper D, DESIGN.md section 4).

    At step t every node that is neither active nor blocked and has at least one in-neighbour
    active at the end of step t - 1 is tested: with ``m = min(alpha[u] * edge_prob(u, v))`` over
    all its active in-neighbours, it activates at step t if ``m >= thresholds_run[v]`` and is
    blocked for good otherwise. Its parent is the lowest-numbered active in-neighbour.

    Returns:
        ``(step, blocked, parent)``: activation step (-1 never, 0 seeds), blocked flag, parent.

    """
    return _threshold_model_reference(graph, seeds, thresholds_run, "min", alpha)


def multiplication_threshold_reference(
    graph: DiffusionGraph, seeds: Sequence[int], thresholds_run: Sequence[float]
) -> tuple[list[int], list[bool], list[int]]:
    """One multiplication-threshold run with given thresholds (paper D, DESIGN.md section 4).

    As :func:`minimum_threshold_reference` with the product of ``edge_prob(u, v)`` over all
    active in-neighbours in place of the minimum.

    Returns:
        ``(step, blocked, parent)``: activation step (-1 never, 0 seeds), blocked flag, parent.

    """
    return _threshold_model_reference(graph, seeds, thresholds_run, "prod", None)
