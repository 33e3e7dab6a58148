"""KT, KTIM, IMIT, TIM, CCA (paper E) and the classic selectors on temporal graphs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from influence_gpu.diffusion.base import TemporalIC
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.probabilities import assign_probabilities
from influence_gpu.selection.greedy import CELF
from influence_gpu.selection.heuristics import DegreeDiscount
from influence_gpu.selection.temporal import CCA, IMIT, KT, KTIM, TIM

CONF = Path(__file__).resolve().parents[2] / "conf" / "selector"


def _graph(seed=0, n=30, m=150):
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=gen)
    dst = torch.randint(0, n, (m,), generator=gen)
    keep = src != dst
    t = torch.randint(0, 50, (m,), generator=gen).double()
    g = DiffusionGraph.from_edge_index(torch.stack([src[keep], dst[keep]]), n,
                                       edge_time=t[keep])
    return assign_probabilities(g, "contact_count")


def _fast_selectors():
    d = TemporalIC(num_samples=20)
    return [KT(), KTIM(num_candidates=10), CCA(), TIM(d, num_samples=20, num_candidates=8),
            IMIT(d, num_samples=20), CELF(TemporalIC(num_samples=20), progress=False),
            DegreeDiscount()]


@pytest.mark.parametrize("idx", range(7))
def test_k_distinct_reproducible(idx):
    g = _graph()
    a = _fast_selectors()[idx].select(g, 5, generator=torch.Generator().manual_seed(3))
    b = _fast_selectors()[idx].select(g, 5, generator=torch.Generator().manual_seed(3))
    assert len(a.ids) == 5 and len(set(a.ids)) == 5
    assert a.ids == b.ids


def test_kt_round_robin_and_ktim_candidates():
    # triangle core (Ks 6) and a tail (Ks 1): KT takes one node per layer, core first
    contacts = [(a, b, t) for a in range(3) for b in range(3) if a != b for t in range(3)]
    contacts += [(3, 0, 1), (4, 3, 2), (0, 4, 5)]
    ei = torch.tensor([[c[0] for c in contacts], [c[1] for c in contacts]])
    g = DiffusionGraph.from_edge_index(ei, 5, edge_time=torch.tensor(
        [float(c[2]) for c in contacts], dtype=torch.float64))
    # CD: 0: 7 + 6 + 6 + 1 = 20; 1, 2: 6 + 7 + 6 = 19; 3: 1 + 7 = 8; 4: 1 + 1 = 2
    r = KT().select(g, 3)
    assert r.ids == [0, 3, 1]
    assert r.extra["num_layers"] == 2 and r.extra["offline_seconds"] >= 0
    assert KTIM(num_candidates=3).select(g, 2).ids == [0, 1]
    assert KTIM(num_candidates=5).select(g, 4).ids == [0, 1, 2, 3]


def test_cca_excludes_radius_one():
    # star 0 -> 1..4 plus a separate arc 5 -> 6; 0 is the core
    contacts = [(0, v, t) for v in range(1, 5) for t in range(3)] + [(5, 6, 1), (5, 6, 2)]
    ei = torch.tensor([[c[0] for c in contacts], [c[1] for c in contacts]])
    g = DiffusionGraph.from_edge_index(ei, 7, edge_time=torch.tensor(
        [float(c[2]) for c in contacts]))
    r = CCA(radius=1).select(g, 3)
    assert r.ids[:2] == [0, 5]
    assert r.extra["refilled"] == 1


def test_imit_matches_greedy_on_common_worlds():
    g = _graph(1)
    d = TemporalIC(num_samples=30)
    a = IMIT(d, num_samples=30).select(g, 4, generator=torch.Generator().manual_seed(0))
    b = IMIT(d, num_samples=30, mode="greedy").select(
        g, 4, generator=torch.Generator().manual_seed(0))
    assert a.ids == b.ids


@pytest.mark.parametrize("name", ["kt", "ktim", "imit", "tim", "cca"])
def test_configs(name):
    text = (CONF / f"{name}.yaml").read_text()
    assert text.splitlines()[0] == f"# @package selectors.{name}"
    cfg = yaml.safe_load(text)
    assert cfg["_target_"].startswith("influence_gpu.selection.temporal.")
