"""Reverse-reachable (RR) sets: samplers, the sketch, and greedy max coverage (DESIGN 7.2).

An RR set of a uniformly drawn root ``v`` is the set of nodes that reach ``v`` in one live-edge
world, so ``sigma(S) = n * P[S meets the RR set]`` (Borgs, Brautbar, Chayes, Lucier 2014) and seed
selection becomes max coverage over sampled sets (IMM: :class:`influence_gpu.selection.imm.IMM`).

* :class:`RRSampler` / :func:`sample_rr_sets` -- IC reverse searches, LT reverse walks and the
  temporal IC reverse latest-activation search (:mod:`influence_gpu.rr.temporal`), in
  batches of torch tensor ops (any device) or in a native C++/OpenMP kernel (CPU), bit-identical
  for the same key;
* :class:`RRSketch` -- the sets as one int32 CSR, with ``estimate`` / ``coverage`` / ``extend``;
* :func:`max_coverage` / :func:`coverage_greedy` -- greedy max coverage with exact gains and the
  OPIM-C upper bound on the optimum.
"""

from influence_gpu.rr.coverage import (
    MaxCoverageResult,
    build_inverted_index,
    coverage_greedy,
    max_coverage,
)
from influence_gpu.rr.samplers import BACKENDS, RRSampler, rr_model_of, sample_rr_sets
from influence_gpu.rr.sketch import RRSketch, sketch_nbytes

__all__ = [
    "BACKENDS",
    "MaxCoverageResult",
    "RRSampler",
    "RRSketch",
    "build_inverted_index",
    "coverage_greedy",
    "max_coverage",
    "rr_model_of",
    "sample_rr_sets",
    "sketch_nbytes",
]
