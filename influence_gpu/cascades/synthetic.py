"""Synthetic cascades for learning influence (paper A, "Experiments on synthetic data").

Two generators, both vectorised over the ``K`` cascades (each step is a couple of scatter-adds over
the arcs for all cascades at once) and seeded through a ``torch.Generator``:

* :func:`synthetic_cascades`: paper A's rule. A random ``seed_fraction`` of the nodes starts
  active; then, for ``steps`` synchronous steps, every inactive node ``j`` in the neighbourhood of
  the active set becomes active with probability ``a + (b / N) * AN_j``, ``AN_j`` being the number
  of active in-neighbours of ``j`` and ``N`` the number of nodes. The paper says "active nodes
  remain active and inactive nodes have the chance to be activated only when they have
  connections to active nodes within a two-step neighbourhood", with ``a = b = 0.5`` and
  equation 4 for ``p``; that it runs two steps, and that the neighbourhood is taken along arc
  directions from the active set at the start of each step, is our reading (DESIGN.md section 5),
  configurable with ``steps`` and ``neighbourhood``.
* :func:`lt_cascades`: a known linear-threshold model (the graph's ``edge_prob`` are the weights),
  run for ``steps`` synchronous steps with thresholds ``U(0, 1)`` drawn per cascade and node, the
  step rule of :func:`influence_gpu.diffusion.simulate_lt`. Used to check that LTNN recovers
  weights it was generated with, and for the scale experiments.
"""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.cascades.data import CascadeData
from influence_gpu.diffusion._common import make_generator
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.probabilities import check_lt_weights

__all__ = ["synthetic_cascades", "lt_cascades", "random_seed_states", "NEIGHBOURHOODS"]

#: Who may activate in a step of :func:`synthetic_cascades`: inactive nodes with an active node
#: within two arcs (``"two_hop"``), with an active in-neighbour (``"one_hop"``), or all (``"all"``).
NEIGHBOURHOODS = ("two_hop", "one_hop", "all")


def _check_graph(graph: Any) -> DiffusionGraph:
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    return graph


def _check_fraction(x: Any, name: str) -> float:
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {x}")
    return x


