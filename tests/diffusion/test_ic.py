import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.diffusion._common import hash_uniform
from influence_gpu.diffusion._reference import ic_reference
from influence_gpu.diffusion.ic import simulate_ic, simulate_ic_batch
from tests.exact import exact_ic


def random_graph(n, m, seed, p_choices=None):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=g)
    dst = torch.randint(0, n, (m,), generator=g)
    keep = src != dst
    ei = torch.stack([src[keep], dst[keep]])
    ei = torch.unique(ei, dim=1)
    if p_choices is None:
        prob = torch.rand(ei.size(1), generator=g)
    else:
        prob = torch.tensor(p_choices)[torch.randint(0, len(p_choices), (ei.size(1),), generator=g)]
    return DiffusionGraph.from_edge_index(ei, num_nodes=n, edge_prob=prob)


def arcs_probs(graph):
    return list(zip(graph.src.tolist(), graph.col.tolist())), graph.edge_prob.tolist()


TINY = [(5, 12, 0), (6, 14, 1), (7, 13, 2)]  # at most ~12 arcs: 4096 worlds


@pytest.mark.parametrize("sampler", ["skip", "hash"])
@pytest.mark.parametrize("n,m,gseed", TINY)
def test_mean_and_node_prob_match_exact_enumeration(devices, sampler, n, m, gseed):
    graph = random_graph(n, m, gseed).to(devices)
    assert graph.num_edges <= 13
    seeds = [0, 3]
    exact_mean, exact_var, exact_node = exact_ic(n, *arcs_probs(graph), seeds)
    R = 20_000
    res = simulate_ic(
        graph, torch.tensor(seeds, device=devices), R,
        generator=torch.Generator(devices).manual_seed(gseed), sampler=sampler,
    )
    # 4 standard errors of a mean of R runs, from the exact variance
    assert abs(res.mean - exact_mean) <= 4 * (exact_var / R) ** 0.5 + 1e-9
    node = torch.tensor(exact_node, dtype=torch.float64)
    tol = 4 * (node * (1 - node) / R).sqrt() + 1e-9
    assert ((res.node_prob.double().cpu() - node).abs() <= tol).all()
    # the reported standard error estimates the true one
    assert res.stderr == pytest.approx((exact_var / R) ** 0.5, rel=0.1)


@pytest.mark.parametrize("gseed", range(4))
def test_given_coins_reproduce_reference_exactly(devices, gseed):
    graph = random_graph(30, 120, gseed).to(devices)
    R = 64
    coins = torch.rand(R, graph.num_edges, generator=torch.Generator().manual_seed(gseed))
    seeds = [1, 7, 20]
    res = simulate_ic(
        graph, torch.tensor(seeds, device=devices), R, edge_uniforms=coins.to(devices),
        return_provenance=True,
    )
    src, col, prob = graph.src.cpu(), graph.col.cpu(), graph.edge_prob.cpu()
    for r in range(R):
        step, _ = ic_reference(graph.to("cpu"), seeds, coins[r].tolist())
        assert res.activation_step[r].tolist() == step
        # every recorded parent is a live in-neighbour activated one step earlier
        for v in range(graph.num_nodes):
            u = int(res.parent[r, v])
            if step[v] <= 0:
                assert u == -1
                continue
            e = ((src == u) & (col == v)).nonzero().flatten()
            assert e.numel() == 1 and coins[r, e] < prob[e]
            assert step[u] == step[v] - 1
        assert int(res.spreads[r]) == sum(s >= 0 for s in step)


def test_hash_sampler_equals_given_coins_from_the_same_hash():
    graph = random_graph(40, 200, 5)
    R, key = 50, 123456789
    coins = hash_uniform(key, torch.arange(R)[:, None], torch.arange(graph.num_edges)[None, :])
    a = simulate_ic(graph, torch.tensor([0, 1]), R, sampler="hash", key=key, return_provenance=True)
    b = simulate_ic(graph, torch.tensor([0, 1]), R, edge_uniforms=coins, return_provenance=True)
    assert torch.equal(a.activation_step, b.activation_step)


