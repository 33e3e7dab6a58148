"""Instances of the signed first-arrival problem (paper C): graphs, delays, costs, penalties.

Paper C chooses seeds on an undirected signed graph where crossing edge ``{i, j}`` takes ``d_ij``
and flips the message on a negative edge; a seed costs ``f_i`` and a node that ends in the flipped
state costs ``C_i`` (DESIGN 7.5). This module builds such instances; the objective and the solvers
live in :mod:`influence_gpu.selection.signed`.

* :func:`random_signed_graph` - a connected undirected signed graph with ``n`` nodes, an edge
  density, a share of negative edges and delays drawn uniformly from a range, seeded.
* :func:`random_signed_instance` - the same graph plus send costs and penalties drawn uniformly.
* :func:`signed_dataset_instance` - an undirected view of a shared signed data set
  (``soc-sign-bitcoinotc``, ``soc-sign-bitcoinalpha``, ``soc-sign-Slashdot090221``,
  ``soc-sign-epinions``, through :func:`~influence_gpu.graph.readers.load_graph`) with drawn
  delays, costs and penalties.
* :func:`node_costs` - one value per node from a number, a tensor, a node attribute (a mapping
  label -> value) or a rule (``constant``, ``uniform`` range, ``degree``-proportional).

All randomness comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
instance. Delays are stored as float32 on the graph (``edge_delay``), so every solver reads the
same rounded values.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike

__all__ = [
    "COST_RULES",
    "SIGN_RULES",
    "SignedInstance",
    "node_costs",
    "random_signed_graph",
    "random_signed_instance",
    "signed_dataset_instance",
]

#: Rules accepted by :func:`node_costs` under the ``rule`` key.
COST_RULES = ("constant", "uniform", "degree")
#: How :func:`signed_dataset_instance` signs an edge rated in both directions.
SIGN_RULES = ("negative", "positive")


@dataclass
class SignedInstance:
    """One instance of paper C's problem.

    Attributes:
        name: a short identifier (used in benchmark records).
        graph: undirected signed graph (``edge_sign``, ``edge_delay``; both arcs of every edge).
        send_cost: ``[n]`` float64 cost ``f_i`` of making node ``i`` a seed.
        penalty: ``[n]`` float64 penalty ``C_i`` paid when node ``i`` ends in the flipped state.
        params: the parameters the instance was drawn with.
    """

    name: str
    graph: DiffusionGraph
    send_cost: torch.Tensor
    penalty: torch.Tensor
    params: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- checks
def _check_int(x: Any, name: str, lo: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < lo:
        raise ValueError(f"{name} must be at least {lo}, got {x}")
    return int(x)


def _check_unit(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0.0 <= float(x) <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {x!r}")
    return float(x)


def _check_range(r: Any, name: str) -> tuple[float, float]:
    """``(low, high)`` with ``0 <= low <= high < inf``."""
    try:
        low, high = (float(v) for v in r)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {r!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"{name} must satisfy 0 <= low <= high (finite), got {r!r}")
    return low, high


def _rng(seed: Any) -> np.random.Generator:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return np.random.default_rng(seed)


def _uniform(rng: np.random.Generator, r: tuple[float, float], size: int) -> np.ndarray:
    low, high = r
    return np.full(size, low) if low == high else rng.uniform(low, high, size)


# ---------------------------------------------------------------------------------- costs
def _neighbour_counts(graph: DiffusionGraph) -> np.ndarray:
    """Distinct neighbours of every node, arcs in either direction."""
    n = graph.num_nodes
    src = graph.src.cpu().numpy()
    dst = graph.col.cpu().numpy()
    key = np.unique(np.minimum(src, dst) * n + np.maximum(src, dst))
    return np.bincount(key // n, minlength=n) + np.bincount(key % n, minlength=n)


def node_costs(graph: DiffusionGraph, spec: Any, *, name: str = "cost") -> torch.Tensor:
    """One non-negative value per node (send costs ``f_i`` or penalties ``C_i`` of paper C).

    ``spec`` is one of:

    * a number: the same value for every node;
    * a tensor / array / sequence of ``num_nodes`` values, in internal node order;
    * a mapping with a ``rule`` key (a Hydra config node works):
      ``{"rule": "constant", "value": v}``;
      ``{"rule": "uniform", "low": a, "high": b, "seed": s}`` (``U[a, b]`` per node, drawn with
      ``numpy.random.default_rng(s)``, ``s`` defaults to 0);
      ``{"rule": "degree", "scale": c, "offset": o}`` (``o + c * deg(i)``, ``deg`` = number of
      distinct neighbours; ``c`` defaults to 1, ``o`` to 0);
    * any other mapping: a node attribute, label -> value, that must cover every node (e.g.
      ``networkx.get_node_attributes(G, "cost")``).

    Args:
        graph: the graph the values are for.
        spec: the values or the rule, as above.
        name: argument name used in error messages (``"send_cost"``, ``"penalty"``).

    Returns:
        ``[num_nodes]`` float64 tensor on CPU.

    Raises:
        ValueError: wrong length, a node missing from a mapping, an unknown rule or rule key,
            a negative / non-finite value (each message names ``name``).
        TypeError: a spec of an unsupported type.

    Shapes:
        output ``[num_nodes]``.
    """
    n = graph.num_nodes
    if isinstance(spec, bool):
        raise TypeError(f"{name} must be a number, a tensor, a mapping or a rule, got {spec!r}")
    if isinstance(spec, numbers.Real):
        values = np.full(n, float(spec))
    elif isinstance(spec, Mapping) and "rule" in spec:
        values = _cost_rule(graph, dict(spec), name)
    elif isinstance(spec, Mapping):
        ids = graph.index_of(list(spec.keys()), name=name).cpu().numpy()
        values = np.full(n, np.nan)
        values[ids] = [float(v) for v in spec.values()]
        if np.isnan(values).any():
            missing = graph.labels_of([int(np.flatnonzero(np.isnan(values))[0])])[0]
            raise ValueError(f"{name} has no value for node {missing!r}")
    elif isinstance(spec, (torch.Tensor, np.ndarray, Sequence)) and not isinstance(spec, str):
        t = spec.detach().cpu() if isinstance(spec, torch.Tensor) else spec
        values = np.asarray(t, dtype=np.float64).reshape(-1)
        if values.size != n:
            raise ValueError(f"{name} has {values.size} entries but the graph has {n} nodes")
    else:
        raise TypeError(f"{name} must be a number, a tensor, a mapping or a rule, got {spec!r}")
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        raise ValueError(
            f"{name} must be finite and non-negative, found {values[bad][0]!r} "
            f"at node {graph.labels_of([int(np.flatnonzero(bad)[0])])[0]!r}"
        )
    return torch.from_numpy(values.astype(np.float64))


def _cost_rule(graph: DiffusionGraph, spec: dict[str, Any], name: str) -> np.ndarray:
    rule = spec.pop("rule")
    allowed = {"constant": {"value"}, "uniform": {"low", "high", "seed"},
               "degree": {"scale", "offset"}}
    if rule not in allowed:
        raise ValueError(f"{name}: rule must be one of {COST_RULES}, got {rule!r}")
    extra = set(spec) - allowed[rule]
    if extra:
        raise ValueError(
            f"{name}: unknown key(s) {sorted(extra)} for rule {rule!r} "
            f"(allowed: {sorted(allowed[rule])})"
        )
    n = graph.num_nodes
    if rule == "constant":
        if "value" not in spec:
            raise ValueError(f"{name}: rule 'constant' needs a 'value'")
        return np.full(n, float(spec["value"]))
    if rule == "uniform":
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"{name}: rule 'uniform' needs 'low' and 'high'")
        r = _check_range((spec["low"], spec["high"]), f"{name} (low, high)")
        return _uniform(_rng(spec.get("seed", 0)), r, n)
    scale, offset = float(spec.get("scale", 1.0)), float(spec.get("offset", 0.0))
    return offset + scale * _neighbour_counts(graph).astype(np.float64)


# ---------------------------------------------------------------------------------- graphs
def _random_edges(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m`` distinct undirected pairs ``u < v`` forming a connected graph on ``n`` nodes.

    A uniformly random recursive tree on a random node order (node ``perm[i]`` joins
    ``perm[j]``, ``j`` uniform in ``[0, i)``) makes the graph connected; the other ``m - n + 1``
    pairs are drawn uniformly from the pairs not yet used.
    """
    perm = rng.permutation(n)
    if n > 1:
        parent = perm[(rng.random(n - 1) * np.arange(1, n)).astype(np.int64)]
        child = perm[1:]
    else:
        parent = child = np.zeros(0, dtype=np.int64)
    u, v = np.minimum(parent, child), np.maximum(parent, child)
    keys = np.sort(u * n + v)
    need = m - keys.size
    pairs = n * (n - 1) // 2
    if need > 0 and 2 * m >= pairs:  # dense: enumerate the free pairs
        iu, ju = np.triu_indices(n, 1)
        free = np.setdiff1d(iu.astype(np.int64) * n + ju, keys, assume_unique=True)
        keys = np.sort(np.concatenate([keys, rng.choice(free, size=need, replace=False)]))
    while need > 0:  # sparse: rejection sampling in batches
        a = rng.integers(0, n, 2 * need + 16)
        b = rng.integers(0, n, 2 * need + 16)
        ok = a != b
        cand = np.minimum(a[ok], b[ok]) * n + np.maximum(a[ok], b[ok])
        cand = np.setdiff1d(np.unique(cand), keys, assume_unique=True)
        cand = rng.permutation(cand)[:need]
        keys = np.sort(np.concatenate([keys, cand]))
        need = m - keys.size
    return keys // n, keys % n


