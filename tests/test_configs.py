"""Compose every config group of conf/ and instantiate what it builds."""

from pathlib import Path

import pytest
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import OmegaConf

from influence_gpu import DiffusionGraph
from influence_gpu.api import MODELS
from influence_gpu.apps._run import build_graph, resolve_device
from influence_gpu.diffusion.base import Diffusion
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
        "task",
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
    assert cfg.diffusion.num_samples >= 1
    assert "memory_budget" in cfg.diffusion
    diffusion = instantiate(cfg.diffusion)
    assert isinstance(diffusion, Diffusion) and diffusion.name in MODELS
    assert diffusion.num_samples == cfg.diffusion.num_samples


@pytest.mark.parametrize("option", options("task"))
def test_task_configs(option, tmp_path):
    cfg = make_cfg("evaluate", [f"task={option}"], tmp_path)
    assert cfg.task._target_.startswith("influence_gpu.apps.") and cfg.task._partial_
    task = instantiate(cfg.task)
    assert callable(task) and task.func.__name__ == "run"


@pytest.mark.parametrize(
    "name,overrides,task,data",
    [
        ("evaluate", [], "select", "none"),
        ("evaluate", ["experiment=ibm_email_eu_core"], "ibm", "none"),
        ("evaluate", ["experiment=gnutella08_spread"], "spread", "none"),
        ("train", [], "fit_cascades", "lt_quickstart"),
        ("train", ["model=rwnn"], "fit_cascades", "lt_quickstart"),
        ("train", ["model=nie"], "fit_nie", "nie"),  # as the README's train.py model=nie
        ("train", ["model=nie", "data=nie_paper"], "fit_nie", "nie_paper"),
        ("train", ["experiment=ibm_nie_train"], "fit_nie", "nie"),
        ("train", ["model=none", "data=none"], "fit", "none"),
    ],
)
def test_configs_choose_the_task(name, overrides, task, data, tmp_path):
    cfg = make_cfg(name, overrides, tmp_path)
    assert cfg.hydra.runtime.choices.task == task
    assert cfg.hydra.runtime.choices.data == data


def test_evaluate_default_selectors(tmp_path):
    cfg = make_cfg("evaluate", [], tmp_path)
    assert list(cfg.selectors) == ["celf", "degree_discount", "degree", "random"]
    cfg = make_cfg("evaluate", ["selector=[imm,kshell]"], tmp_path)
    assert list(cfg.selectors) == ["imm", "kshell"]


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
        # cascade models get the graph from the datamodule (the task passes it)
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
    task = cfg.hydra.runtime.choices.task
    if task == "ibm":  # paper B's blocking benchmark: the NIE's model / data / trainer nodes
        assert all("_target_" in cfg.ibm[k] for k in ("model", "data", "trainer"))
        assert set(cfg.ibm.methods) <= set(cfg.ibm.selectors)
        for sel in cfg.ibm.selectors.values():  # built as the task builds them (NIE aside)
            built = instantiate(sel)
            assert hasattr(built if not sel.get("_partial_") else built.func, "select")
        resolve_all(cfg)
        return
    if task == "paper_c":  # paper C: one experiment function with its settings
        assert cfg.task_name == option
        assert "_target_" in cfg.paper_c.experiment and cfg.paper_c.experiment._partial_
        resolve_all(cfg)
        return
    if task in ("paper_d", "paper_e"):  # papers D and E: selectors (and models) per experiment
        node = cfg[task]
        assert set(node.methods) <= set(node.selectors)
        for sel in node.selectors.values():
            built = instantiate(sel)
            assert hasattr(built if not sel.get("_partial_") else built.func, "select")
        for diffusion in node.get("diffusions", {}).values():
            assert hasattr(instantiate(diffusion), "simulate")
        if option.endswith("_base"):  # a shared base: the network experiments name the graph
            assert OmegaConf.is_missing(cfg.graph, "path")
            return
        assert cfg.task_name == option
        resolve_all(cfg)
        return
    assert cfg.task_name == option
    assert task in ("select", "spread")
    assert len(cfg.selectors) >= 1
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
