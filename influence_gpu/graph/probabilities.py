"""Edge-probability (IC) and edge-weight (LT / threshold) schemes.

Schemes (``p(u, v)`` is the probability or weight of arc ``u -> v``; ``c(u, v)`` its multiplicity
``edge_count``, which on temporal graphs is the number of contacts ``n_uv``):

* ``"weighted_cascade"``: ``1 / indeg(v)`` (Kempe, Kleinberg, Tardos 2003; the propagation
  probability of paper B);
* ``"uniform"``: a constant ``p``;
* ``"trivalency"``: drawn uniformly from {0.1, 0.01, 0.001} (Chen, Wang, Yang 2010), seeded;
* ``"lt_weights"``: ``c(u, v) / sum_w c(w, v)``, so the in-weights of every node sum to 1;
* ``"contact_count"``: ``n_uv / sum_w n_wv`` (paper E's default for the temporal IC model);
* ``"contact_beta"``: ``1 - (1 - beta) ** n_uv`` (one independent try with ``beta`` per contact);
* ``"file"``: keep the probabilities read from the file (error when there are none).

All values are computed in float64 on the graph's device and stored as float32.
"""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["SCHEMES", "assign_probabilities", "check_lt_weights", "in_weight_sums"]

#: Names accepted by :func:`assign_probabilities`.
SCHEMES = (
    "weighted_cascade",
    "uniform",
    "trivalency",
    "lt_weights",
    "contact_count",
    "contact_beta",
    "file",
)

_TRIVALENCY = (0.1, 0.01, 0.001)
_OPTIONS = {"uniform": ("p",), "trivalency": ("seed",), "contact_beta": ("beta",)}


def _check_unit(x: Any, name: str, scheme: str) -> float:
    if x is None:
        raise ValueError(f"scheme {scheme!r} needs {name}= (a number in [0, 1])")
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not (
        isinstance(x, torch.Tensor) and x.numel() == 1
    ):
        raise TypeError(f"{name} must be a number in [0, 1], got {x!r}")
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {x!r}")
    return x


def _normalise_by_target(graph: DiffusionGraph, weight: torch.Tensor) -> torch.Tensor:
    """``weight(u, v) / sum_w weight(w, v)`` for every arc (float64)."""
    total = torch.zeros(graph.num_nodes, dtype=torch.float64, device=graph.device)
    total.index_add_(0, graph.col, weight)
    return weight / total[graph.col]


def assign_probabilities(
    graph: DiffusionGraph,
    scheme: str,
    *,
    p: float | None = None,
    seed: int | None = None,
    beta: float | None = None,
) -> DiffusionGraph:
    """Return a copy of ``graph`` whose ``edge_prob`` follows ``scheme``.

    Args:
        graph: the graph (structure and ``edge_count`` are used; ``edge_prob`` is replaced).
        scheme: one of :data:`SCHEMES` (see the module docstring for the formulas).
        p: the constant of ``"uniform"``.
        seed: seed of ``"trivalency"`` (draws are made on CPU, so the same seed gives the same
            probabilities on every device); ``None`` draws fresh randomness.
        beta: per-contact probability of ``"contact_beta"``.

    Returns:
        A new ``DiffusionGraph`` sharing the structure of ``graph``.

    Raises:
        ValueError: unknown scheme (the message lists the known ones), a missing or out-of-range
            ``p`` / ``beta``, an option that the scheme does not use, or ``"file"`` on a graph
            without probabilities.
        TypeError: ``p`` / ``beta`` / ``seed`` of the wrong type.

    Shapes:
        ``edge_prob``: ``[E]`` float32 on ``graph.device``.

    """
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; known schemes: {', '.join(SCHEMES)}")
    given = {k: v for k, v in (("p", p), ("seed", seed), ("beta", beta)) if v is not None}
    unused = sorted(set(given) - set(_OPTIONS.get(scheme, ())))
    if unused:
        raise ValueError(f"scheme {scheme!r} does not use {', '.join(u + '=' for u in unused)}")

    E, dev = graph.num_edges, graph.device
    if scheme == "file":
        graph.require_prob()
        return graph
    if scheme == "uniform":
        prob = torch.full((E,), _check_unit(p, "p", scheme), dtype=torch.float64, device=dev)
    elif scheme == "weighted_cascade":
        prob = _normalise_by_target(graph, torch.ones(E, dtype=torch.float64, device=dev))
    elif scheme == "trivalency":
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        gen = torch.Generator()
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(seed)
        pick = torch.randint(len(_TRIVALENCY), (E,), generator=gen)
        prob = torch.tensor(_TRIVALENCY, dtype=torch.float64)[pick].to(dev)
    elif scheme in ("lt_weights", "contact_count"):
        prob = _normalise_by_target(graph, graph.edge_count.to(torch.float64))
    else:  # contact_beta
        b = _check_unit(beta, "beta", scheme)
        n = graph.edge_count.to(torch.float64)
        prob = -torch.expm1(n * torch.log1p(torch.tensor(-b, dtype=torch.float64, device=dev)))
        if b == 1.0:
            prob = (n > 0).to(torch.float64)
    return graph.with_prob(prob.clamp_(0.0, 1.0).to(torch.float32))


def in_weight_sums(graph: DiffusionGraph) -> torch.Tensor:
    """Return the sum of in-weights ``sum_u p(u, v)`` of every node (float64).

    Shapes:
        ``[n]`` on ``graph.device``.

    Raises:
        ValueError: the graph has no ``edge_prob``.

    """
    w = graph.require_prob().to(torch.float64)
    total = torch.zeros(graph.num_nodes, dtype=torch.float64, device=graph.device)
    return total.index_add_(0, graph.col, w)


def check_lt_weights(graph: DiffusionGraph, tol: float = 1e-6) -> None:
    """Check that the in-weights of every node sum to at most 1 (the LT model's requirement).

    Args:
        graph: a graph with ``edge_prob`` holding LT weights ``b(u, v)``.
        tol: tolerance above 1 (float32 rounding).

    Raises:
        ValueError: some node's in-weights sum above ``1 + tol``; the message names the node (by
            label) with the largest sum, the sum, and how many nodes exceed it.

    """
    sums = in_weight_sums(graph)
    bad = sums > 1.0 + tol
    if bool(bad.any()):
        worst = int(torch.argmax(sums))
        label = graph.labels_of([worst])[0]
        raise ValueError(
            f"LT weights: in-weights of node {label!r} sum to {float(sums[worst]):.6g} > 1 "
            f"({int(bad.sum())} node(s) above 1); use assign_probabilities(graph, 'lt_weights') "
            "or rescale the weights"
        )
