"""The stable top-level functions of influence_gpu.

``simulate``, ``simulate_competitive``, ``blocked_influence`` and ``select_seeds`` validate the
user's input (seeds given as node labels, sample counts, model names), move the
graph to the requested device, make the random generator, and call the batched model functions in
:mod:`influence_gpu.diffusion` and :mod:`influence_gpu.selection`.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch

from influence_gpu.diffusion._common import (
    as_seed_tensor,
    check_disjoint,
    check_num_samples,
    make_generator,
)
from influence_gpu.diffusion.results import CompetitiveResult, SpreadResult
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike, SeedSet

__all__ = ["MODELS", "simulate", "simulate_competitive", "blocked_influence", "select_seeds"]

#: Model name -> ``module:function`` of its batched simulator (imported on first use).
MODELS: dict[str, str] = {
    "ic": "influence_gpu.diffusion.ic:simulate_ic",
    "lt": "influence_gpu.diffusion.lt:simulate_lt",
    "temporal_ic": "influence_gpu.diffusion.temporal:simulate_temporal_ic",
    "minimum_threshold": "influence_gpu.diffusion.threshold:simulate_minimum_threshold",
    "multiplication_threshold": (
        "influence_gpu.diffusion.threshold:simulate_multiplication_threshold"
    ),
    "signed": "influence_gpu.diffusion.signed:simulate_signed",
}
_ALIASES = {"ict": "temporal_ic", "linear_threshold": "lt", "independent_cascade": "ic"}


def resolve_model(model: str) -> Any:
    """Return the simulator function for a model name, or raise ``ValueError`` listing them."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a string, got {type(model).__name__}")
    name = _ALIASES.get(model.lower(), model.lower())
    if name not in MODELS:
        raise ValueError(f"unknown model {model!r}; known models: {', '.join(sorted(MODELS))}")
    module, fn = MODELS[name].split(":")
    return getattr(importlib.import_module(module), fn)


def _check_graph(graph: Any) -> DiffusionGraph:
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(
            f"graph must be a DiffusionGraph, got {type(graph).__name__}; build one with "
            "DiffusionGraph.from_edge_index / from_networkx or load_graph"
        )
    return graph


def simulate(
    graph: DiffusionGraph,
    seeds: SeedSet,
    model: str = "ic",
    num_samples: int = 1000,
    seed: int | torch.Generator | None = None,
    device: DeviceLike = None,
    **model_kwargs: Any,
) -> SpreadResult:
    """Run ``num_samples`` independent diffusions from ``seeds`` at once.

    Args:
        graph: the graph, with ``edge_prob`` set (probabilities or LT weights).
        seeds: seed nodes, in the graph's node labels.
        model: one of :data:`MODELS` (``ic``, ``lt``, ``temporal_ic``, ``minimum_threshold``,
            ``multiplication_threshold``, ``signed``).
        num_samples: number of Monte Carlo runs (>= 1).
        seed: integer seed or a ``torch.Generator`` for reproducible results.
        device: where to simulate (default: the graph's device).
        **model_kwargs: passed to the model (e.g. ``memory_budget``, ``return_provenance``).

    Returns:
        :class:`~influence_gpu.diffusion.results.SpreadResult` (``ThresholdResult`` for the
        threshold models) with mean, standard error and per-node activation probability.

    Raises:
        ValueError: unknown model, bad seeds, ``num_samples < 1``, missing probabilities.
    """
    fn = resolve_model(model)
    graph = _check_graph(graph).to(device)
    ids = as_seed_tensor(graph, seeds, "seeds")
    num_samples = check_num_samples(num_samples)
    gen = make_generator(seed, graph.device)
    return fn(graph, ids, num_samples, generator=gen, **model_kwargs)


def _competitive_inputs(
    graph: Any, false_seeds: SeedSet, true_seeds: SeedSet, num_samples: Any, seed: Any, device: Any
) -> tuple[DiffusionGraph, torch.Tensor, torch.Tensor, int, torch.Generator]:
    """Validate the inputs of the two-cascade functions (disjoint F and T seeds)."""
    graph = _check_graph(graph).to(device)
    f = as_seed_tensor(graph, false_seeds, "false_seeds")
    t = as_seed_tensor(graph, true_seeds, "true_seeds")
    check_disjoint(f, t, ("false_seeds", "true_seeds"), graph)
    return graph, f, t, check_num_samples(num_samples), make_generator(seed, graph.device)


def simulate_competitive(
    graph: DiffusionGraph,
    false_seeds: SeedSet,
    true_seeds: SeedSet,
    num_samples: int = 1000,
    seed: int | torch.Generator | None = None,
    device: DeviceLike = None,
    **model_kwargs: Any,
) -> CompetitiveResult:
    """Competitive IC (misinformation F vs truth T, F wins ties), ``num_samples`` runs at once.

    Raises:
        ValueError: overlapping or duplicate seeds, ids out of range, ``num_samples < 1``.
    """
    from influence_gpu.diffusion.competitive import simulate_competitive_ic

    graph, f, t, num_samples, gen = _competitive_inputs(
        graph, false_seeds, true_seeds, num_samples, seed, device
    )
    return simulate_competitive_ic(graph, f, t, num_samples, generator=gen, **model_kwargs)


def blocked_influence(
    graph: DiffusionGraph,
    false_seeds: SeedSet,
    true_seeds: SeedSet,
    num_samples: int = 1000,
    seed: int | torch.Generator | None = None,
    device: DeviceLike = None,
    **model_kwargs: Any,
) -> float:
    """Blocked influence ``E[#F | no T] - E[#F | T seeds]`` with common random numbers (paper B).

    Both terms are evaluated on the same sampled live-edge worlds, which removes most of the
    variance of the difference.
    """
    from influence_gpu.diffusion.competitive import estimate_blocked_influence

    graph, f, t, num_samples, gen = _competitive_inputs(
        graph, false_seeds, true_seeds, num_samples, seed, device
    )
    return float(
        estimate_blocked_influence(graph, f, t, num_samples, generator=gen, **model_kwargs).mean
    )


def select_seeds(
    graph: DiffusionGraph,
    k: int,
    method: str = "celf",
    *,
    model: str = "ic",
    num_samples: int = 1000,
    seed: int | torch.Generator | None = None,
    device: DeviceLike = None,
    **method_kwargs: Any,
) -> list:
    """Choose ``k`` seeds with a selection method and return them in the graph's node labels.

    Args:
        graph: the graph (with probabilities, for simulation-based methods).
        k: number of seeds, ``1 <= k <= num_nodes``.
        method: ``celf``, ``greedy``, ``degree``, ``degree_discount`` or ``random``.
        model: diffusion model of the spread oracle (simulation-based methods).
        num_samples: Monte Carlo runs per oracle evaluation.
        seed: integer seed or generator.
        device: where to simulate.
        **method_kwargs: passed to the method.

    Raises:
        ValueError: ``k`` out of range or an unknown method.
    """
    from influence_gpu.selection import run_selection

    graph = _check_graph(graph).to(device)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k < 1 or k > graph.num_nodes:
        raise ValueError(f"k must be between 1 and num_nodes={graph.num_nodes}, got {k}")
    num_samples = check_num_samples(num_samples)
    gen = make_generator(seed, graph.device)
    ids = run_selection(
        graph, k, method, model=model, num_samples=num_samples, generator=gen, **method_kwargs
    )
    return graph.labels_of(ids)
