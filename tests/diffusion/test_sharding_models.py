"""LT, the threshold models and temporal IC split across ranks and devices equal one process.

Two gloo ranks (spawned as in ``test_sharding.py``) and a three-way local device split must give
the one-process result bit for bit: per-run spreads, blocked counts, node probabilities, means.
"""

import io
import os

import pytest
import torch
import torch.distributed as dist

from influence_gpu.diffusion import base
from influence_gpu.diffusion.lt import estimate_lt_sets, simulate_lt
from influence_gpu.diffusion.temporal import estimate_temporal_ic_sets, simulate_temporal_ic
from influence_gpu.diffusion.threshold import (
    estimate_minimum_threshold_sets,
    estimate_multiplication_threshold_sets,
    simulate_minimum_threshold,
    simulate_multiplication_threshold,
)
from tests.diffusion.test_lt import random_lt_graph
from tests.diffusion.test_sharding import run_two_ranks
from tests.diffusion.test_temporal import random_temporal
from tests.diffusion.test_threshold import random_graph

BACKENDS = ("torch", "native")
R = 37  # runs: not a multiple of 2 or 3, so the pieces differ in size
SIMULATE = {
    "lt": simulate_lt,
    "minimum_threshold": simulate_minimum_threshold,
    "multiplication_threshold": simulate_multiplication_threshold,
    "temporal_ic": simulate_temporal_ic,
}
ESTIMATE = {
    "lt": estimate_lt_sets,
    "minimum_threshold": estimate_minimum_threshold_sets,
    "multiplication_threshold": estimate_multiplication_threshold_sets,
    "temporal_ic": estimate_temporal_ic_sets,
}


def _cases():
    return {
        "lt": random_lt_graph(3, 60, 260),
        "minimum_threshold": random_graph(5, 60, 200),
        "multiplication_threshold": random_graph(6, 60, 200),
        "temporal_ic": random_temporal(torch.Generator().manual_seed(7), 50, 220),
    }


SEEDS = torch.tensor([0, 4, 9])
SETS = [torch.tensor([1]), torch.tensor([2, 3]), torch.tensor([5, 8, 13])]


def _fields(res):
    out = [res.spreads.cpu(), res.node_prob.cpu(), torch.tensor([res.mean, res.stderr])]
    if getattr(res, "blocked", None) is not None:
        out += [res.blocked.cpu(), res.node_blocked_prob.cpu(),
                torch.tensor([res.blocked_mean, res.blocked_stderr])]
    return out


def _injected(model, graph):
    """The injected randomness of ``model``: thresholds [R, n] or coins [R, E]."""
    gen = torch.Generator().manual_seed(11)
    if model == "temporal_ic":
        return {"edge_uniforms": torch.rand(R, graph.num_edges, generator=gen)}
    return {"thresholds": torch.rand(R, graph.num_nodes, generator=gen)}


def _outputs(**split):
    """Every model's results for one ``shard`` / ``devices`` setting (empty: one process)."""
    out = {}
    for model, graph in _cases().items():
        sim, est = SIMULATE[model], ESTIMATE[model]
        blocked = {"return_blocked": True} if model not in ("lt", "temporal_ic") else {}
        for backend in BACKENDS:
            res = sim(graph, SEEDS, R, generator=torch.Generator().manual_seed(3),
                      backend=backend, **split)
            out[model, backend] = _fields(res)
            res = sim(graph, SEEDS, R, backend=backend, **_injected(model, graph), **split)
            out[model, backend, "injected"] = _fields(res)
            out[model, backend, "sets"] = est(graph, SETS, 23, key=9, backend=backend,
                                              **blocked, **split)
        if model == "minimum_threshold":
            alpha = torch.linspace(0.5, 1.0, graph.num_nodes)
            out[model, "alpha"] = _fields(sim(graph, SEEDS, R, key=5, alpha=alpha, **split))
    return out


