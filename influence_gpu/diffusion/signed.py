"""Signed first-arrival diffusion (paper C: bi-level influence maximization on signed networks).

An information item with two opposite states (+1, the campaign's, and -1, its reverse) leaves the
seeds at time 0, each seed emitting its own state. Crossing the edge ``{i, j}`` takes ``d_ij``
(``edge_delay``, 1 when absent) and flips the state when the edge is negative. Every non-seed
keeps the *first* information that reaches it, i.e. the state carried by a shortest-delay path from
the seeds, whose parity of negative edges says whether it was flipped. The outcome is deterministic.

Ties. A node may be reached first by several shortest paths of different parity. Paper C's second
level is a shortest-path problem and its leader (the campaign) pays a penalty for every node that
ends in the reversed state; the *pessimistic* reading of the bi-level problem lets the follower
choose, among its optimal paths, the one worst for the leader, so the node takes -1 whenever some
shortest path delivers -1 (DESIGN section 4: "the flipped state wins"). ``"optimistic"`` gives +1
whenever some shortest path delivers +1. Ties are decided per node over all its shortest paths
(first-arriving messages of both states are relayed onward), not along one fixed shortest-path
tree.

How it is computed. On the signed double cover, with a copy ``(v, +1)`` and ``(v, -1)`` of every
node and an arc ``(u, s) -> (v, s * sign(u, v))`` of length ``d_uv`` for every arc and state, a
message path from a seed in state ``s0`` is exactly a path from ``(seed, s0)``. One multi-source
Dijkstra (``scipy.sparse.csgraph.dijkstra``) on the cover gives ``D(v, s)``, the earliest arrival of
state ``s`` at ``v``; the first arrival is ``min_s D(v, s)`` and the states that achieve it are the
candidates for the tie rule. Seeds keep their own state and relay nothing else (arcs into seeds
are left out of the cover). The graph's arcs are used as stored: an undirected graph
(``directed=False``) holds both arcs of each edge; a directed graph is treated as directed.
"""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.diffusion._common import charge_results, check_num_samples, plan_chunks
from influence_gpu.diffusion.results import SpreadResult
from influence_gpu.diffusion.temporal import _seed_ids
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["simulate_signed", "signed_first_arrival", "TIE_BREAKS"]

TIE_BREAKS = ("pessimistic", "optimistic")


def _seed_state_tensor(seed_states: Any, k: int) -> torch.Tensor:
    if seed_states is None:
        return torch.ones(k, dtype=torch.int8)
    st = torch.as_tensor(seed_states).reshape(-1).cpu()
    if st.numel() != k:
        raise ValueError(f"seed_states must have one entry per seed ({k}), got {st.numel()}")
    if st.numel() and not bool(((st == 1) | (st == -1)).all()):
        bad = st[(st != 1) & (st != -1)][0].item()
        raise ValueError(f"seed_states must hold +1 or -1, found {bad!r}")
    return st.to(torch.int8)


