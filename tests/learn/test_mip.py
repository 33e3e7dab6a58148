"""LT / RW learning MIPs (paper A): hand-checkable optima, constraints, time limits, parallelism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from influence_gpu import typing as ig_typing
from influence_gpu.graph.probabilities import check_lt_weights
from influence_gpu.learn.mip import (
    LTMIPModel,
    NodeProblem,
    RWMIPModel,
    cascade_accuracy,
    solve_node_problem,
)
from influence_gpu.learn.mip import problem as mip_mod

THETA, EPS = 0.5, 1e-4
SOLVERS = ["scipy"] + (["highspy"] if ig_typing.WITH_HIGHS else [])


def fork_instance():
    """Arcs 0 -> 2 and 1 -> 2; node 2 activates whenever 0 or 1 is active at T0.

    LT needs w_02 >= 0.5001 and w_12 >= 0.5001 to get all three "one source" cascades right,
    but w_02 + w_12 <= 1: one of cascades 0 and 1 must be wrong, and one error is reachable
    (w = 0.5001 for one source), so node 2's optimum is 1 error in 4 cascades. RW has no sum
    constraint and fits all four.
    """
    ei = torch.tensor([[0, 1], [2, 2]])
    x0 = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=torch.float)
    xT = torch.tensor([[1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=torch.float)
    return ei, x0, xT


def small_random(n=8, k=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    adj = torch.rand(n, n, generator=gen) < 0.4
    adj.fill_diagonal_(False)
    ei = adj.nonzero().T
    x0 = (torch.rand(k, n, generator=gen) < 0.35).float()
    xT = torch.maximum(x0, (torch.rand(k, n, generator=gen) < 0.6).float())
    return ei, x0, xT


@pytest.mark.parametrize("solver", SOLVERS)
def test_lt_fork_hand_optimum(solver):
    ei, x0, xT = fork_instance()
    m = LTMIPModel(ei, 3, executor="serial", solver=solver, progress=False)
    out = m.fit_tensors(x0, xT)
    r2 = m.node_results[2]
    assert r2.status == "optimal" and r2.num_cascades == 4 and r2.num_weights == 2
    assert r2.errors == 1 and r2.objective == pytest.approx(0.25)
    assert r2.mip_gap == pytest.approx(0.0, abs=1e-9)
    assert [r.status for r in m.node_results[:2]] == ["no_candidates", "no_candidates"]
    w = m.weights.to_dense()
    assert float(w[:, 2].sum()) <= 1.0 + 1e-7  # the LT sum constraint (1e)
    assert float(w[0, 2]) >= EPS - 1e-9 and float(w[1, 2]) >= EPS - 1e-9  # (1f)
    pred = m.predict(x0)
    # cascade 2 (both sources) and 3 (none) right; exactly one of cascades 0 and 1 wrong
    assert pred[2, 2] == 1 and pred[3, 2] == 0
    assert int((pred[:2, 2] != xT[:2, 2]).sum()) == 1
    # 12 pairs, 1 wrong; 8 pairs inactive at T0 (node 2: 4, nodes 0 and 1: 2 each), 1 wrong
    assert out["train/accuracy"] == pytest.approx(11 / 12)
    assert out["train/accuracy_inactive"] == pytest.approx(7 / 8)
    assert out["train/objective"] == pytest.approx(1 / 8)
    assert out["prediction_mismatch"] == 0


@pytest.mark.parametrize("solver", SOLVERS)
def test_rw_fits_fork_without_sum_constraint(solver):
    ei, x0, xT = fork_instance()
    m = RWMIPModel(ei, 3, executor="serial", solver=solver, progress=False)
    out = m.fit_tensors(x0, xT)
    assert m.node_results[2].objective == 0.0 and out["train/accuracy"] == 1.0
    w = m.weights.to_dense()
    assert float(w[0, 2]) >= THETA + EPS - 1e-7 and float(w[1, 2]) >= THETA + EPS - 1e-7
    assert float(w[:, 2].sum()) > 1.0  # what LT forbids


@pytest.mark.parametrize("solver", SOLVERS)
def test_rw_uses_two_hop_paths(solver):
    # path 0 -> 1 -> 2: node 2 activates when 0 was active, while 1 was inactive at T0
    ei = torch.tensor([[0, 1], [1, 2]])
    x0 = torch.tensor([[1, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=torch.float)
    xT = torch.tensor([[1, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=torch.float)
    lt = LTMIPModel(ei, 3, executor="serial", solver=solver, progress=False)
    lt.fit_tensors(x0, xT)
    assert lt.node_results[2].errors == 2  # no active in-neighbour of 2: LT cannot see it
    rw = RWMIPModel(ei, 3, executor="serial", solver=solver, progress=False)
    rw.fit_tensors(x0, xT)
    assert rw.num_weights == 3  # arcs (0,1), (1,2) and the two-hop term (0,2)
    assert rw.node_results[2].num_weights == 2 and rw.node_results[2].errors == 0
    w2 = rw.weights_two_hop.to_dense()
    assert float(w2[0, 2]) >= THETA + EPS - 1e-7
    assert torch.equal(rw.predict(x0), xT)


def test_rw_big_m_is_path_count_sum():
    ei = torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]])  # two 2-walks 0 -> 3
    rw = RWMIPModel(ei, 4, executor="serial", progress=False)
    (prob,) = list(rw._problems(np.zeros((1, 4)), np.zeros((1, 4)), [3]))
    # terms into 3: arcs (1,3), (2,3) (count 1 each) and the walk 0 -> 3 with count 2
    assert sorted(prob.features.shape) == [1, 3]
    assert prob.big_m == pytest.approx(1 + 1 + 2 - THETA)
    assert not prob.sum_le_one and prob.lower == 0.0
    lt = LTMIPModel(ei, 4, executor="serial", progress=False)
    (prob,) = list(lt._problems(np.zeros((1, 4)), np.zeros((1, 4)), [3]))
    assert prob.big_m == pytest.approx(1 - THETA) and prob.sum_le_one and prob.lower == EPS


def test_only_inactive_cascades_enter_and_active_stay_active():
    ei, x0, xT = fork_instance()
    x0[0, 2] = 1.0  # node 2 active at T0 in cascade 0: that cascade leaves its MIP
    m = LTMIPModel(ei, 3, executor="serial", progress=False)
    m.fit_tensors(x0, xT)
    assert m.node_results[2].num_cascades == 3
    pred = m.predict(x0)
    assert bool((pred >= x0).all())


def hard_problem(seed=0, k=160, v=14):
    """Random LT node problem like paper A's synthetic ones (takes HiGHS seconds to close)."""
    rng = np.random.default_rng(seed)
    feats = (rng.random((k, v)) < 0.35).astype(np.float64)
    target = (rng.random(k) < 0.8).astype(np.float64)
    return NodeProblem(
        node=0,
        features=feats,
        target=target,
        lower=EPS,
        big_m=1 - THETA,
        sum_le_one=True,
        theta=THETA,
        eps=EPS,
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_reported(solver):
    prob = hard_problem()
    w, res = solve_node_problem(prob, solver=solver, time_limit=0.02, mip_rel_gap=0.0)
    assert res.status.startswith("time_limit")
    assert res.mip_gap > 0 or math.isnan(res.mip_gap)
    # the returned weights are feasible and the reported objective is theirs
    assert w.shape == (14,) and (w >= EPS - 1e-9).all() and w.sum() <= 1 + 1e-7
    pred = prob.features @ w >= THETA + EPS / 2
    assert res.errors == int((pred != (prob.target > 0.5)).sum())
    assert res.objective == pytest.approx(res.errors / 160)


def test_model_reports_time_limited_nodes():
    prob = hard_problem()
    n = prob.features.shape[1] + 1  # sources 0..13 -> target 14
    ei = torch.stack([torch.arange(n - 1), torch.full((n - 1,), n - 1)])
    x0 = torch.zeros(160, n)
    x0[:, : n - 1] = torch.from_numpy(prob.features).float()
    xT = x0.clone()
    xT[:, n - 1] = torch.from_numpy(prob.target).float()
    m = LTMIPModel(ei, n, time_limit=0.02, mip_rel_gap=0.0, executor="serial", progress=False)
    out = m.fit_tensors(x0, xT)
    assert out["nodes_time_limit"] == 1 and m.node_results[n - 1].status.startswith("time_limit")
    assert "time_limit" in m.format_node_table()


@pytest.mark.parametrize("cls", [LTMIPModel, RWMIPModel])
def test_parallel_equals_serial(cls):
    ei, x0, xT = small_random()
    kw = dict(time_limit=60.0, mip_rel_gap=0.0, progress=False, solver="scipy")
    serial = cls(ei, 8, executor="serial", **kw)
    s_out = serial.fit_tensors(x0, xT)
    for executor in ("process", "thread"):
        par = cls(ei, 8, executor=executor, workers=2, **kw)
        p_out = par.fit_tensors(x0, xT)
        assert [r.status for r in par.node_results] == [r.status for r in serial.node_results]
        assert [r.errors for r in par.node_results] == [r.errors for r in serial.node_results]
        assert torch.allclose(par.term_weight, serial.term_weight, atol=1e-7)
        assert torch.equal(par.predict(x0), serial.predict(x0))
        assert p_out["train/accuracy"] == s_out["train/accuracy"]
    assert s_out["nodes_optimal"] + s_out["status_counts"].get("no_candidates", 0) == 8


@pytest.mark.skipif(not ig_typing.WITH_HIGHS, reason="highspy not installed")
def test_highspy_and_scipy_reach_the_same_optimum():
    ei, x0, xT = small_random(seed=3)
    objs = {}
    for solver in ("scipy", "highspy"):
        m = LTMIPModel(ei, 8, mip_rel_gap=0.0, executor="serial", solver=solver, progress=False)
        m.fit_tensors(x0, xT)
        assert all(r.status in ("optimal", "no_candidates", "no_data") for r in m.node_results)
        objs[solver] = [r.errors for r in m.node_results]
    assert objs["scipy"] == objs["highspy"]


def test_auto_solver_falls_back_to_scipy(monkeypatch):
    monkeypatch.setattr(ig_typing, "WITH_HIGHS", False)
    ei, x0, xT = fork_instance()
    m = LTMIPModel(ei, 3, executor="serial", progress=False)
    assert m.fit_tensors(x0, xT)["solver"] == "scipy"
    with pytest.raises(ValueError, match="highspy"):
        LTMIPModel(ei, 3, solver="highspy", progress=False)._resolve_solver()


def test_checkpoint_resumes_without_solving(tmp_path, monkeypatch):
    ei, x0, xT = small_random(seed=1)
    path = tmp_path / "nodes.pt"
    first = LTMIPModel(ei, 8, executor="serial", progress=False, checkpoint_path=str(path))
    first.fit_tensors(x0, xT)
    assert path.exists()

    def boom(*args, **kwargs):
        raise AssertionError("solved a node that the checkpoint holds")

    monkeypatch.setattr(mip_mod, "solve_node_problem", boom)
    again = LTMIPModel(ei, 8, executor="serial", progress=False, checkpoint_path=str(path))
    again.fit_tensors(x0, xT)
    assert torch.equal(again.term_weight, first.term_weight)
    # other data: the checkpoint is ignored (with a warning), so the patched solver is called
    with pytest.warns(UserWarning, match="another problem"), pytest.raises(AssertionError):
        LTMIPModel(ei, 8, executor="serial", progress=False, checkpoint_path=str(path)).fit_tensors(
            x0, 1 - (1 - xT) * (1 - x0[[1]])
        )


def test_fit_with_datamodule_and_export():
    pytest.importorskip("lightning")
    from influence_gpu.cascades import CascadeData, CascadeDataModule

    ei, x0, xT = small_random(k=50, seed=2)
    dm = CascadeDataModule(CascadeData(x0, xT, ei, 8), train_fraction=0.8, split_seed=0)
    m = LTMIPModel(dm.edge_index, dm.num_nodes, executor="serial", progress=False)
    out = m.fit(dm)
    assert out["num_train"] == 40 and out["num_test"] == 10
    te = dm.test_dataset
    assert out["test/accuracy"] == pytest.approx(cascade_accuracy(m.predict(te.x0), te.x0, te.xT))
    g = m.to_diffusion_graph()
    check_lt_weights(g)  # in-weights sum to at most 1
    assert g.num_edges == ei.shape[1]
    rw = RWMIPModel(dm.edge_index, dm.num_nodes, executor="serial", progress=False)
    rw.fit(dm)
    check_lt_weights(rw.to_diffusion_graph())


def test_cascade_accuracy_definitions():
    x0 = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    xT = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    pred = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    assert cascade_accuracy(pred, x0, xT) == pytest.approx(2 / 4)
    assert cascade_accuracy(pred, x0, xT, include_initial=False) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one shape"):
        cascade_accuracy(pred[:, :3], x0, xT)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"theta": 1.2}, "theta"),
        ({"eps": 0.6}, "eps"),
        ({"executor": "gpu"}, "executor"),
        ({"solver": "gurobi"}, "solver"),
        ({"time_limit": 0}, "time_limit"),
        ({"workers": 0}, "workers"),
        ({"eps_w": 0.6}, "eps_w"),
    ],
)
def test_bad_arguments(kwargs, match):
    ei, _, _ = fork_instance()
    with pytest.raises(ValueError, match=match):
        LTMIPModel(ei, 3, **kwargs)