def _worker(rank, world, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        out = {"auto": _outputs(shard="auto"),
               "pair": _outputs(shard=(rank, world), devices=["cpu", "cpu"])}
        cases = _cases()
        # generators that differ by rank: every rank hashes with rank 0's key
        out["rank0_key"] = [
            _fields(SIMULATE[m](cases[m], SEEDS, R, shard="auto",
                                generator=torch.Generator().manual_seed(3 + rank)))
            for m in SIMULATE
        ]
        # the Diffusion objects pass shard to the many-sets entry
        out["object"] = base.MinimumThreshold(23, key=9).estimate(
            cases["minimum_threshold"], SETS, shard="auto"
        )
        buf = io.BytesIO()  # bytes, not tensors: torch shares queued tensors by fd
        torch.save(out, buf)
        queue.put((rank, buf.getvalue()))
    finally:
        dist.destroy_process_group()


def _assert_same(got, ref, where):
    assert got.keys() == ref.keys()
    for case, value in ref.items():
        for a, b in zip(got[case], value, strict=True):
            assert torch.equal(a, b), (where, case)


def test_two_gloo_ranks_equal_one_process():
    got = run_two_ranks(_worker)
    ref = _outputs()
    cases = _cases()
    for rank in (0, 1):
        _assert_same(got[rank]["auto"], ref, (rank, "auto"))
        _assert_same(got[rank]["pair"], ref, (rank, "pair"))
        obj = base.MinimumThreshold(23, key=9).estimate(cases["minimum_threshold"], SETS)
        assert all(torch.equal(a, b) for a, b in zip(got[rank]["object"], obj, strict=True))
        for model, fields in zip(SIMULATE, got[rank]["rank0_key"], strict=True):
            for a, b in zip(fields, ref[model, "native"], strict=True):  # backend "auto"
                assert torch.equal(a, b), (rank, model, "rank 0's key")


@pytest.mark.parametrize("backend", BACKENDS)
def test_runs_split_across_local_devices_equal_one_call(backend):
    for model, graph in _cases().items():
        sim, est = SIMULATE[model], ESTIMATE[model]
        one = sim(graph, SEEDS, R, generator=torch.Generator().manual_seed(3), backend=backend)
        split = sim(graph, SEEDS, R, generator=torch.Generator().manual_seed(3),
                    backend=backend, devices=["cpu", "cpu", "cpu"])
        for a, b in zip(_fields(one), _fields(split), strict=True):
            assert torch.equal(a, b), model
        assert split.extra["devices"] == ["cpu"] * 3 and split.extra["world_size"] == 1
        assert split.extra["backend"] == one.extra["backend"]
        if "max_steps" in one.extra:
            assert split.extra["max_steps"] == one.extra["max_steps"], model
        kw = dict(key=4, backend=backend)
        means = est(graph, SETS, 20, devices=["cpu", "cpu"], **kw)
        for a, b in zip(means, est(graph, SETS, 20, **kw), strict=True):
            assert torch.equal(a, b), model


def test_split_refuses_bad_values_and_provenance():
    for model, graph in _cases().items():
        sim, est = SIMULATE[model], ESTIMATE[model]
        for bad in ("all", (2, 2), (0, 0), 3):
            with pytest.raises(ValueError, match="shard"):
                sim(graph, SEEDS, 10, key=1, shard=bad)
        with pytest.raises(ValueError, match="process group"):
            est(graph, SETS, 10, key=1, shard=(1, 2))
        for bad, msg in (("cpu", "list of devices"), ([], "at least one"),
                         ([None], "devices\\[0\\]"), (["gpu7"], "devices\\[0\\]")):
            with pytest.raises(ValueError, match=msg):
                sim(graph, SEEDS, 10, key=1, devices=bad)
        with pytest.raises(ValueError, match="provenance"):
            sim(graph, SEEDS, 10, key=1, return_provenance=True, devices=["cpu", "cpu"])
        # one device, the graph's own: no split, provenance allowed
        res = sim(graph, SEEDS, 10, key=1, return_provenance=True, devices=["cpu"])
        assert res.activation_step is not None


def test_diffusion_objects_are_shardable():
    for cls in (base.LinearThreshold, base.MinimumThreshold, base.MultiplicationThreshold,
                base.TemporalIC, base.IndependentCascade):
        assert cls.shardable and {"shard", "devices"} <= cls._set_options
