"""The stable top-level functions of influence_gpu.

``simulate``, ``simulate_competitive``, ``blocked_influence`` and ``select_seeds`` validate the
user's input (seeds given as node labels, sample counts, model names), move the
graph to the requested device, make the random generator, and call the batched model functions in
:mod:`influence_gpu.diffusion` and :mod:`influence_gpu.selection`.
"""

from __future__ import annotations

import importlib
import inspect
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
from influence_gpu.validation import check_device, check_memory_budget, check_seed

__all__ = [
    "MODELS",
    "METHODS",
    "simulate",
    "simulate_competitive",
    "blocked_influence",
    "select_seeds",
    "resolve_model",
    "resolve_method",
]

#: Model name -> ``module:class`` of its :class:`~influence_gpu.diffusion.base.Diffusion`.
MODELS: dict[str, str] = {
    "ic": "influence_gpu.diffusion.base:IndependentCascade",
    "lt": "influence_gpu.diffusion.base:LinearThreshold",
    "temporal_ic": "influence_gpu.diffusion.base:TemporalIC",
    "minimum_threshold": "influence_gpu.diffusion.base:MinimumThreshold",
    "multiplication_threshold": "influence_gpu.diffusion.base:MultiplicationThreshold",
    "signed": "influence_gpu.diffusion.base:SignedFirstArrival",
}
_ALIASES = {"ict": "temporal_ic", "linear_threshold": "lt", "independent_cascade": "ic"}

#: Method name -> ``module:class`` of its selector (:mod:`influence_gpu.selection`).
METHODS: dict[str, str] = {
    "greedy": "influence_gpu.selection.greedy:Greedy",
    "celf": "influence_gpu.selection.greedy:CELF",
    "celf_pp": "influence_gpu.selection.greedy:CELFPP",
    "degree": "influence_gpu.selection.heuristics:Degree",
    "degree_discount": "influence_gpu.selection.heuristics:DegreeDiscount",
    "kshell": "influence_gpu.selection.heuristics:KShell",
    "random": "influence_gpu.selection.heuristics:RandomSeeds",
    "imm": "influence_gpu.selection.imm:IMM",
    "kt": "influence_gpu.selection.temporal:KT",
    "ktim": "influence_gpu.selection.temporal:KTIM",
    "imit": "influence_gpu.selection.temporal:IMIT",
    "tim": "influence_gpu.selection.temporal:TIM",
    "cca": "influence_gpu.selection.temporal:CCA",
    "spin": "influence_gpu.selection.community:SPIN",
    "sga": "influence_gpu.selection.community:SGA",
    "c_spin": "influence_gpu.selection.community:CSPIN",
    "c_sga": "influence_gpu.selection.community:CSGA",
    "icc": "influence_gpu.selection.rankings:ICCRanking",
    "closeness": "influence_gpu.selection.rankings:ClosenessRanking",
}


def _resolve(table: dict[str, str], what: str, name: Any, aliases: dict[str, str]) -> Any:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, got {type(name).__name__}")
    key = aliases.get(name.lower(), name.lower())
    if key not in table:
        raise ValueError(f"unknown {what} {name!r}; known {what}s: {', '.join(sorted(table))}")
    module, cls = table[key].split(":")
    return getattr(importlib.import_module(module), cls)


def resolve_model(model: str) -> Any:
    """The :class:`~influence_gpu.diffusion.base.Diffusion` class of a model name.

    Raises:
        TypeError: ``model`` is not a string.
        ValueError: unknown name (the message lists the known ones).
    """
    return _resolve(MODELS, "model", model, _ALIASES)


def resolve_method(method: str) -> Any:
    """The selector class of a method name (see :data:`METHODS`).

    Raises:
        TypeError: ``method`` is not a string.
        ValueError: unknown name (the message lists the known ones).
    """
    return _resolve(METHODS, "method", method, {})


def _check_graph(graph: Any, device: Any = None) -> DiffusionGraph:
    """The graph on the checked ``device`` (every API call's first check)."""
    if not isinstance(graph, DiffusionGraph):
        raise TypeError(
            f"graph must be a DiffusionGraph, got {type(graph).__name__}; build one with "
            "DiffusionGraph.from_edge_index / from_networkx or load_graph"
        )
    return graph.to(check_device(device))