def signed_first_arrival(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    *,
    seed_states: Any = None,
    tie_break: str = "pessimistic",
) -> tuple[torch.Tensor, torch.Tensor]:
    """State and first-arrival time of every node under the signed first-arrival model.

    Args:
        graph: graph with ``edge_sign`` (and optionally ``edge_delay``; 1 when absent).
        seeds: ``[k]`` int64 internal node ids (distinct).
        seed_states: ``[k]`` +1/-1 state each seed emits (default all +1).
        tie_break: ``"pessimistic"`` (-1 wins a tie between shortest paths of different
            parity) or ``"optimistic"`` (+1 wins).

    Returns:
        ``(state, distance)``: ``[n]`` int8 states (+1, -1, 0 unreached) and ``[n]`` float64
        first-arrival times (0 for seeds, ``inf`` unreached), on the graph's device.

    Raises:
        ValueError: unsigned graph, negative or non-finite delays, bad ``seed_states`` or
            ``tie_break``.

    Shapes:
        seeds ``[k]``, seed_states ``[k]``, state / distance ``[n]``.

    """
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    if graph.edge_sign is None:
        raise ValueError(
            "the signed model needs edge signs, but graph.edge_sign is None; build the graph "
            "with edge_sign=... (+1/-1 per edge) or load a signed edge list"
        )
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    n, E = graph.num_nodes, graph.num_edges
    seeds = seeds.reshape(-1).long()
    states = _seed_state_tensor(seed_states, seeds.numel())
    if graph.edge_delay is None:
        delay = np.ones(E, dtype=np.float64)
    else:
        delay = graph.edge_delay.detach().cpu().double().numpy()
        if E and not (np.isfinite(delay).all() and delay.min() >= 0):
            bad = delay[~(np.isfinite(delay) & (delay >= 0))][0]
            raise ValueError(f"edge_delay must be finite and non-negative, found {bad!r}")
    device = graph.device
    state = torch.zeros(n, dtype=torch.int8)
    distance = torch.full((n,), float("inf"), dtype=torch.float64)
    if seeds.numel() == 0:
        return state.to(device), distance.to(device)

    src = graph.src.cpu().numpy()
    dst = graph.col.cpu().numpy()
    neg = (graph.edge_sign.cpu().numpy() < 0).astype(np.int64)
    seed_np = seeds.cpu().numpy()
    is_seed = np.zeros(n, dtype=bool)
    is_seed[seed_np] = True
    keep = ~is_seed[dst]
    src, dst, neg, delay = src[keep], dst[keep], neg[keep], delay[keep]
    # cover node 2 * v + b, b = 0 for state +1 and 1 for state -1
    rows = np.concatenate([2 * src, 2 * src + 1])
    cols = np.concatenate([2 * dst + neg, 2 * dst + (1 - neg)])
    data = np.concatenate([delay, delay])
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(2 * n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=2 * n), out=indptr[1:])
    # built from (data, indices, indptr) so explicit zero delays stay edges
    cover = csr_matrix((data[order], cols[order], indptr), shape=(2 * n, 2 * n))
    sources = 2 * seed_np + (states.numpy() < 0).astype(np.int64)
    dist = dijkstra(cover, directed=True, indices=sources, min_only=True)
    d_plus, d_minus = dist[0::2], dist[1::2]
    first = np.minimum(d_plus, d_minus)
    reached = np.isfinite(first)
    plus_first = reached & (d_plus == first)
    minus_first = reached & (d_minus == first)
    if tie_break == "pessimistic":
        st = np.where(minus_first, -1, np.where(plus_first, 1, 0))
    else:
        st = np.where(plus_first, 1, np.where(minus_first, -1, 0))
    state = torch.from_numpy(st.astype(np.int8))
    state[seeds.cpu()] = states
    distance = torch.from_numpy(first.astype(np.float64))
    distance[seeds.cpu()] = 0.0
    return state.to(device), distance.to(device)


def simulate_signed(
    graph: DiffusionGraph,
    seeds: torch.Tensor,
    num_samples: int = 1,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    seed_states: Any = None,
    tie_break: str = "pessimistic",
) -> SpreadResult:
    """Positive influence of ``seeds`` under the signed first-arrival model (paper C).

    The model is deterministic: ``num_samples`` and ``generator`` are accepted for a uniform
    simulator interface, every "run" is identical and the standard error is 0.

    Args:
        graph: signed graph (``edge_sign``; ``edge_delay`` optional, 1 when absent); an
            undirected graph holds both arcs of each edge.
        seeds: ``[k]`` int64 internal node ids (distinct); other inputs are read as node labels.
        num_samples: number of (identical) runs reported in ``spreads``.
        generator: unused (deterministic model).
        memory_budget: bytes the call may allocate; refused with ``MemoryError`` before any work
            when the double-cover graph does not fit.
        seed_states: ``[k]`` +1/-1 state each seed emits (default all +1).
        tie_break: ``"pessimistic"`` (default, -1 wins a tie between shortest paths of
            different parity) or ``"optimistic"``.

    Returns:
        :class:`SpreadResult` with ``model="signed"``: ``mean`` is the number of nodes in state
        +1 (seeds included), ``node_prob`` is 1 for those nodes and 0 elsewhere, and ``extra``
        holds ``negative`` (nodes in state -1), ``net`` (positive - negative), ``state`` (``[n]``
        int8: +1, -1, 0 unreached) and ``distance`` (``[n]`` float64 first-arrival times).

    Raises:
        ValueError: unsigned graph, bad delays, ``seed_states`` or ``tie_break``, seeds out of
            range.
        MemoryError: the computation does not fit in ``memory_budget``.

    Shapes:
        seeds ``[k]``, node_prob ``[n]``, spreads ``[num_samples]``, state ``[n]``.

    """
    num_samples = check_num_samples(num_samples)
    seeds = _seed_ids(graph, seeds)
    n, E = graph.num_nodes, graph.num_edges
    # double cover: 2E arcs (float64 data, int32/64 indices, sort order) + per-node arrays
    plan_chunks(1, 2 * E * 40 + 2 * n * 48, memory_budget,
                fixed_bytes=charge_results(num_samples * 8), what="signed first-arrival")
    state, distance = signed_first_arrival(
        graph, seeds, seed_states=seed_states, tie_break=tie_break
    )
    positive = int((state == 1).sum())
    negative = int((state == -1).sum())
    return SpreadResult(
        mean=float(positive),
        stderr=0.0,
        num_samples=num_samples,
        node_prob=(state == 1).to(torch.float32),
        spreads=torch.full((num_samples,), positive, dtype=torch.long, device=graph.device),
        model="signed",
        extra={
            "negative": negative,
            "net": positive - negative,
            "state": state,
            "distance": distance,
            "tie_break": tie_break,
        },
    )
