"""Runs split across two gloo ranks give bit-identical counts to one process."""

import io
import multiprocessing as mp
import os
import socket

import pytest
import torch
import torch.distributed as dist

from influence_gpu.diffusion._runs import gather_runs, resolve_shard, shard_range
from influence_gpu.diffusion.ic import simulate_ic, simulate_ic_batch
from tests.diffusion.test_ic import random_graph


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cases():
    graph = random_graph(70, 350, 4)
    seeds = torch.tensor([0, 5, 9])
    sets = [torch.tensor([1]), torch.tensor([2, 3]), torch.tensor([4, 8, 16])]
    return graph, seeds, sets


def _one_process(budget=None):
    graph, seeds, sets = _cases()
    out = {}
    for sampler, backend in (("hash", "torch"), ("hash", "native"), ("skip", "native")):
        res = simulate_ic(graph, seeds, 101, sampler=sampler, backend=backend,
                          generator=torch.Generator().manual_seed(3), memory_budget=budget)
        out[sampler, backend] = (res.spreads, res.node_prob)
    out["batch"] = simulate_ic_batch(graph, sets, 33, sampler="hash", key=11, backend="torch")
    return out


def _rr_sets(shard=None):
    from influence_gpu.rr.samplers import RRSampler

    graph, _, _ = _cases()
    out = []
    for backend in ("torch", "native"):
        sampler = RRSampler(graph, key=21, backend=backend, shard=shard)
        sketch = sampler.sample(37)
        sampler.extend(sketch, 90)
        out.append((sketch.ptr.clone(), sketch.nodes.clone()))
    return out


def _imm_seeds(shard=None):
    from influence_gpu.selection.imm import IMM

    graph, _, _ = _cases()
    return IMM(eps=0.3, shard=shard).select(graph, 4, generator=5).ids


def _nie_set(path, shard=None):
    from influence_gpu.nie.instances import build_training_set

    graph, _, _ = _cases()
    state = build_training_set(graph, 9, 40, path, seed=2, chunk_size=4, progress=False,
                               shard=shard)
    return state["features"].clone(), state["labels"].clone()


def _worker(rank, world, port, queue, tmp):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        graph, seeds, sets = _cases()
        out = {}
        for sampler, backend in (("hash", "torch"), ("hash", "native"), ("skip", "native")):
            res = simulate_ic(graph, seeds, 101, sampler=sampler, backend=backend, shard="auto",
                              generator=torch.Generator().manual_seed(3))
            out[sampler, backend] = (res.spreads, res.node_prob, res.extra["world_size"])
        out["batch"] = simulate_ic_batch(graph, sets, 33, sampler="hash", key=11,
                                         backend="torch", shard=(rank, world))
        out["rr"] = _rr_sets(shard="auto")
        out["imm"] = _imm_seeds(shard="auto")
        out["nie"] = _nie_set(os.path.join(tmp, "sharded.pt"), shard="auto")
        buf = io.BytesIO()  # bytes, not tensors: torch shares queued tensors by fd, which die
        torch.save(out, buf)  # with this process
        queue.put((rank, buf.getvalue()))
    finally:
        dist.destroy_process_group()