def _check_common(seed: Any, options: dict[str, Any]) -> None:
    """The seed and the memory budget (when given), checked before any work."""
    check_seed(seed)
    if "memory_budget" in options:
        options["memory_budget"] = check_memory_budget(options["memory_budget"])


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
        ValueError: unknown model, bad seeds, ``num_samples < 1``, missing probabilities, an
            unusable ``device``, a negative ``memory_budget``.
        TypeError: a seed, ``num_samples``, ``seed`` or option of the wrong type.
        MemoryError: the call cannot fit ``memory_budget`` (refused before any work).
    """
    cls = resolve_model(model)
    _check_common(seed, model_kwargs)
    graph = _check_graph(graph, device)
    ids = as_seed_tensor(graph, seeds, "seeds")
    num_samples = check_num_samples(num_samples)
    gen = make_generator(seed, graph.device)
    return cls(num_samples=num_samples).simulate(graph, ids, generator=gen, **model_kwargs)


def _competitive_inputs(
    graph: Any, false_seeds: SeedSet, true_seeds: SeedSet, num_samples: Any, seed: Any, device: Any
) -> tuple[DiffusionGraph, torch.Tensor, torch.Tensor, int, torch.Generator]:
    """Validate the inputs of the two-cascade functions (disjoint F and T seeds)."""
    check_seed(seed)
    graph = _check_graph(graph, device)
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

    _check_common(seed, model_kwargs)
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

    _check_common(seed, model_kwargs)
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
    memory_budget: int | None = None,
    return_result: bool = False,
    **method_kwargs: Any,
) -> Any:
    """Choose ``k`` seeds with a selection method and return them in the graph's node labels.

    Args:
        graph: the graph (with probabilities, for simulation-based methods).
        k: number of seeds, ``1 <= k <= num_nodes``.
        method: one of :data:`METHODS` (``celf``, ``celf_pp``, ``greedy``, ``degree``,
            ``degree_discount``, ``kshell``, ``random``, ``imm``; paper E's ``kt``, ``ktim``,
            ``imit``, ``tim``, ``cca``; paper D's ``spin``, ``sga``, ``c_spin``, ``c_sga``, ``icc``,
            ``closeness``).
        model: diffusion model of the method (simulation- and sketch-based methods).
        num_samples: Monte Carlo runs per oracle evaluation.
        seed: integer seed or generator.
        device: where to simulate.
        memory_budget: bytes one simulator call (or IMM's sketch) may allocate.
        return_result: return the whole :class:`~influence_gpu.selection.SelectionResult`.
        **method_kwargs: the selector's constructor arguments (e.g. ``batch_size`` for CELF,
            ``eps`` / ``ell`` for IMM, ``p`` for degree discount); any other keyword goes to
            the diffusion model (e.g. ``sampler``, ``backend``).

    Returns:
        The seeds in node labels (or the :class:`SelectionResult`).

    Raises:
        ValueError: ``k`` out of range or an unknown method / model.
        TypeError: an option neither the method nor the model takes.
    """
    from influence_gpu.selection.base import check_k

    cls = resolve_method(method)
    check_seed(seed)
    memory_budget = check_memory_budget(memory_budget)
    graph = _check_graph(graph, device)
    check_k(k, graph.num_nodes)
    num_samples = check_num_samples(num_samples)
    params = inspect.signature(cls.__init__).parameters
    kw = {name: method_kwargs.pop(name) for name in list(method_kwargs) if name in params}
    if "memory_budget" in params:
        kw["memory_budget"] = memory_budget
    if "progress" not in params:
        method_kwargs.pop("progress", None)  # methods without a progress bar
    if "diffusion" in params:
        kw["diffusion"] = resolve_model(model)(
            num_samples=num_samples, memory_budget=memory_budget, **method_kwargs
        )
    if method_kwargs and "diffusion" not in params:
        raise TypeError(f"method {method!r} takes no option {next(iter(method_kwargs))!r}")
    gen = make_generator(seed, graph.device)
    result = cls(**kw).select(graph, k, generator=gen)
    return result if return_result else list(result.seeds)