def _draw_graph(
    n: int,
    density: float,
    negative_share: float,
    delay_range: tuple[float, float],
    rng: np.random.Generator,
    device: DeviceLike,
) -> DiffusionGraph:
    pairs = n * (n - 1) // 2
    m = min(pairs, max(n - 1, int(round(density * pairs))))
    u, v = _random_edges(n, m, rng)
    sign = np.ones(m, dtype=np.int64)
    sign[rng.permutation(m)[: int(round(negative_share * m))]] = -1
    delay = _uniform(rng, delay_range, m)
    g = DiffusionGraph.from_edge_index(
        torch.from_numpy(np.stack([u, v])), num_nodes=n, edge_sign=torch.from_numpy(sign),
        edge_delay=torch.from_numpy(delay), directed=False, source="random_signed_graph",
    )
    return g.to(device) if device is not None else g


def random_signed_graph(
    n: int,
    density: float,
    negative_share: float = 0.3,
    delay_range: Sequence[float] = (1.0, 10.0),
    *,
    seed: int | None = None,
    device: DeviceLike = None,
) -> DiffusionGraph:
    """A connected undirected signed graph with random delays (paper C's random instances).

    The graph has ``m = max(n - 1, round(density * n (n - 1) / 2))`` edges (capped at all pairs):
    a random spanning tree plus uniformly drawn extra pairs. ``round(negative_share * m)`` edges,
    chosen uniformly, are negative; every edge gets a delay ``U[low, high]`` (the same on both
    arcs).

    Args:
        n: number of nodes (>= 1).
        density: share of the ``n (n - 1) / 2`` node pairs that are edges, in [0, 1] (the
            spanning tree is kept when the share asks for fewer than ``n - 1`` edges).
        negative_share: share of negative edges, in [0, 1].
        delay_range: ``(low, high)`` delays, ``0 <= low <= high`` (the MILPs of
            :mod:`influence_gpu.selection.signed` need ``low > 0``).
        seed: random seed (``None``: fresh randomness).
        device: where to put the graph (default CPU).

    Returns:
        The graph, ``directed=False``, with ``edge_sign`` and ``edge_delay``.

    Raises:
        ValueError / TypeError: bad ``n``, ``density``, ``negative_share``, ``delay_range`` or
            ``seed``.
    """
    n = _check_int(n, "n", 1)
    density = _check_unit(density, "density")
    negative_share = _check_unit(negative_share, "negative_share")
    dr = _check_range(delay_range, "delay_range")
    return _draw_graph(n, density, negative_share, dr, _rng(seed), device)


