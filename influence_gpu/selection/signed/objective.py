"""Paper C's objective: send costs of the seeds plus penalties of the nodes left flipped.

For a seed set ``S`` of an (undirected) signed graph with delays, every non-seed takes the state
of its first arriving message (:func:`~influence_gpu.diffusion.signed.signed_first_arrival`):
``+1`` as sent, or ``-1`` (flipped) when the shortest-delay path from the seeds crosses an odd
number of negative edges. The cost of ``S`` is

.. code-block:: text

    cost(S) = sum_{i in S} f_i + sum_{i not in S, state_i = -1} C_i

with send costs ``f`` and penalties ``C`` (DESIGN 7.5, paper C's (1a)). Every non-seed must receive
the message (paper C's (1e)-(1f)): a seed set that leaves a node unreached - the empty set, or a
connected component without a seed - is **infeasible**, and :func:`signed_cost` returns
``math.inf`` for it (it does not raise), so that brute force and local search can compare costs
directly.

Ties between shortest paths of different parity follow the simulator's ``tie_break``: the
default ``"pessimistic"`` flips the node, ``"optimistic"`` keeps ``+1``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from influence_gpu.diffusion._common import as_seed_tensor
from influence_gpu.diffusion.signed import TIE_BREAKS, signed_first_arrival
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.signed_instances import node_costs
from influence_gpu.typing import SeedSet

__all__ = ["signed_cost", "signed_seed_ids", "check_signed_graph", "resolve_costs", "TIE_BREAKS"]


def check_signed_graph(graph: Any, *, positive_delays: bool = False) -> np.ndarray:
    """Check a graph for the signed problem and return its delays.

    Args:
        graph: the graph; it must be a :class:`DiffusionGraph` with ``edge_sign``.
        positive_delays: require every delay to be ``> 0`` (the MILPs and the local search need
            it: with a zero delay a cycle of equal arrival times could carry a state of its
            own).

    Returns:
        ``[num_edges]`` float64 delays (1 per arc when ``edge_delay`` is ``None``).

    Raises:
        TypeError: not a ``DiffusionGraph``.
        ValueError: no ``edge_sign`` (unsigned graph), a negative / non-finite ``edge_delay``,
            or a zero one with ``positive_delays``.
    """
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    if graph.edge_sign is None:
        raise ValueError(
            "graph has no edge signs (graph.edge_sign is None): the signed problem needs +1/-1 "
            "per edge; build it with edge_sign=..., load a signed edge list, or use "
            "influence_gpu.graph.signed_instances"
        )
    if graph.edge_delay is None:
        return np.ones(graph.num_edges, dtype=np.float64)
    delay = graph.edge_delay.detach().cpu().double().numpy()
    bad = ~(np.isfinite(delay) & (delay >= 0))
    if bad.any():
        raise ValueError(f"edge_delay must be finite and non-negative, found {delay[bad][0]!r}")
    if positive_delays and delay.size and delay.min() <= 0:
        raise ValueError(
            f"edge_delay must be positive for the signed selectors (MILP, local search), "
            f"found {delay.min()!r}"
        )
    return delay


def resolve_costs(graph: DiffusionGraph, send_cost: Any, penalty: Any) -> tuple[np.ndarray, ...]:
    """``(f, C)`` as float64 arrays ``[n]`` from any spec :func:`node_costs` accepts.

    Raises:
        ValueError: wrong length, negative or non-finite values (naming ``send_cost`` /
            ``penalty``).
    """
    f = node_costs(graph, send_cost, name="send_cost").numpy()
    c = node_costs(graph, penalty, name="penalty").numpy()
    return f, c


def signed_seed_ids(graph: DiffusionGraph, seeds: SeedSet) -> torch.Tensor:
    """Internal ids ``[k]`` of ``seeds``: a tensor holds internal ids, anything else labels.

    Raises:
        TypeError: a float / bool tensor.
        ValueError: an id out of range, an unknown label, or a node given twice.
    """
    if isinstance(seeds, torch.Tensor):
        ids = seeds.reshape(-1)
        if ids.is_floating_point() or ids.dtype == torch.bool:
            raise TypeError(f"seeds must be an integer tensor, got dtype {ids.dtype}")
        ids = ids.long().cpu()
        if ids.numel():
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= graph.num_nodes:
                raise ValueError(
                    f"seeds contains node {lo if lo < 0 else hi}, out of range for a graph "
                    f"with {graph.num_nodes} nodes"
                )
            if torch.unique(ids).numel() != ids.numel():
                raise ValueError("seeds contains a node more than once")
        return ids
    return as_seed_tensor(graph, seeds, "seeds").cpu()


def _cost_of_ids(
    graph: DiffusionGraph, ids: torch.Tensor, f: np.ndarray, c: np.ndarray, tie_break: str
) -> tuple[float, int]:
    """``(cost, number of flipped nodes)``; ``(inf, -1)`` when infeasible."""
    if ids.numel() == 0:
        return math.inf, -1
    state, _ = signed_first_arrival(graph, ids, tie_break=tie_break)
    state = state.cpu().numpy()
    if (state == 0).any():
        return math.inf, -1
    flipped = state == -1
    return float(f[ids.numpy()].sum() + c[flipped].sum()), int(flipped.sum())


def signed_cost(
    graph: DiffusionGraph,
    seeds: SeedSet,
    send_cost: Any,
    penalty: Any,
    *,
    tie_break: str = "pessimistic",
) -> float:
    """Paper C's objective of one seed set: send costs plus penalties of flipped nodes.

    Args:
        graph: signed graph (``edge_sign``; ``edge_delay``, 1 when absent); an undirected graph
            holds both arcs of every edge.
        seeds: the seed set - an integer tensor of internal ids, or a sequence of node labels.
        send_cost: ``f``, anything :func:`~influence_gpu.graph.signed_instances.node_costs`
            accepts (a number, ``[n]`` values, a node attribute mapping, a rule).
        penalty: ``C``, the same forms.
        tie_break: ``"pessimistic"`` (default; a node reached first by shortest paths of both
            parities is flipped) or ``"optimistic"`` (it keeps ``+1``), as in
            :func:`~influence_gpu.diffusion.signed.signed_first_arrival`.

    Returns:
        ``sum f[S] + sum C[flipped]``, or ``math.inf`` when ``seeds`` is infeasible (empty, or
        some node never receives the message, e.g. a connected component without a seed).

    Raises:
        ValueError: unsigned graph, bad delays, bad costs / penalties (wrong length, negative),
            seeds out of range or repeated, an unknown ``tie_break``.
        TypeError: a float seed tensor, or an unsupported cost spec.

    Shapes:
        seeds ``[k]``, send_cost / penalty ``[n]``.
    """
    check_signed_graph(graph)
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {tie_break!r}")
    f, c = resolve_costs(graph, send_cost, penalty)
    return _cost_of_ids(graph, signed_seed_ids(graph, seeds), f, c, tie_break)[0]
