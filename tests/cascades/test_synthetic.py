"""Synthetic cascade generators (paper A's rule and a known LT model)."""

import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.cascades import lt_cascades, random_seed_states, synthetic_cascades
from influence_gpu.cascades.synthetic import bayes_accuracy, synthetic_activation_probability
from influence_gpu.diffusion import simulate_lt


def path_graph(n=5):
    """0 -> 1 -> 2 -> ... (directed path)."""
    ei = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    return DiffusionGraph.from_edge_index(ei, num_nodes=n)


def test_seed_states_have_exact_share():
    x = random_seed_states(7, 20, 0.35, torch.Generator().manual_seed(0))
    assert x.shape == (7, 20)
    assert torch.equal(x.sum(1), torch.full((7,), 7.0))  # round(0.35 * 20) = 7


def test_probability_one_activates_exactly_the_two_hop_ball():
    # a = 1: every eligible node activates; on a path with seed {0} two steps reach 0..2 per
    # step's two-hop rule: step 1 activates 1, 2 (within two arcs of 0); step 2 activates 3, 4.
    g = path_graph(6)
    d = synthetic_cascades(g, num_cascades=3, seed_fraction=1 / 6, a=1.0, b=0.0, steps=1, seed=0)
    for x0, xT in zip(d.x0, d.xT, strict=True):
        s = int(x0.nonzero())
        expect = torch.zeros(6)
        expect[s : min(s + 3, 6)] = 1
        assert torch.equal(xT, expect)
    d1 = synthetic_cascades(g, 3, 1 / 6, a=1.0, b=0.0, steps=1, neighbourhood="one_hop", seed=0)
    for x0, xT in zip(d1.x0, d1.xT, strict=True):
        s = int(x0.nonzero())
        expect = torch.zeros(6)
        expect[s : min(s + 2, 6)] = 1
        assert torch.equal(xT, expect)


def test_probability_zero_keeps_seeds_and_monotone():
    g = path_graph(8)
    d = synthetic_cascades(g, 5, 0.25, a=0.0, b=0.0, steps=2, seed=1)
    assert torch.equal(d.x0, d.xT)
    d = synthetic_cascades(g, 50, 0.25, a=0.5, b=0.5, steps=2, seed=1)
    assert bool((d.xT >= d.x0).all())


def test_activation_rate_matches_equation_4():
    # star 0 -> 1..200 with seed 0 only, one step: each leaf activates w.p. a + b/N * 1.
    n = 201
    ei = torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])
    g = DiffusionGraph.from_edge_index(ei, num_nodes=n)
    gen = torch.Generator().manual_seed(0)
    d = synthetic_cascades(g, 400, 1 / n, a=0.2, b=30.0, steps=1, generator=gen)
    hub = d.x0[:, 0] == 1
    rate = d.xT[hub][:, 1:].mean().item()
    p = 0.2 + 30.0 / n
    se = (p * (1 - p) / (int(hub.sum()) * (n - 1))) ** 0.5
    assert abs(rate - p) < 5 * se


def test_seeded_and_reproducible():
    g = path_graph(10)
    a = synthetic_cascades(g, 20, 0.3, seed=5)
    b = synthetic_cascades(g, 20, 0.3, seed=5)
    assert torch.equal(a.xT, b.xT) and torch.equal(a.x0, b.x0)


@pytest.mark.parametrize(
    "kw",
    [
        dict(a=1.5),
        dict(b=-1),
        dict(seed_fraction=2.0),
        dict(neighbourhood="three_hop"),
        dict(steps=-1),
        dict(num_cascades=0),
    ],
)
def test_bad_arguments(kw):
    with pytest.raises(ValueError):
        synthetic_cascades(path_graph(4), **{"num_cascades": 2, **kw})


def test_lt_cascades_match_simulate_lt_with_injected_thresholds():
    g = DiffusionGraph.from_edge_index(
        torch.tensor([[0, 1, 2, 0, 3], [1, 2, 3, 2, 4]]),
        num_nodes=5,
        edge_prob=torch.tensor([0.6, 0.5, 0.9, 0.4, 1.0]),
    )
    K = 30
    gen = torch.Generator().manual_seed(0)
    th = torch.rand(K, 5, generator=gen)
    d = lt_cascades(g, K, seed_fraction=0.2, steps=None, seed=3, thresholds=th)
    for k in range(K):
        seeds = d.x0[k].nonzero().flatten()
        res = simulate_lt(g, seeds, 1, thresholds=th[k : k + 1])
        assert torch.equal(res.node_prob.cpu(), d.xT[k]), k


def test_lt_cascades_rejects_overweight_graph():
    g = DiffusionGraph.from_edge_index(
        torch.tensor([[0, 1], [2, 2]]), num_nodes=3, edge_prob=torch.tensor([0.7, 0.7])
    )
    with pytest.raises(ValueError):
        lt_cascades(g, 3)


