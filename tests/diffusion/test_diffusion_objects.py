"""Diffusion objects: many sets per call on common random numbers, equal to set-by-set runs."""

import pytest
import torch

from influence_gpu.diffusion.base import (
    IndependentCascade,
    LinearThreshold,
    MinimumThreshold,
    MultiplicationThreshold,
    TemporalIC,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.generators import erdos_renyi
from tests.diffusion.test_temporal import random_temporal


def _static():
    g = erdos_renyi(40, 0.1, seed=3, directed=True)
    indeg = torch.bincount(g.col, minlength=g.num_nodes).clamp(min=1).double()
    return g.with_prob((0.9 / indeg[g.col]).float())


def _temporal():
    return random_temporal(torch.Generator().manual_seed(5), 30, 120)


CASES = [
    (IndependentCascade, _static, {}),
    (LinearThreshold, _static, {}),
    (MinimumThreshold, _static, {}),
    (MultiplicationThreshold, _static, {}),
    (TemporalIC, _temporal, {}),
]


@pytest.mark.parametrize("cls,graph_fn,opts", CASES, ids=[c[0].__name__ for c in CASES])
def test_estimate_is_one_call_equal_to_set_by_set(cls, graph_fn, opts, monkeypatch):
    graph: DiffusionGraph = graph_fn()
    diffusion = cls(num_samples=64, **opts)
    crn = diffusion.common_random_numbers(torch.Generator().manual_seed(1))
    assert "key" in crn
    sets = [torch.tensor([0]), torch.tensor([1, 2]), torch.tensor([3, 4, 5])]
    calls = []
    real = diffusion._sets_function()
    monkeypatch.setattr(type(diffusion), "_sets_function",
                        staticmethod(lambda: lambda *a, **k: calls.append(1) or real(*a, **k)))
    means, stderrs = diffusion.estimate(graph, sets, **crn)
    assert len(calls) == 1  # one call for every set
    for i, seeds in enumerate(sets):
        res = diffusion.simulate(graph, seeds, **crn)
        assert means[i].item() == res.mean  # the same runs: the same counts
        assert stderrs[i].item() == pytest.approx(res.stderr, rel=1e-12)  # summed another way


def test_injected_randomness_falls_back_to_set_by_set():
    graph = _static()
    theta = torch.rand(16, graph.num_nodes, generator=torch.Generator().manual_seed(0))
    lt = LinearThreshold(num_samples=16, thresholds=theta)
    assert lt.common_random_numbers(None) == {}
    means, _ = lt.estimate(graph, [torch.tensor([0]), torch.tensor([1])])
    assert means[1].item() == lt.simulate(graph, torch.tensor([1])).mean
