"""Seed selection: greedy / CELF over batched spread oracles, and degree-type heuristics."""

from __future__ import annotations

import time
from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.greedy import SelectionResult, celf, celf_pp, greedy
from influence_gpu.selection.heuristics import degree, degree_discount, random_seeds
from influence_gpu.selection.oracle import Oracle, SpreadOracle, make_spread_oracle

__all__ = [
    "METHODS",
    "Oracle",
    "SelectionResult",
    "SpreadOracle",
    "celf",
    "celf_pp",
    "degree",
    "degree_discount",
    "greedy",
    "make_spread_oracle",
    "random_seeds",
    "run_selection",
]

#: Method names understood by :func:`run_selection`.
METHODS: tuple[str, ...] = ("celf", "celf_pp", "greedy", "degree", "degree_discount", "random")

_SELECTOR_KEYS = ("candidates", "progress", "batch_size")


def run_selection(
    graph: DiffusionGraph,
    k: int,
    method: str = "celf",
    *,
    model: str = "ic",
    num_samples: int = 1000,
    generator: torch.Generator | None = None,
    memory_budget: int | None = None,
    return_result: bool = False,
    **kw: Any,
) -> list[int] | SelectionResult:
    """Choose ``k`` seeds with a named method; the dispatcher behind ``select_seeds``.

    Args:
        graph: the graph (with ``edge_prob`` for the simulation-based methods).
        k: number of seeds.
        method: one of :data:`METHODS`.
        model: diffusion model of the spread oracle (``greedy`` / ``celf`` / ``celf_pp``).
        num_samples: Monte Carlo runs per oracle evaluation (``greedy`` / ``celf`` / ``celf_pp``).
        generator: random generator (oracle simulations, ``random``).
        memory_budget: bytes one oracle simulation may allocate (oracle methods; the heuristics
            ignore it).
        return_result: return the whole :class:`SelectionResult` instead of the id list.
        **kw: method options: ``candidates``, ``progress``, ``batch_size`` (CELF, CELF++) and
            the oracle's ``candidate_batch``, ``common_random_numbers`` and model options for the
            oracle methods; ``p`` for ``degree_discount``.

    Returns:
        Internal node ids in the order chosen (or the :class:`SelectionResult`).

    Raises:
        ValueError: unknown method (the message lists the known ones), ``k`` out of range.
        TypeError: an option the method does not take.
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    name = method.lower()
    if name not in METHODS:
        raise ValueError(f"unknown method {method!r}; known methods: {', '.join(METHODS)}")
    t0 = time.perf_counter()
    if name in ("greedy", "celf", "celf_pp"):
        sel_kw = {key: kw.pop(key) for key in _SELECTOR_KEYS if key in kw}
        if name == "greedy" and "batch_size" in sel_kw:
            raise TypeError("batch_size is an option of celf / celf_pp, not of greedy")
        oracle = make_spread_oracle(
            graph, model, num_samples, generator=generator, memory_budget=memory_budget, **kw
        )
        fn = {"celf": celf, "celf_pp": celf_pp, "greedy": greedy}[name]
        result = fn(graph, k, oracle, **sel_kw)
        result.extra["oracle"] = repr(oracle)
    else:
        kw.pop("progress", None)  # the heuristics are instantaneous
        if name == "degree":
            ids = degree(graph, k, **kw)
        elif name == "degree_discount":
            ids = degree_discount(graph, k, **kw)
        else:
            ids = random_seeds(graph, k, generator=generator, **kw)
        result = SelectionResult(seeds=[int(i) for i in ids.tolist()], method=name)
    result.seconds = time.perf_counter() - t0
    return result if return_result else list(result.seeds)
