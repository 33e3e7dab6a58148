"""Compose every config group of conf/ and instantiate what it builds."""

from pathlib import Path

import pytest
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import OmegaConf

from influence_gpu import DiffusionGraph
from influence_gpu.api import MODELS
from influence_gpu.pipeline import build_graph, resolve_device
from tests.hydra_app import clean_hydra, compose_app  # noqa: F401

CONF = Path(__file__).resolve().parents[1] / "conf"


def options(group):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def make_cfg(name, overrides, tmp_path):
    return compose_app(name, overrides, tmp_path)


def resolve_all(cfg):
    """Resolve every interpolation outside the hydra node (which needs a running job)."""
    return OmegaConf.to_container(
        OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True
    )


def test_groups_exist():
    for group in (
        "graph",
        "diffusion",
        "data",
        "model",
        "selector",
        "trainer",
        "callbacks",
        "logger",
        "paths",
        "hydra",
        "experiment",
        "debug",
    ):
        assert options(group), group
    for name in ("ba_default", "file", "email_eu_core", "p2p_gnutella08", "p2p_gnutella24"):
        assert name in options("graph")


@pytest.mark.parametrize("name", ["evaluate", "train"])
def test_root_configs_compose_and_resolve(name, tmp_path):
    cfg = make_cfg(name, [], tmp_path)
    assert cfg.task_name == name
    assert cfg.paths.output_dir == str(tmp_path)
    resolve_all(cfg)  # every interpolation resolves
    assert HydraConfig.get().run.dir == str(tmp_path)


def test_ba_default_graph(tmp_path):
    cfg = make_cfg("evaluate", ["graph=ba_default", "graph.source.n=80"], tmp_path)
    g = build_graph(cfg.graph)
    assert isinstance(g, DiffusionGraph) and g.num_nodes == 80 and not g.directed
    # weighted cascade: the in-probabilities of every node with in-arcs sum to 1
    sums = torch.zeros(80).index_add_(0, g.col, g.edge_prob)
    assert torch.allclose(sums[g.in_degree() > 0], torch.ones(1))