def run_two_ranks(worker, *args):
    """Spawn ``worker(rank, 2, port, queue, *args)`` on two ranks; return what each put.

    A worker puts ``(rank, bytes of torch.save(output))`` on the queue; the result maps each
    rank to its loaded output, after both processes exited cleanly.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=worker, args=(r, 2, port, queue, *args)) for r in range(2)]
    for p in procs:
        p.start()
    got = {}
    for _ in procs:
        rank, blob = queue.get(timeout=240)
        got[rank] = torch.load(io.BytesIO(blob), weights_only=False)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return got


def test_two_gloo_ranks_equal_one_process(tmp_path):
    got = run_two_ranks(_worker, str(tmp_path))
    ref = _one_process()
    # and one process with a budget small enough to force several chunks
    chunked = _one_process(budget=_tiny_budget())
    for rank in (0, 1):
        for case in (("hash", "torch"), ("hash", "native"), ("skip", "native")):
            spreads, node_prob, world = got[rank][case]
            assert world == 2
            assert torch.equal(spreads, ref[case][0]), (rank, case)
            assert torch.equal(node_prob, ref[case][1]), (rank, case)
            assert torch.equal(chunked[case][0], ref[case][0]), case
        for (ptr, nodes), (ref_ptr, ref_nodes) in zip(got[rank]["rr"], _rr_sets(), strict=True):
            assert torch.equal(ptr, ref_ptr) and torch.equal(nodes, ref_nodes)
        assert list(got[rank]["imm"]) == list(_imm_seeds())
        feats, labels = _nie_set(tmp_path / "one.pt")
        assert torch.equal(got[rank]["nie"][0], feats) and torch.equal(got[rank]["nie"][1], labels)
        assert torch.equal(got[rank]["batch"][0], ref["batch"][0])
        assert torch.equal(got[rank]["batch"][1], ref["batch"][1])
    # rank 0 wrote the file, and it holds the one-process build
    saved = torch.load(tmp_path / "sharded.pt", weights_only=False)
    assert saved["complete"] and torch.equal(saved["labels"], labels)


def _tiny_budget():
    from influence_gpu.diffusion import ic

    graph, _, _ = _cases()
    fixed = max(ic._fixed_bytes(graph, "skip"), ic._native_fixed_bytes(graph, 64, "skip"))
    return int(fixed + ic._result_bytes(1, 101, 70, False) + 40 * ic._bytes_per_run(70, False))


def test_shard_range_covers_every_run_once():
    for total in (0, 1, 5, 101):
        for world in (1, 2, 3, 7):
            ranges = [shard_range(total, r, world) for r in range(world)]
            covered = [i for off, cnt in ranges for i in range(off, off + cnt)]
            assert covered == list(range(total))
            assert max(c for _, c in ranges) - min(c for _, c in ranges) <= 1


def test_resolve_shard_refuses_bad_values():
    assert resolve_shard(None) == (0, 1)
    assert resolve_shard("auto") == (0, 1)  # no process group here
    assert resolve_shard((0, 1)) == (0, 1)
    for bad in ("all", (2, 2), (-1, 2), (0, 0), 3, ("a", 2)):
        with pytest.raises(ValueError, match="shard"):
            resolve_shard(bad)
    with pytest.raises(ValueError, match="process group"):
        resolve_shard((1, 2))
    assert torch.equal(gather_runs(torch.arange(4), 4, 1), torch.arange(4))


def test_sharding_refuses_the_stream_sampler_and_provenance(monkeypatch):
    import influence_gpu.diffusion.ic as ic_mod

    monkeypatch.setattr(ic_mod, "resolve_shard", lambda shard: (0, 2))
    graph, seeds, _ = _cases()
    with pytest.raises(ValueError, match="counter-based"):
        simulate_ic(graph, seeds, 10, backend="torch", shard="auto")
    with pytest.raises(ValueError, match="provenance"):
        simulate_ic(graph, seeds, 10, sampler="hash", return_provenance=True, shard="auto")


@pytest.mark.parametrize("sampler,backend", [("hash", "torch"), ("hash", "native"),
                                             ("skip", "native"), ("hash", "auto")])
def test_runs_split_across_local_devices_equal_one_call(sampler, backend):
    graph, seeds, sets = _cases()
    kw = dict(sampler=sampler, backend=backend)
    one = simulate_ic(graph, seeds, 101, generator=torch.Generator().manual_seed(3), **kw)
    split = simulate_ic(graph, seeds, 101, generator=torch.Generator().manual_seed(3),
                        devices=["cpu", "cpu", "cpu"], **kw)
    assert torch.equal(one.spreads, split.spreads)
    assert torch.equal(one.node_prob, split.node_prob)
    assert split.extra["devices"] == ["cpu"] * 3
    means, _ = simulate_ic_batch(graph, sets, 20, key=4, devices=["cpu", "cpu"], **kw)
    assert torch.equal(means, simulate_ic_batch(graph, sets, 20, key=4, **kw)[0])


def test_device_split_refuses_bad_devices_and_the_stream_sampler():
    graph, seeds, _ = _cases()
    with pytest.raises(ValueError, match="counter-based"):
        simulate_ic(graph, seeds, 10, backend="torch", devices=["cpu", "cpu"])
    for bad, msg in (("cpu", "list of devices"), ([], "at least one"), ([None], "devices\\[0\\]"),
                     (["gpu7"], "devices\\[0\\]")):
        with pytest.raises(ValueError, match=msg):
            simulate_ic(graph, seeds, 10, sampler="hash", devices=bad)
