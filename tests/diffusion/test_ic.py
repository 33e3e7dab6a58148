import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.diffusion import ic
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
    return list(zip(graph.src.tolist(), graph.col.tolist(), strict=False)), graph.edge_prob.tolist()


TINY = [(5, 12, 0), (6, 14, 1), (7, 13, 2)]  # at most ~12 arcs: 4096 worlds


@pytest.mark.parametrize(
    "sampler,backend", [("skip", "torch"), ("skip", "auto"), ("hash", "torch")]
)
@pytest.mark.parametrize("n,m,gseed", TINY)
def test_mean_and_node_prob_match_exact_enumeration(devices, sampler, backend, n, m, gseed):
    graph = random_graph(n, m, gseed).to(devices)
    assert graph.num_edges <= 13
    seeds = [0, 3]
    exact_mean, exact_var, exact_node = exact_ic(n, *arcs_probs(graph), seeds)
    R = 20_000
    res = simulate_ic(
        graph,
        torch.tensor(seeds, device=devices),
        R,
        generator=torch.Generator(devices).manual_seed(gseed),
        sampler=sampler,
        backend=backend,
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
        graph,
        torch.tensor(seeds, device=devices),
        R,
        edge_uniforms=coins.to(devices),
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
    for s, mean in zip(sets, means, strict=False):
        single = simulate_ic(graph, s, 300, sampler="hash", key=99)
        assert single.mean == pytest.approx(float(mean))
    # monotone in the same worlds: {0, 5} reaches at least what {0} reaches, run by run
    a = simulate_ic(graph, sets[0], 300, sampler="hash", key=99).spreads
    b = simulate_ic(graph, sets[2], 300, sampler="hash", key=99).spreads
    assert (b >= a).all()


def test_batch_skip_sampler_agrees_with_single_calls_statistically():
    graph = random_graph(30, 90, 7)
    sets = [torch.tensor([0]), torch.tensor([3, 4])]
    means, stderrs = simulate_ic_batch(
        graph, sets, 4000, generator=torch.Generator().manual_seed(0)
    )
    for s, mean, se in zip(sets, means, stderrs, strict=False):
        single = simulate_ic(graph, s, 4000, generator=torch.Generator().manual_seed(1))
        assert abs(single.mean - float(mean)) <= 4 * (single.stderr**2 + float(se) ** 2) ** 0.5


def test_deterministic_path_and_zero_probabilities():
    # 0 -> 1 -> 2 -> 3 with p = 1, 1, 0: spread of {0} is exactly 3
    graph = DiffusionGraph.from_edge_index([[0, 1, 2], [1, 2, 3]], edge_prob=[1.0, 1.0, 0.0])
    res = simulate_ic(
        graph,
        torch.tensor([0]),
        500,
        generator=torch.Generator().manual_seed(0),
        return_provenance=True,
    )
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


# ---------------------------------------------------------------- native CPU kernel vs torch
native = pytest.mark.skipif(
    __import__("shutil").which("g++") is None and __import__("shutil").which("c++") is None,
    reason="no C++ compiler: the native kernel cannot be built here",
)


@native
def test_native_kernel_builds_and_is_used_by_default_on_cpu():
    graph = random_graph(20, 60, 0)
    res = simulate_ic(graph, torch.tensor([0]), 10, generator=torch.Generator().manual_seed(0))
    assert res.extra["backend"] == "native"
    res = simulate_ic(graph, torch.tensor([0]), 10, backend="torch")
    assert "backend" not in res.extra or res.extra["backend"] != "native"


@native
def test_native_runs_do_not_depend_on_threads_or_chunks():
    graph = random_graph(200, 1500, 1)
    seeds = torch.tensor([0, 5, 9])
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a = simulate_ic(
            graph,
            seeds,
            64,
            generator=torch.Generator().manual_seed(3),
            return_provenance=True,
            backend="native",
        )
        torch.set_num_threads(2)
        b = simulate_ic(
            graph,
            seeds,
            64,
            generator=torch.Generator().manual_seed(3),
            return_provenance=True,
            backend="native",
            # fixed cost + the [64, 200] provenance outputs + 5 runs' worth: 13 chunks
            memory_budget=ic._native_fixed_bytes(graph, 2) + 64 * 200 * 12 + 5 * 8,
        )  # 5 runs/chunk
    finally:
        torch.set_num_threads(before)
    assert torch.equal(a.spreads, b.spreads)
    assert torch.equal(a.activation_step, b.activation_step)
    assert torch.equal(a.node_prob, b.node_prob)


@native
def test_native_provenance_is_a_valid_bfs_of_live_edges():
    # p in {0, 1}: the live graph is fixed, so steps are exact BFS depths
    graph = random_graph(40, 160, 2, p_choices=[0.0, 1.0])
    seeds = [0, 1]
    res = simulate_ic(graph, torch.tensor(seeds), 3, return_provenance=True, backend="native")
    coins = torch.full((3, graph.num_edges), 0.5)
    ref = simulate_ic(graph, torch.tensor(seeds), 3, edge_uniforms=coins, return_provenance=True)
    assert torch.equal(res.activation_step, ref.activation_step)
    src, col, prob = graph.src, graph.col, graph.edge_prob
    for v in range(graph.num_nodes):
        u, st = int(res.parent[0, v]), int(res.activation_step[0, v])
        if st > 0:
            e = ((src == u) & (col == v)).nonzero().flatten()
            assert e.numel() == 1 and prob[e] == 1.0 and int(res.activation_step[0, u]) == st - 1


def test_torch_fallback_when_native_is_switched_off(monkeypatch):
    from influence_gpu import typing as flags

    monkeypatch.setattr(flags, "USE_NATIVE_CPU", False)
    graph = random_graph(20, 60, 0)
    res = simulate_ic(graph, torch.tensor([0]), 10)
    assert res.extra.get("backend") != "native"


def test_missing_compiler_warns_and_falls_back(monkeypatch):
    from influence_gpu.kernels import native

    monkeypatch.setattr(native, "_compiler", lambda: None)
    monkeypatch.setattr(native, "_LOADED", {})
    graph = random_graph(20, 60, 0)
    with pytest.warns(UserWarning, match="no C\\+\\+ compiler"):
        res = simulate_ic(graph, torch.tensor([0]), 10)
    assert res.extra.get("backend") != "native"
    with pytest.raises(RuntimeError, match="native IC kernel is not available"):
        simulate_ic(graph, torch.tensor([0]), 10, backend="native")


def test_native_backend_refuses_other_samplers():
    graph = random_graph(20, 60, 0)
    coins = torch.rand(10, graph.num_edges)
    with pytest.raises(ValueError, match="backend='native' needs"):
        simulate_ic(graph, torch.tensor([0]), 10, edge_uniforms=coins, backend="native")
    with pytest.raises(ValueError, match="backend must be one of"):
        simulate_ic(graph, torch.tensor([0]), 10, backend="cuda")


@native
@pytest.mark.parametrize("gseed", range(3))
def test_native_hash_coins_are_bit_identical_to_torch(gseed):
    graph = random_graph(300, 2400, gseed)
    seeds = torch.tensor([0, 7, 42])
    kw = dict(sampler="hash", key=987654321 + gseed, return_provenance=True)
    a = simulate_ic(graph, seeds, 40, backend="native", **kw)
    b = simulate_ic(graph, seeds, 40, backend="torch", **kw)
    assert a.extra["backend"] == "native" and b.extra.get("backend") != "native"
    assert torch.equal(a.spreads, b.spreads)
    assert torch.equal(a.activation_step, b.activation_step)  # BFS depths in the same worlds
    assert torch.equal(a.node_prob, b.node_prob)
    sets = [seeds, torch.tensor([3]), torch.tensor([1, 2])]
    ma, _ = simulate_ic_batch(graph, sets, 40, sampler="hash", key=5, backend="native")
    mb, _ = simulate_ic_batch(graph, sets, 40, sampler="hash", key=5, backend="torch")
    assert torch.equal(ma, mb)