def test_bad_states_and_edges():
    ei, x0, xT = fork_instance()
    with pytest.raises(ValueError, match="edge_index"):
        LTMIPModel(torch.tensor([[0], [5]]), 3)
    m = LTMIPModel(ei, 3, executor="serial", progress=False)
    with pytest.raises(ValueError, match="train states"):
        m.fit_tensors(x0[:, :2], xT[:, :2])
    with pytest.raises(ValueError, match="top_m"):
        RWMIPModel(ei, 3, top_m=0)


@pytest.mark.parametrize("cls", [LTMIPModel, RWMIPModel])
def test_save_load_round_trip(cls, tmp_path):
    ei, x0, xT = small_random(seed=5)
    kw = dict(time_limit=60.0, progress=False, solver="scipy", executor="serial")
    if cls is RWMIPModel:
        kw["top_m"] = 3
    m = cls(ei, 8, **kw)
    m.fit_tensors(x0, xT)
    assert bool((m.term_weight != m.eps_w).any())  # fitted weights differ from the start value
    path = m.save(tmp_path / "sub" / "model.pt")
    back = cls.load(path)
    assert torch.equal(back.term_weight, m.term_weight)
    assert torch.equal(back.edge_index, m.edge_index)
    assert torch.equal(back.predict(x0), m.predict(x0))
    assert back.theta == m.theta and back.eps_w == m.eps_w
    assert back.metrics["train/accuracy"] == m.metrics["train/accuracy"]
    if cls is RWMIPModel:
        assert back.top_m == 3
    other = RWMIPModel if cls is LTMIPModel else LTMIPModel
    with pytest.raises(ValueError, match="holds"):
        other.load(path)
    with pytest.raises(FileNotFoundError):
        cls.load(tmp_path / "missing.pt")