def random_signed_instance(
    n: int,
    density: float,
    negative_share: float = 0.3,
    delay_range: Sequence[float] = (1.0, 10.0),
    cost_range: Sequence[float] = (1.0, 10.0),
    penalty_range: Sequence[float] = (1.0, 10.0),
    *,
    seed: int | None = None,
    device: DeviceLike = None,
) -> SignedInstance:
    """A random instance: :func:`random_signed_graph` plus uniform send costs and penalties.

    Args:
        n: number of nodes.
        density: edge density in [0, 1] (see :func:`random_signed_graph`).
        negative_share: share of negative edges in [0, 1].
        delay_range: ``(low, high)`` of the uniform delays.
        cost_range: ``(low, high)`` of the uniform send costs ``f_i``.
        penalty_range: ``(low, high)`` of the uniform penalties ``C_i``.
        seed: random seed; graph, costs and penalties come from one generator.
        device: where to put the graph.

    Returns:
        The :class:`SignedInstance` (costs as float64 CPU tensors).

    Raises:
        ValueError / TypeError: a bad argument (named in the message).
    """
    n = _check_int(n, "n", 1)
    density = _check_unit(density, "density")
    negative_share = _check_unit(negative_share, "negative_share")
    dr = _check_range(delay_range, "delay_range")
    cr = _check_range(cost_range, "cost_range")
    pr = _check_range(penalty_range, "penalty_range")
    rng = _rng(seed)
    g = _draw_graph(n, density, negative_share, dr, rng, device)
    f = torch.from_numpy(_uniform(rng, cr, n))
    c = torch.from_numpy(_uniform(rng, pr, n))
    params = {"n": n, "density": density, "negative_share": negative_share,
              "delay_range": dr, "cost_range": cr, "penalty_range": pr, "seed": seed}
    return SignedInstance(f"random_n{n}_s{seed}", g, f, c, params)


