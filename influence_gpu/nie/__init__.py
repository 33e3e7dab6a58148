"""Neural Influence Estimator (paper B): features, training data and the estimator.

Lightning-free: :class:`NIELitModule` (:mod:`influence_gpu.nie.lit`) is imported lazily, on first
access, so ``import influence_gpu.nie`` and :class:`NIE` (:mod:`influence_gpu.nie.estimator`) do
not pull in Lightning.
"""

import importlib
from typing import Any

from influence_gpu.nie.estimator import NIE, NIEMLP, NIEEnsemble, build_nie_net
from influence_gpu.nie.features import FEATURE_NAMES, WEIGHT_RULES, NIEFeaturizer
from influence_gpu.nie.instances import (
    TRAINING_SET_VERSION,
    build_training_set,
    label_instances,
    load_training_set,
    pack_instances,
    refeaturize_training_set,
    sample_instances,
    unpack_instances,
)

_LAZY = {
    "NIELitModule": "influence_gpu.nie.lit",
}

__all__ = [
    "NIE",
    "NIEMLP",
    "NIEEnsemble",
    "NIELitModule",
    "build_nie_net",
    "FEATURE_NAMES",
    "NIEFeaturizer",
    "WEIGHT_RULES",
    "TRAINING_SET_VERSION",
    "build_training_set",
    "label_instances",
    "load_training_set",
    "pack_instances",
    "refeaturize_training_set",
    "sample_instances",
    "unpack_instances",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'influence_gpu.nie' has no attribute {name!r}")