def test_file_graph(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("# a comment\n1 2\n2 3\n3 1\n1 3\n")
    cfg = make_cfg("evaluate", ["graph=file", f"graph.path={path}"], tmp_path)
    g = build_graph(cfg.graph)
    assert g.num_nodes == 3 and g.num_edges == 4
    assert g.edge_prob is not None


@pytest.mark.dataset
@pytest.mark.parametrize(
    "name,nodes", [("email_eu_core", 1005), ("p2p_gnutella08", 6301), ("p2p_gnutella24", 26518)]
)
def test_dataset_graphs(name, nodes, tmp_path, datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    cfg = make_cfg("evaluate", [f"graph={name}"], tmp_path)
    g = build_graph(cfg.graph)
    assert g.num_nodes == nodes and g.edge_prob is not None


@pytest.mark.parametrize("option", options("diffusion"))
def test_diffusion_configs(option, tmp_path):
    cfg = make_cfg("evaluate", [f"diffusion={option}"], tmp_path)
    assert cfg.diffusion.model in MODELS
    assert cfg.diffusion.num_samples >= 1
    assert "memory_budget" in cfg.diffusion


@pytest.mark.parametrize("option", options("selector"))
def test_selector_configs_instantiate(option, tmp_path):
    cfg = make_cfg("evaluate", [f"selector@selectors.{option}={option}"], tmp_path)
    select = instantiate(cfg.selectors[option])
    e = torch.tensor([[0, 0, 0, 1], [1, 2, 3, 4]])
    g = DiffusionGraph.from_edge_index(e, num_nodes=6).with_prob(0.5)
    ids = select(
        g, 2, model="ic", num_samples=10, generator=torch.Generator().manual_seed(0), progress=False
    )
    assert len(ids) == 2 and len(set(ids)) == 2
    if option != "random":
        assert ids[0] == 0


def test_evaluate_composes_every_selector(tmp_path):
    cfg = make_cfg("evaluate", [], tmp_path)
    assert sorted(cfg.selectors) == options("selector")
    assert set(cfg.methods) <= set(cfg.selectors)


@pytest.mark.parametrize("option", options("trainer"))
def test_trainer_configs(option, tmp_path):
    cfg = make_cfg("train", [f"trainer={option}"], tmp_path)
    assert cfg.trainer._target_ == "lightning.pytorch.trainer.Trainer"
    assert cfg.trainer.default_root_dir == str(tmp_path)
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        assert option in ("gpu", "ddp")
        return
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    assert trainer.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("option", options("callbacks"))
def test_callbacks_configs(option, tmp_path):
    extra = ["callbacks.early_stopping.monitor=val/loss"] if option == "early_stopping" else []
    cfg = make_cfg("train", [f"callbacks={option}", *extra], tmp_path)
    built = [instantiate(c) for c in (cfg.callbacks or {}).values()]
    assert all(hasattr(cb, "setup") for cb in built)
    if option == "default":
        assert len(built) == 4


@pytest.mark.parametrize("option", options("logger"))
def test_logger_configs(option, tmp_path):
    cfg = make_cfg("train", [f"logger={option}"], tmp_path)
    (node,) = cfg.logger.values()
    if option == "tensorboard":
        pytest.importorskip("tensorboard")
    logger = instantiate(node)
    assert str(tmp_path) in str(logger.save_dir)


@pytest.mark.parametrize("option", options("model"))
def test_model_configs(option, tmp_path):
    cfg = make_cfg("train", [f"model={option}"], tmp_path)
    if "_target_" in cfg.model:
        # cascade models get the graph from the datamodule (the pipeline passes it)
        graph = (
            {"num_nodes": 3, "edge_index": torch.tensor([[0, 1], [2, 2]])}
            if cfg.model._target_.startswith("influence_gpu.learn.")
            else {}
        )
        assert instantiate(cfg.model, **graph) is not None


@pytest.mark.parametrize("option", options("data"))
def test_data_configs(option, tmp_path):
    cfg = make_cfg("train", [f"data={option}"], tmp_path)
    if option == "digg" and not Path(cfg.paths.data_dir, "digg_qiang2019").is_dir():
        pytest.skip("digg_qiang2019 not found under paths.data_dir")
    if "_target_" in cfg.data:
        assert instantiate(cfg.data) is not None


@pytest.mark.parametrize("option", options("experiment"))
def test_experiment_configs(option, tmp_path):
    text = (CONF / "experiment" / f"{option}.yaml").read_text()
    assert text.startswith("# @package _global_")
    if "python train.py" in text:  # training experiments (paper A) compose with train.yaml
        cfg = make_cfg("train", [f"experiment={option}"], tmp_path)
        assert "_target_" in cfg.data and "_target_" in cfg.model
        resolve_all(cfg)
        return
    cfg = make_cfg("evaluate", [f"experiment={option}"], tmp_path)
    if cfg.task == "ibm":  # paper B's blocking benchmark: the NIE's model / data / trainer nodes
        assert all("_target_" in cfg.ibm[k] for k in ("model", "data", "trainer"))
        resolve_all(cfg)
        return
    assert cfg.task_name == option
    assert cfg.task in ("select", "spread")
    assert set(cfg.methods) <= set(cfg.selectors)
    resolve_all(cfg)


@pytest.mark.parametrize("name", ["evaluate", "train"])
@pytest.mark.parametrize("option", options("debug"))
def test_debug_configs(name, option, tmp_path):
    cfg = make_cfg(name, [f"debug={option}"], tmp_path)
    assert cfg.task_name == "debug"
    assert cfg.graph.source.n <= 200
    if name == "train" and option == "fdr":
        assert cfg.trainer.fast_dev_run is True


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("not-a-device")