# ---------------------------------------------------------------- activation probability / Bayes
def tiny_graph():
    """0 -> 2, 1 -> 2, 2 -> 3, 3 -> 4; node 5 isolated (N = 6)."""
    ei = torch.tensor([[0, 1, 2, 3], [2, 2, 3, 4]])
    return DiffusionGraph.from_edge_index(ei, num_nodes=6)


def tiny_states():
    x0 = torch.zeros(2, 6)
    x0[0, [0, 1]] = 1  # node 2 has two active in-neighbours, node 3 is two hops away
    x0[1, 2] = 1  # node 3 one hop, node 4 two hops
    return x0


def test_activation_probability_exact_one_step_by_hand():
    # a = 0.2, b / N = 0.6 / 6 = 0.1
    p = synthetic_activation_probability(tiny_graph(), tiny_states(), a=0.2, b=0.6, steps=1)
    expect = torch.tensor([[1.0, 1.0, 0.4, 0.2, 0.0, 0.0], [0.0, 0.0, 1.0, 0.3, 0.2, 0.0]])
    assert torch.allclose(p, expect)
    p1 = synthetic_activation_probability(tiny_graph(), tiny_states(), a=0.2, b=0.6, steps=1,
                                          neighbourhood="one_hop")
    expect[0, 3] = expect[1, 4] = 0.0
    assert torch.allclose(p1, expect)
    # steps = 0 keeps x0; b large clips at 1
    assert torch.equal(synthetic_activation_probability(tiny_graph(), tiny_states(), steps=0),
                       tiny_states())
    pc = synthetic_activation_probability(tiny_graph(), tiny_states(), a=0.9, b=6.0, steps=1)
    assert float(pc[0, 2]) == 1.0


def _exact_two_steps(graph, x0, a, b):
    """Brute force over the first step's outcomes (tiny graphs only)."""
    import itertools

    p1 = synthetic_activation_probability(graph, x0[None], a=a, b=b, steps=1)[0]
    free = [j for j in range(x0.numel()) if 0 < float(p1[j]) < 1]
    out = torch.zeros_like(x0)
    for bits in itertools.product([0, 1], repeat=len(free)):
        state, w = (p1 == 1).float(), 1.0
        for j, bit in zip(free, bits, strict=True):
            state[j] = bit
            w *= float(p1[j]) if bit else 1 - float(p1[j])
        out += w * synthetic_activation_probability(graph, state[None], a=a, b=b, steps=1)[0]
    return out


@pytest.mark.parametrize("steps", [1, 2])
def test_monte_carlo_agrees_with_exact_within_4_se(steps):
    g, x0, S = tiny_graph(), tiny_states(), 20000
    if steps == 1:
        exact = synthetic_activation_probability(g, x0, a=0.2, b=0.6, steps=1)
    else:
        exact = torch.stack([_exact_two_steps(g, x, 0.2, 0.6) for x in x0])
    mc = synthetic_activation_probability(g, x0, a=0.2, b=0.6, steps=steps, num_samples=S,
                                          method="monte_carlo", seed=3)
    se = (exact * (1 - exact) / S).sqrt()
    assert bool(((mc - exact).abs() <= 4 * se + 1e-7).all()), (mc, exact)
    # the two-step answer differs from the one-step one (node 4 reachable only in step 2)
    if steps == 2:
        assert float(exact[0, 4]) > 0


def test_bayes_ceiling_on_generated_cascades():
    # steps = 1: the exact Bayes rule's realised accuracy on 200 cascades lies within 4 se of its
    # expected accuracy, and beats the majority predictor
    from influence_gpu.cascades import majority_accuracy

    g = path_graph(30)
    d = synthetic_cascades(g, 200, 0.35, a=0.3, b=3.0, steps=1, seed=0)
    p = synthetic_activation_probability(g, d.x0, a=0.3, b=3.0, steps=1)
    acc = bayes_accuracy(p, d.xT)
    var = float((torch.minimum(p, 1 - p) * torch.maximum(p, 1 - p)).sum()) / d.xT.numel() ** 2
    assert abs(acc["realised"] - acc["expected"]) < 4 * var ** 0.5
    assert acc["realised"] > majority_accuracy(d.xT, d.xT)


@pytest.mark.parametrize(
    "kw", [dict(steps=2, method="exact"), dict(method="bogus"), dict(num_samples=0), dict(a=2.0)]
)
def test_activation_probability_bad_arguments(kw):
    with pytest.raises(ValueError):
        synthetic_activation_probability(tiny_graph(), tiny_states(), **kw)
    with pytest.raises(ValueError):
        synthetic_activation_probability(tiny_graph(), torch.zeros(2, 5))
    with pytest.raises(ValueError):
        bayes_accuracy(torch.zeros(2, 3), torch.zeros(3, 2))
