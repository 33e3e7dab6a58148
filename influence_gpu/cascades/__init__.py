"""Cascade observations for learning influence (paper A): synthetic and real ``(x0, xT)`` pairs.

``CascadeDataModule`` (Lightning) is imported lazily, so ``import influence_gpu.cascades`` does
not pull in Lightning.
"""

from typing import Any

from influence_gpu.cascades.data import CascadeData, CascadeDataset, majority_accuracy
from influence_gpu.cascades.real import (
    DIGG_FILES,
    cascades_from_events,
    load_digg_qiang2019,
)
from influence_gpu.cascades.synthetic import (
    NEIGHBOURHOODS,
    lt_cascades,
    random_seed_states,
    synthetic_cascades,
)
from influence_gpu.learn.candidate_graph import (
    complete_candidate_graph,
    cooccurrence_candidate_graph,
)

__all__ = [
    "CascadeData",
    "CascadeDataset",
    "CascadeDataModule",
    "majority_accuracy",
    "synthetic_cascades",
    "lt_cascades",
    "random_seed_states",
    "NEIGHBOURHOODS",
    "cascades_from_events",
    "complete_candidate_graph",
    "cooccurrence_candidate_graph",
    "load_digg_qiang2019",
    "DIGG_FILES",
]


def __getattr__(name: str) -> Any:
    if name == "CascadeDataModule":
        from influence_gpu.cascades.datamodule import CascadeDataModule

        return CascadeDataModule
    raise AttributeError(f"module 'influence_gpu.cascades' has no attribute {name!r}")