def test_batch_with_hash_key_uses_common_worlds_for_every_set():
    graph = random_graph(40, 200, 6)
    sets = [torch.tensor([0]), torch.tensor([5, 9]), torch.tensor([0, 5])]
    means, stderrs = simulate_ic_batch(graph, sets, 300, sampler="hash", key=99)
    for s, mean in zip(sets, means):
        single = simulate_ic(graph, s, 300, sampler="hash", key=99)
        assert single.mean == pytest.approx(float(mean))
    # monotone in the same worlds: {0, 5} reaches at least what {0} reaches, run by run
    a = simulate_ic(graph, sets[0], 300, sampler="hash", key=99).spreads
    b = simulate_ic(graph, sets[2], 300, sampler="hash", key=99).spreads
    assert (b >= a).all()


def test_batch_skip_sampler_agrees_with_single_calls_statistically():
    graph = random_graph(30, 90, 7)
    sets = [torch.tensor([0]), torch.tensor([3, 4])]
    means, stderrs = simulate_ic_batch(graph, sets, 4000, generator=torch.Generator().manual_seed(0))
    for s, mean, se in zip(sets, means, stderrs):
        single = simulate_ic(graph, s, 4000, generator=torch.Generator().manual_seed(1))
        assert abs(single.mean - float(mean)) <= 4 * (single.stderr**2 + float(se) ** 2) ** 0.5


def test_deterministic_path_and_zero_probabilities():
    # 0 -> 1 -> 2 -> 3 with p = 1, 1, 0: spread of {0} is exactly 3
    graph = DiffusionGraph.from_edge_index([[0, 1, 2], [1, 2, 3]], edge_prob=[1.0, 1.0, 0.0])
    res = simulate_ic(graph, torch.tensor([0]), 500, generator=torch.Generator().manual_seed(0),
                      return_provenance=True)
    assert res.mean == 3 and res.stderr == 0
    assert res.node_prob.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert res.activation_step[0].tolist() == [0, 1, 2, -1]
    assert res.parent[0].tolist() == [-1, 0, 1, -1]


def test_empty_seed_set_has_zero_spread():
    graph = random_graph(10, 30, 0)
    res = simulate_ic(graph, torch.tensor([], dtype=torch.long), 10)
    assert res.mean == 0 and (res.spreads == 0).all()


def test_chunking_under_a_small_budget_gives_identical_runs():
    graph = random_graph(50, 300, 3)
    R = 40
    coins = torch.rand(R, graph.num_edges, generator=torch.Generator().manual_seed(0))
    one = simulate_ic(graph, torch.tensor([0, 2]), R, edge_uniforms=coins)
    # fixed bytes + a few runs' worth only: forces several chunks
    from influence_gpu.diffusion import ic

    budget = ic._fixed_bytes(graph) + 3 * ic._bytes_per_run(graph.num_nodes, False)
    many = simulate_ic(graph, torch.tensor([0, 2]), R, edge_uniforms=coins, memory_budget=budget)
    assert torch.equal(one.spreads, many.spreads)
    assert torch.equal(one.node_prob, many.node_prob)


def test_budget_too_small_is_refused_before_work():
    graph = random_graph(50, 300, 3)
    with pytest.raises(MemoryError, match="memory_budget"):
        simulate_ic(graph, torch.tensor([0]), 10, memory_budget=1000)


def test_missing_probabilities_and_bad_arguments():
    graph = DiffusionGraph.from_edge_index([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="no edge probabilities"):
        simulate_ic(graph, torch.tensor([0]), 10)
    graph = graph.with_prob(0.5)
    with pytest.raises(ValueError, match="sampler"):
        simulate_ic(graph, torch.tensor([0]), 10, sampler="bogus")
    with pytest.raises(ValueError, match="edge_uniforms must have shape"):
        simulate_ic(graph, torch.tensor([0]), 10, edge_uniforms=torch.rand(3, 2))
