"""Graph layer: the CSR ``DiffusionGraph``, readers, generators and probability schemes."""

from influence_gpu.graph.datasets import (
    DATASETS,
    DatasetInfo,
    dataset_path,
    datasets_dir,
    list_datasets,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.generators import barabasi_albert, erdos_renyi, power_law, watts_strogatz
from influence_gpu.graph.neighbourhoods import hop_neighbourhood
from influence_gpu.graph.probabilities import (
    SCHEMES,
    assign_probabilities,
    check_lt_weights,
    in_weight_sums,
)
from influence_gpu.graph.readers import (
    load_graph,
    read_edgelist,
    read_gml,
    read_signed,
    read_temporal,
)

__all__ = [
    "DiffusionGraph",
    "load_graph",
    "read_edgelist",
    "read_gml",
    "read_temporal",
    "read_signed",
    "erdos_renyi",
    "barabasi_albert",
    "watts_strogatz",
    "power_law",
    "SCHEMES",
    "assign_probabilities",
    "check_lt_weights",
    "in_weight_sums",
    "DATASETS",
    "DatasetInfo",
    "dataset_path",
    "datasets_dir",
    "list_datasets",
    "hop_neighbourhood",
]