def _check_count(x: Any, name: str, lo: int) -> int:
    if int(x) != x or int(x) < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def random_seed_states(
    num_cascades: int,
    num_nodes: int,
    seed_fraction: float,
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``[K, N]`` 0/1 states with ``round(seed_fraction * N)`` random active nodes per row.

    Args:
        num_cascades: rows ``K``.
        num_nodes: columns ``N``.
        seed_fraction: share of active nodes per row, in ``[0, 1]``.
        generator: random generator (on ``device``).
        device: where to allocate (default: the generator's device).

    Returns:
        float tensor of 0/1 states.

    Shapes:
        ``[K, N]``.
    """
    device = generator.device if device is None else device
    k = round(_check_fraction(seed_fraction, "seed_fraction") * num_nodes)
    order = torch.rand(num_cascades, num_nodes, generator=generator, device=device).argsort(1)
    x = torch.zeros(num_cascades, num_nodes, device=device)
    x.scatter_(1, order[:, :k], 1.0)
    return x


def _in_sum(x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, w: torch.Tensor | None = None
            ) -> torch.Tensor:
    """``out[:, j] = sum over arcs (i, j) of x[:, i] * w_ij`` for a batch of states ``[K, N]``."""
    vals = x[:, src] if w is None else x[:, src] * w
    return x.new_zeros(x.shape).index_add_(1, dst, vals)


def synthetic_cascades(
    graph: DiffusionGraph,
    num_cascades: int = 200,
    seed_fraction: float = 0.35,
    a: float = 0.5,
    b: float = 0.5,
    steps: int = 2,
    neighbourhood: str = "two_hop",
    seed: int | None = None,
    generator: torch.Generator | None = None,
    name: str | None = None,
) -> CascadeData:
    """Paper A's synthetic cascades (equation 4), ``K`` at once.

    Args:
        graph: the network (arcs ``(i, j)``; undirected graphs hold both arcs).
        num_cascades: ``K`` (paper: 200).
        seed_fraction: share of randomly chosen seeds per cascade (paper: 0.35).
        a: base activation probability (paper: 0.5).
        b: weight of the active-neighbour count: ``p_j = a + (b / N) * AN_j`` (paper: 0.5),
            clipped to ``[0, 1]``.
        steps: synchronous activation steps (our reading: 2).
        neighbourhood: which inactive nodes may activate, one of :data:`NEIGHBOURHOODS`.
        seed: random seed (ignored when ``generator`` is given).
        generator: random generator (on the graph's device).
        name: label for logs (default ``"synthetic"``).

    Returns:
        :class:`CascadeData` with ``x0`` the seeds and ``xT`` the states after ``steps`` steps.

    Raises:
        ValueError: a fraction or probability parameter out of range, a bad ``neighbourhood``,
            ``num_cascades < 1`` or ``steps < 0``.

    Shapes:
        x0, xT ``[K, N]``.
    """
    graph = _check_graph(graph)
    num_cascades = _check_count(num_cascades, "num_cascades", 1)
    steps = _check_count(steps, "steps", 0)
    a, b = float(a), float(b)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"a must lie in [0, 1], got {a}")
    if b < 0:
        raise ValueError(f"b must be >= 0, got {b}")
    if neighbourhood not in NEIGHBOURHOODS:
        raise ValueError(f"neighbourhood must be one of {NEIGHBOURHOODS}, got {neighbourhood!r}")
    n, device = graph.num_nodes, graph.device
    gen = generator if generator is not None else make_generator(seed, device)
    src, dst = graph.src, graph.col
    x0 = random_seed_states(num_cascades, n, seed_fraction, gen, device)
    active = x0.clone()
    for _ in range(steps):
        an = _in_sum(active, src, dst)
        if neighbourhood == "all":
            eligible = active == 0
        else:
            near = an > 0
            if neighbourhood == "two_hop":
                near = near | (_in_sum(near.float(), src, dst) > 0)
            eligible = (active == 0) & near
        p = (a + (b / n) * an).clamp_(0.0, 1.0)
        coin = torch.rand(active.shape, generator=gen, device=device)
        active = torch.where(eligible & (coin < p), torch.ones_like(active), active)
    info = {
        "generator": "synthetic", "num_cascades": num_cascades, "seed_fraction": seed_fraction,
        "a": a, "b": b, "steps": steps, "neighbourhood": neighbourhood, "seed": seed,
    }
    return CascadeData(x0, active, graph.edge_index, n, name or "synthetic", info)


def lt_cascades(
    graph: DiffusionGraph,
    num_cascades: int = 200,
    seed_fraction: float = 0.35,
    steps: int | None = 2,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    thresholds: torch.Tensor | None = None,
    name: str | None = None,
) -> CascadeData:
    """Cascades of a known linear-threshold model, ``K`` at once.

    Step rule of :func:`influence_gpu.diffusion.simulate_lt`: with thresholds ``theta ~ U(0, 1)``
    drawn once per cascade and node, an inactive ``j`` activates at step ``t`` when
    ``acc_j = sum of w_ij over in-neighbours i active after step t - 1`` satisfies
    ``acc_j >= theta_j`` and ``acc_j > 0``.

    Args:
        graph: graph whose ``edge_prob`` are the LT weights (in-weights summing to at most 1).
        num_cascades: ``K``.
        seed_fraction: share of random seeds per cascade.
        steps: synchronous steps observed (``None``: until no node changes).
        seed: random seed (ignored when ``generator`` is given).
        generator: random generator (on the graph's device).
        thresholds: injected ``[K, N]`` thresholds in ``[0, 1]`` (default: drawn).
        name: label for logs (default ``"lt"``).

    Returns:
        :class:`CascadeData` (``x0`` seeds, ``xT`` states after ``steps`` steps).

    Raises:
        ValueError: missing weights or in-weights above 1, bad counts, thresholds of the wrong
            shape.

    Shapes:
        thresholds, x0, xT ``[K, N]``.
    """
    graph = _check_graph(graph)
    check_lt_weights(graph, tol=1e-6)
    num_cascades = _check_count(num_cascades, "num_cascades", 1)
    if steps is not None:
        steps = _check_count(steps, "steps", 0)
    n, device = graph.num_nodes, graph.device
    gen = generator if generator is not None else make_generator(seed, device)
    x0 = random_seed_states(num_cascades, n, seed_fraction, gen, device)
    if thresholds is None:
        thresholds = torch.rand(num_cascades, n, generator=gen, device=device)
    elif tuple(thresholds.shape) != (num_cascades, n):
        raise ValueError(
            f"thresholds must be [num_cascades, num_nodes] = [{num_cascades}, {n}], "
            f"got {tuple(thresholds.shape)}"
        )
    w = graph.require_prob()
    src, dst = graph.src, graph.col
    active = x0.clone()
    t = 0
    while steps is None or t < steps:
        acc = _in_sum(active, src, dst, w)
        new = (active == 0) & (acc >= thresholds) & (acc > 0)
        if not bool(new.any()):
            break
        active = torch.where(new, torch.ones_like(active), active)
        t += 1
    info = {"generator": "lt", "num_cascades": num_cascades, "seed_fraction": seed_fraction,
            "steps": steps, "seed": seed}
    return CascadeData(x0, active, graph.edge_index, n, name or "lt", info)
