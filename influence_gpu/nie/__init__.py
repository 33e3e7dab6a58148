"""Neural Influence Estimator (paper B): features and training data for influence blocking.

Lightning-free: the LightningModule lives in its own module and is not imported here.
"""

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

__all__ = [
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