def signed_dataset_instance(
    name_or_path: str | os.PathLike,
    *,
    delay_range: Sequence[float] = (1.0, 10.0),
    cost_range: Sequence[float] = (1.0, 10.0),
    penalty_range: Sequence[float] = (1.0, 10.0),
    sign_rule: str = "negative",
    seed: int | None = 0,
) -> SignedInstance:
    """Undirected view of a signed data set, with drawn delays, send costs and penalties.

    The file is read with :func:`~influence_gpu.graph.readers.load_graph` (a shared data set
    name such as ``"soc-sign-bitcoinotc"``, or a path; zero ratings are skipped with a warning).
    Every node pair joined by an arc in either direction becomes one undirected edge (both arcs
    stored, as DESIGN section 3 says for undirected inputs) with one sign and one delay: a pair
    rated in both directions with different signs is negative under ``sign_rule="negative"``
    (distrust in either direction wins) and positive under ``"positive"``.

    Args:
        name_or_path: data set name or file.
        delay_range: ``(low, high)`` of the uniform delays, one per undirected edge.
        cost_range: ``(low, high)`` of the uniform send costs.
        penalty_range: ``(low, high)`` of the uniform penalties.
        sign_rule: ``"negative"`` or ``"positive"``, as above.
        seed: random seed of the delays, costs and penalties.

    Returns:
        The :class:`SignedInstance`; node labels are the data set's user ids.

    Raises:
        FileNotFoundError: unknown data set / missing file.
        ValueError: a bad argument, or a file without signs.
    """
    import warnings

    from influence_gpu.graph.readers import load_graph

    if sign_rule not in SIGN_RULES:
        raise ValueError(f"sign_rule must be one of {SIGN_RULES}, got {sign_rule!r}")
    dr = _check_range(delay_range, "delay_range")
    cr = _check_range(cost_range, "cost_range")
    pr = _check_range(penalty_range, "penalty_range")
    rng = _rng(seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*self-loop")
        raw = load_graph(name_or_path, directed=True, zero_sign="skip")
    if raw.edge_sign is None:
        raise ValueError(f"{name_or_path}: the file has no signs (not a signed edge list)")
    n = raw.num_nodes
    src, dst = raw.src.cpu().numpy(), raw.col.cpu().numpy()
    key = np.minimum(src, dst) * n + np.maximum(src, dst)
    sign = raw.edge_sign.cpu().numpy().astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    merged = np.full(uniq.size, 1 if sign_rule == "negative" else -1, dtype=np.int64)
    if sign_rule == "negative":
        np.minimum.at(merged, inverse, sign)
    else:
        np.maximum.at(merged, inverse, sign)
    delay = _uniform(rng, dr, uniq.size)
    g = DiffusionGraph.from_edge_index(
        torch.from_numpy(np.stack([uniq // n, uniq % n])), num_nodes=n,
        edge_sign=torch.from_numpy(merged), edge_delay=torch.from_numpy(delay),
        node_labels=raw.node_labels, directed=False, source=str(name_or_path),
    )
    f = torch.from_numpy(_uniform(rng, cr, n))
    c = torch.from_numpy(_uniform(rng, pr, n))
    params = {"dataset": str(name_or_path), "delay_range": dr, "cost_range": cr,
              "penalty_range": pr, "sign_rule": sign_rule, "seed": seed}
    return SignedInstance(str(name_or_path), g, f, c, params)
