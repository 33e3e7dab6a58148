"""``evaluate.py task=spread seeds=[...]``: the spread of given seeds under ``cfg.diffusion``."""

from __future__ import annotations

import logging
import time
from typing import Any

from omegaconf import DictConfig, OmegaConf

from influence_gpu.apps._distributed import distributed_group
from influence_gpu.apps._run import (
    build_graph,
    evaluation_metrics,
    finish,
    format_table,
    jsonable,
    output_dir,
    resolve_device,
    seed_everything,
)

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Simulate ``cfg.diffusion`` from ``cfg.seeds`` (node labels) and report mean and stderr.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with ``task=spread``.

    Returns:
        The metrics written to ``<output_dir>/metrics.json``: ``seeds``, ``spread``, ``stderr``,
        ``simulate_seconds``, ``world_size`` (ranks under ``torchrun``; only rank 0 writes) and
        the run's graph / model / device.

    Raises:
        ValueError: no seeds, or a seed that is not a node of the graph (``seeds=abc`` on an
            integer-labelled graph included).
        TypeError: a seed of the wrong kind (e.g. ``seeds=[1.5]``).
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from influence_gpu.diffusion._common import as_seed_tensor, make_generator

    seed_everything(cfg)
    device = resolve_device(cfg.get("device", "auto"))
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    graph = build_graph(cfg.graph).to(device)
    log.info("graph %s on %s", graph, device)
    try:
        diffusion = instantiate(cfg.diffusion)
    except InstantiationException as err:  # surface the model's own TypeError / ValueError
        cause = err.__cause__
        if isinstance(cause, (TypeError, ValueError)):
            raise type(cause)(f"diffusion config: {cause}") from err
        raise
    metrics = evaluation_metrics(cfg, "spread", graph, device, diffusion)

    seeds = cfg.get("seeds")
    if OmegaConf.is_list(seeds):
        seeds = list(OmegaConf.to_container(seeds, resolve=True))
    elif seeds is not None and not OmegaConf.is_config(seeds):
        seeds = [seeds]  # seeds=5 or seeds=abc: one node label
    else:
        seeds = None if seeds is None else []
    if not seeds:
        raise ValueError("task=spread needs seeds=[...] (node labels of the graph)")
    ids = as_seed_tensor(graph, seeds, "seeds")
    with distributed_group(graph.device) as world:
        # under torchrun the runs are split across the ranks and gathered (counter-based coins:
        # the spread equals a one-process run's); models without sharding run whole on each rank
        extra = {"shard": "auto"} if world > 1 and diffusion.shardable else {}
        if world > 1 and not diffusion.shardable:
            log.warning("%s runs are not split across ranks: every rank simulates all of them",
                        diffusion.name)
        t1 = time.perf_counter()
        res = diffusion.simulate(graph, ids, generator=make_generator(int(cfg.seed), graph.device),
                                 **extra)
        seconds = time.perf_counter() - t1
    metrics["world_size"] = world
    row = [diffusion.name, f"{res.mean:.3f}", f"{res.stderr:.3f}", f"{seconds:.2f}"]
    header = ["model", "spread", "stderr", "seconds"]
    if diffusion.blocks:  # threshold models: the blocked count beside the active one
        row[3:3] = [f"{res.blocked_mean:.3f}", f"{res.blocked_stderr:.3f}"]
        header[3:3] = ["blocked", "blocked stderr"]
        metrics.update(blocked=res.blocked_mean, blocked_stderr=res.blocked_stderr)
    print(
        format_table(
            [row],
            header,
            title=f"spread of {len(seeds)} seeds, {res.num_samples} runs, "
            f"graph {cfg.graph.get('name', '')} ({graph.num_nodes} nodes, {graph.num_edges} edges)",
        )
    )
    metrics.update(
        seeds=[jsonable(s) for s in seeds],
        spread=res.mean,
        stderr=res.stderr,
        simulate_seconds=seconds,
    )
    return finish(out_dir, metrics, t0)
