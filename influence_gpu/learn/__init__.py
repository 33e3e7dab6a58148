"""Learning influence weights from cascades (paper A): LTNN, RWNN, sparse ``A^2``, LT/RW MIPs.

The Lightning modules (``LTNNLitModule``, ``RWNNLitModule``) and the MIP models are imported
lazily, so ``import influence_gpu.learn`` pulls in neither Lightning nor a solver.
"""

import importlib
from typing import Any

from influence_gpu.learn.candidate_graph import (
    complete_candidate_graph,
    cooccurrence_candidate_graph,
    cooccurrence_scores,
)
from influence_gpu.learn.networks import LTNN, RWNN, export_lt_graph
from influence_gpu.learn.sparse import (
    available_memory,
    check_memory,
    coalesce_edge_index,
    estimate_network_memory,
    format_bytes,
    two_hop_nnz,
    two_hop_upper_bound,
    two_hop_walks,
)

_LAZY = {
    "LTNNLitModule": "influence_gpu.learn.lit",
    "RWNNLitModule": "influence_gpu.learn.lit",
    "LTMIPModel": "influence_gpu.learn.mip.models",
    "RWMIPModel": "influence_gpu.learn.mip.models",
}

__all__ = [
    "LTNN",
    "RWNN",
    "export_lt_graph",
    "LTNNLitModule",
    "RWNNLitModule",
    "LTMIPModel",
    "RWMIPModel",
    "two_hop_walks",
    "two_hop_nnz",
    "complete_candidate_graph",
    "cooccurrence_candidate_graph",
    "cooccurrence_scores",
    "two_hop_upper_bound",
    "coalesce_edge_index",
    "estimate_network_memory",
    "available_memory",
    "check_memory",
    "format_bytes",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'influence_gpu.learn' has no attribute {name!r}")
