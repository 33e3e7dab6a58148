"""``evaluate.py experiment=paper_c_random`` / ``paper_c_bitcoin`` (``task=paper_c``): paper C.

``cfg.paper_c.experiment`` is a partial of one of the experiments of
:mod:`influence_gpu.selection.signed.experiments` (``_target_`` = the function, keys = its
arguments): :func:`~influence_gpu.selection.signed.experiments.random_instances_experiment`
(the three MILPs and the local search on random instances) or
:func:`~influence_gpu.selection.signed.experiments.bitcoin_experiment` (the local search on a
signed data set). The task runs it and writes ``metrics.json`` with one record per (instance,
method / formulation) under ``results``, a ``summary`` and the markdown ``tables``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from omegaconf import DictConfig

from influence_gpu.apps._run import finish, output_dir, seed_everything

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run paper C's experiment of ``cfg.paper_c.experiment``; write ``metrics.json``.

    Args:
        cfg: the composed ``conf/evaluate.yaml`` with a ``paper_c`` node (see
            ``conf/experiment/paper_c_random.yaml``).

    Returns:
        The metrics written to ``metrics.json``: ``task_name``, ``task``, ``experiment`` (the
        function's name), ``results`` (the records), ``summary`` (per method counts, mean
        seconds, MILPs solved, the local search against the proven optima) and ``tables``.

    Raises:
        ValueError: no ``paper_c.experiment`` node with a ``_target_``.
    """
    from hydra.utils import instantiate

    from influence_gpu.selection.signed.experiments import summarize, summary_metrics

    node = cfg.get("paper_c")
    if node is None or not isinstance(node.get("experiment"), DictConfig) \
            or "_target_" not in node.experiment:
        raise ValueError(
            "task=paper_c needs paper_c.experiment: a partial of an experiment of "
            "influence_gpu.selection.signed.experiments; run it through "
            "experiment=paper_c_random or experiment=paper_c_bitcoin"
        )
    seed_everything(cfg)
    out_dir = output_dir(cfg)
    t0 = time.perf_counter()
    experiment = instantiate(node.experiment, _convert_="all")
    name = getattr(getattr(experiment, "func", experiment), "__name__", str(experiment))
    log.info("paper C: %s", name)
    records = experiment(log=log.info)
    tables = summarize(records)
    print(tables)
    metrics = {
        "task_name": str(cfg.get("task_name", "evaluate")),
        "task": "paper_c",
        "experiment": name,
        "seed": int(cfg.seed),
        "results": records,
        "summary": summary_metrics(records),
        "tables": tables,
    }
    return finish(out_dir, metrics, t0)
