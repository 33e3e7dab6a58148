"""IMM: influence maximisation with martingales (Tang, Shi, Xiao 2015), with Chen's correction.

IMM samples RR sets (:mod:`influence_gpu.rr`) until greedy max coverage over them is a
``(1 - 1/e - eps)``-approximation with probability at least ``1 - n^-ell``, in two phases:

1. **Estimation** (their Algorithm 2): with ``eps' = sqrt(2) eps`` and

       lambda' = (2 + 2 eps' / 3) (ln C(n, k) + ell' ln n + ln log2 n) n / eps'^2,

   for ``i = 1, 2, ...`` grow one sketch to ``theta_i = lambda' / x_i`` sets, ``x_i = n / 2^i``,
   and stop at the first ``i`` where the greedy set's estimate ``n F(S_i) >= (1 + eps') x_i``; then
   ``LB = n F(S_i) / (1 + eps')`` is a lower bound of OPT (``LB = 1`` if no round stops).
2. **Selection**: ``theta = lambda* / LB`` with ``lambda* = 2 n ((1 - 1/e) alpha + beta)^2 /
   eps^2``, ``alpha = sqrt(ell' ln n + ln 2)``, ``beta = sqrt((1 - 1/e)(ln C(n, k) + ell' ln n +
   ln 2))``, and the seeds are greedy max coverage over ``theta`` sets.

``ell' = ell (1 + ln 2 / ln n)`` makes the two phases fail with total probability at most
``n^-ell`` (the paper's adjustment). W. Chen (arXiv:1808.09363, "An issue in the martingale
analysis of the influence maximization algorithm IMM") showed that reusing the estimation sets in
phase 2 breaks the martingale argument, since ``theta`` then depends on those sets; following his
fix, the final sketch is sampled **fresh**, from an independent key.

**Instance-wise certificate.** The final sketch also certifies how good the returned set is on
this instance, with the bounds of OPIM-C (Tang, Tang, Xiao, Yuan 2018, "Online processing
algorithms for influence maximization"). From the exact greedy gains,
``Lambda_u = min_i (cov(S_i) + top-k gains w.r.t. S_i) >= cov(S°)`` for the optimum ``S°``
(:func:`influence_gpu.rr.coverage.coverage_greedy`); ``S°`` is fixed before sampling, so OPIM-C's
bound applies directly:

    sigma_u = n / theta * (sqrt(Lambda_u + a_u / 2) + sqrt(a_u / 2))^2,    a_u = ln(2 / delta).

OPIM-C's lower bound of ``sigma(S)`` needs sets independent of ``S``; here ``S`` was chosen on the
same sets, so we take the same bound with a union bound over all ``C(n, k)`` seed sets
(as IMM's own analysis does):

    sigma_l = n / theta * ((sqrt(Lambda(S) + 2 a_l / 9) - sqrt(a_l / 2))^2 - a_l / 18),
    a_l = ln(2 / delta) + ln C(n, k),

with ``delta = n^-ell``. Then ``sigma(S) >= (sigma_l / sigma_u) OPT`` with probability at least
``1 - delta``; ``extra["approximation"]`` is that ratio, clipped to ``[0, 1]`` (0 means the
sketch is too small to certify anything). ``extra["coverage_ratio"] = Lambda(S) / Lambda_u`` is
the same comparison without the concentration terms.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import torch

from influence_gpu.diffusion._common import draw_key, make_generator
from influence_gpu.diffusion._runs import resolve_shard
from influence_gpu.diffusion.base import Diffusion
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.rr.coverage import coverage_greedy
from influence_gpu.rr.samplers import BACKENDS, RRSampler, rr_model_of
from influence_gpu.selection.base import (
    SelectionResult,
    Selector,
    check_graph,
    check_k,
    make_result,
)

__all__ = ["IMM", "imm_sample_sizes", "opim_bounds"]


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def imm_sample_sizes(n: int, k: int, eps: float, ell: float) -> dict[str, float]:
    """The constants of IMM for ``n`` nodes and ``k`` seeds (see the module docstring).

    Args:
        n: number of nodes (>= 2).
        k: number of seeds.
        eps: accuracy, in (0, 1).
        ell: confidence exponent (> 0) before the ``1 + ln 2 / ln n`` adjustment.

    Returns:
        ``{"ell": ell', "eps_prime": eps', "lambda_prime": lambda', "lambda_star": lambda*,
        "log_comb": ln C(n, k)}``.
    """
    log_n = math.log(n)
    ell_adj = ell * (1.0 + math.log(2.0) / log_n)
    log_comb = _log_comb(n, k)
    eps_p = math.sqrt(2.0) * eps
    lambda_p = (
        (2.0 + 2.0 * eps_p / 3.0)
        * (log_comb + ell_adj * log_n + math.log(max(math.log2(n), 1.0)))
        * n
        / eps_p**2
    )
    e1 = 1.0 - 1.0 / math.e
    alpha = math.sqrt(ell_adj * log_n + math.log(2.0))
    beta = math.sqrt(e1 * (log_comb + ell_adj * log_n + math.log(2.0)))
    lambda_s = 2.0 * n * (e1 * alpha + beta) ** 2 / eps**2
    return {
        "ell": ell_adj,
        "eps_prime": eps_p,
        "lambda_prime": lambda_p,
        "lambda_star": lambda_s,
        "log_comb": log_comb,
    }


def opim_bounds(
    n: int, theta: int, covered: float, upper_coverage: float, a_lower: float, a_upper: float
) -> tuple[float, float]:
    """OPIM-C's lower bound of ``sigma(S)`` and upper bound of OPT from coverage counts.

    Args:
        n: number of nodes.
        theta: number of sets.
        covered: sets covered by ``S``.
        upper_coverage: an upper bound on the sets the optimum covers.
        a_lower: ``ln(1 / delta_l)`` (plus any union-bound term).
        a_upper: ``ln(1 / delta_u)``.

    Returns:
        ``(sigma_lower, sigma_upper)``; the lower bound is at least 0.
    """
    scale = n / theta
    low = (math.sqrt(covered + 2.0 * a_lower / 9.0) - math.sqrt(a_lower / 2.0)) ** 2
    low = max(0.0, low - a_lower / 18.0) * scale
    up = (math.sqrt(upper_coverage + a_upper / 2.0) + math.sqrt(a_upper / 2.0)) ** 2 * scale
    return low, up


class IMM(Selector):
    """IMM seed selection over RR sets (see the module docstring).

    Args:
        diffusion: an :class:`~influence_gpu.diffusion.base.IndependentCascade` or
            :class:`~influence_gpu.diffusion.base.LinearThreshold` (``None``: IC). Only its type
            and ``memory_budget`` matter; RR sets replace Monte Carlo runs.
        eps: accuracy, in (0, 1): the guarantee is ``1 - 1/e - eps``.
        ell: confidence: the guarantee holds with probability ``1 - n^-ell`` (> 0).
        backend: RR sampler backend, ``"auto"`` (native on CPU when it builds), ``"torch"`` or
            ``"native"``.
        memory_budget: bytes a sketch may take (default: the diffusion's, else the library
            default); a run whose sketch would exceed it is refused before that sketch is
            sampled, with the estimate.
        progress: show a progress bar over the phases.
        shard: ``None``, ``"auto"`` or ``(rank, world)``: RR sets sampled across the ranks of the
            ``torch.distributed`` process group (every rank gets the one-process seeds; see
            :class:`~influence_gpu.rr.samplers.RRSampler`).

    Raises:
        TypeError: a diffusion other than IC / LT, non-numeric ``eps`` / ``ell``.
        ValueError: ``eps`` outside (0, 1), ``ell <= 0``, unknown backend.
    """

    name = "imm"

    def __init__(
        self,
        diffusion: Diffusion | None = None,
        eps: float = 0.1,
        ell: float = 1.0,
        backend: str = "auto",
        memory_budget: int | None = None,
        progress: bool = False,
        shard: Any = None,
    ) -> None:
        rr_model_of(diffusion)  # TypeError for models without RR sets
        for name, x in (("eps", eps), ("ell", ell)):
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise TypeError(f"{name} must be a number, got {x!r}")
        if not 0.0 < float(eps) < 1.0:
            raise ValueError(f"eps must lie in (0, 1), got {eps}")
        if not float(ell) > 0.0:
            raise ValueError(f"ell must be > 0, got {ell}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if memory_budget is not None and (
            isinstance(memory_budget, bool) or not isinstance(memory_budget, int)
            or memory_budget < 0
        ):
            raise ValueError(f"memory_budget must be a non-negative integer, got {memory_budget!r}")
        self.diffusion = diffusion
        self.eps = float(eps)
        self.ell = float(ell)
        self.backend = backend
        self.memory_budget = memory_budget
        self.progress = bool(progress)
        resolve_shard(shard)  # refuse a bad value now, not at select time
        self.shard = shard

    def _sampler(self, graph: DiffusionGraph, gen: torch.Generator) -> RRSampler:
        return RRSampler(
            graph, self.diffusion, key=draw_key(gen), backend=self.backend,
            memory_budget=self.memory_budget, shard=self.shard,
        )

    def select(
        self, graph: DiffusionGraph, k: int, *, generator: torch.Generator | None = None
    ) -> SelectionResult:
        """Choose ``k`` seeds with IMM.

        Args:
            graph: the graph with ``edge_prob`` (IC probabilities or LT weights).
            k: number of seeds, ``1 <= k <= num_nodes``.
            generator: torch generator (or integer seed) for the two hash keys; ``None``: fresh.

        Returns:
            :class:`~influence_gpu.selection.base.SelectionResult` with ``prefix_objective`` =
            ``n * coverage / theta`` of each prefix on the final sketch and ``extra`` holding
            ``num_rr_sets`` (theta of the final sketch), ``lower_bound`` (LB of OPT),
            ``approximation`` (the certified ratio), ``sketch_seconds`` (RR sampling, both
            phases), ``estimation_rr_sets``, ``spread_lower_bound``, ``opt_upper_bound``,
            ``coverage_ratio`` and the settings.

        Raises:
            ValueError: ``k`` out of range, missing probabilities, a sketch over the budget.
            MemoryError: the sets turned out far larger than the pilot's estimate.
        """
        from tqdm.auto import tqdm

        t0 = time.perf_counter()
        graph = check_graph(graph)
        n = graph.num_nodes
        k = check_k(k, n)
        gen = make_generator(generator, graph.device)
        if n == 1:
            return make_result(
                graph, self.name, [0], t0, prefix_objective=[1.0],
                extra={"num_rr_sets": 0, "lower_bound": 1.0, "approximation": 1.0,
                       "sketch_seconds": 0.0},
            )
        c = imm_sample_sizes(n, k, self.eps, self.ell)
        eps_p = c["eps_prime"]
        rounds = max(0, math.ceil(math.log2(n)) - 1)
        bar = tqdm(total=rounds + 1, desc="IMM", disable=not self.progress, leave=False)

        # phase 1: estimate a lower bound of OPT on one growing sketch
        t_sketch = 0.0
        est_sampler = self._sampler(graph, gen)
        sketch = est_sampler.sample(0)
        lower, est_rounds = 1.0, 0
        for i in range(1, rounds + 1):
            x = n / 2.0**i
            theta_i = math.ceil(c["lambda_prime"] / x)
            ts = time.perf_counter()
            est_sampler.extend(sketch, theta_i)
            t_sketch += time.perf_counter() - ts
            res = coverage_greedy(sketch, k, bound=False)
            est_rounds = i
            if self.progress:
                bar.update(1)
                bar.set_postfix(theta=sketch.num_sets)
            if n * res.covered[-1] / sketch.num_sets >= (1.0 + eps_p) * x:
                lower = n * res.covered[-1] / sketch.num_sets / (1.0 + eps_p)
                break
        est_sets, est_mean = sketch.num_sets, sketch.mean_size
        del sketch  # freed before the final sketch is sampled

        # phase 2 (Chen's fix): a fresh, independent sketch of theta = lambda* / LB sets
        theta = max(1, math.ceil(c["lambda_star"] / lower))
        final_sampler = self._sampler(graph, gen)
        memory = final_sampler.check_budget(theta, max(est_mean, 1.0), what="IMM final sketch")
        ts = time.perf_counter()
        final = final_sampler.sample(theta)
        final_seconds = time.perf_counter() - ts
        t_sketch += final_seconds
        t_greedy = time.perf_counter()
        res = coverage_greedy(final, k, bound=True)
        bar.update(1)
        bar.close()

        # the instance-wise certificate (module docstring)
        delta = math.exp(-self.ell * math.log(n))
        a_u = math.log(2.0 / delta)
        a_l = a_u + c["log_comb"]
        cov = res.covered[-1]
        sigma_l, sigma_u = opim_bounds(n, theta, cov, res.upper_bound, a_l, a_u)
        approximation = min(1.0, sigma_l / sigma_u) if sigma_u > 0 else 0.0
        offset = t_greedy - t0
        return make_result(
            graph,
            self.name,
            res.ids,
            t0,
            prefix_objective=[n * cv / theta for cv in res.covered],
            prefix_seconds=[offset + s for s in res.seconds],
            extra={
                "num_rr_sets": theta,
                "lower_bound": lower,
                "approximation": approximation,
                "coverage_ratio": cov / res.upper_bound if res.upper_bound else 1.0,
                "spread_lower_bound": sigma_l,
                "opt_upper_bound": sigma_u,
                "sketch_seconds": t_sketch,
                "final_sketch_seconds": final_seconds,
                "estimation_rr_sets": est_sets,
                "estimation_rounds": est_rounds,
                "mean_rr_size": final.mean_size,
                "memory_estimate": memory,
                "model": final_sampler.model,
                "backend": final_sampler.backend,
                "eps": self.eps,
                "ell": self.ell,
            },
        )

