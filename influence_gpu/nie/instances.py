r"""Training data of the Neural Influence Estimator: IBM instances and their blocked influence.

Instances follow paper B (Sec. V-A1 and V-A4):

* ``S_F``: rank the nodes by out-degree (ties by node id), keep the top ``ceil(x * |V|)`` as the
  high-impact set, and draw ``S_F`` uniformly without replacement from it. Its size follows the
  paper's "power-law distribution with shape 9 and scale 10". We read this as the power-function
  law of ``scipy.stats.powerlaw(a=9, scale=10)`` (the only common distribution named "power law"
  with exactly a shape and a scale parameter): density ``a x^(a-1) / scale^a`` on ``(0, scale]``,
  sampled as ``scale * U^(1/a)`` and rounded up, so ``|S_F|`` lies in ``1..10`` with mean about
  9.1 (``P(|S_F| = 10) = 1 - 0.9^9 = 0.61``). It is clipped to the high-impact set's size.
* ``S_T``: size uniform in ``1..|S_F|`` (the paper's ``|S_T| <= |S_F|``, the budget ``k = |S_F|``
  of its test problems), nodes uniform without replacement from ``V \\ S_F``.
* Optional, not in the paper (``local_fraction > 0``): that fraction of the instances instead
  draws ``S_T`` from ``N_h(S_F) \\ S_F``, the candidates NIE-CELF scores, without replacement with
  probability proportional to ``(out_degree + 1) ** local_degree_power`` (``0``: uniform over
  the ball; ``1``: biased towards the hubs a greedy blocker picks). On sparse graphs a uniform
  ``S_T`` lies mostly far from ``S_F``, so the paper's recipe rarely shows the model the sets
  NIE-CELF queries. ``local_fraction = 0`` (the default) is the paper's recipe, draw for draw.
* label: the blocked influence ``f(S_T | S_F)`` from ``R`` competitive-IC runs in which the
  false-only and the with-truth diffusions share their live-edge worlds (common random numbers,
  :func:`~influence_gpu.diffusion.blocked_influence_batch`); each instance has its own hash key,
  drawn from the build seed, so labels do not depend on chunking or on resuming.

:func:`build_training_set` writes everything to one versioned ``torch.save`` file, saved after
every chunk, and resumes from it after an interruption.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from influence_gpu.diffusion import blocked_influence_batch
from influence_gpu.diffusion._common import draw_key, make_generator
from influence_gpu.diffusion._runs import gather_runs, resolve_shard, shard_range
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.neighbourhoods import hop_neighbourhood
from influence_gpu.graph.statistics import NodeStatistics
from influence_gpu.nie.features import (
    NIEFeaturizer,
    check_weight_rule,
    check_worlds,
    feature_names,
)
from influence_gpu.typing import DeviceLike

__all__ = [
    "TRAINING_SET_VERSION",
    "sample_instances",
    "label_instances",
    "build_training_set",
    "load_training_set",
    "pack_instances",
    "unpack_instances",
    "refeaturize_training_set",
]

#: Format version of training-set files.
TRAINING_SET_VERSION = 2  # 2: the config records local_fraction / local_degree_power / local_h

Instance = tuple[torch.Tensor, torch.Tensor]


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def sample_instances(
    graph: DiffusionGraph,
    num_instances: int,
    *,
    x: float = 0.1,
    shape: float = 9.0,
    scale: float = 10.0,
    generator: torch.Generator | None = None,
    local_fraction: float = 0.0,
    local_degree_power: float = 1.0,
    h: int = 2,
    return_local: bool = False,
) -> list[Instance] | tuple[list[Instance], torch.Tensor]:
    r"""Draw ``(S_F, S_T)`` instances as paper B does (see the module docstring).

    Args:
        graph: the graph (only its out-degrees are used).
        num_instances: number of instances ``I`` (>= 1).
        x: fraction of nodes, by out-degree, that form the high-impact set (paper: 0.1;
            0.01 on web-Stanford); at least one node.
        shape: shape ``a`` of the power-function law of ``|S_F|``.
        scale: scale of that law (the largest ``|S_F|``).
        generator: CPU ``torch.Generator`` (default: a freshly seeded one).
        local_fraction: fraction in ``[0, 1]`` of instances whose ``S_T`` comes from
            ``N_h(S_F) \\ S_F`` (not in the paper; 0 keeps its recipe exactly). A ball smaller
            than ``|S_T|`` is topped up uniformly from the rest of ``V \\ S_F``.
        local_degree_power: such ``S_T`` are drawn with weights
            ``(out_degree + 1) ** local_degree_power`` (``>= 0``; 0 = uniform over the ball).
        h: hop radius of that ball (the features' ``h``).
        return_local: also return which instances drew ``S_T`` from the ball.

    Returns:
        ``I`` pairs ``(S_F, S_T)`` of sorted int64 CPU tensors, disjoint, with
        ``1 <= |S_T| <= |S_F|``; with ``return_local``, also a ``[I]`` bool tensor.

    Raises:
        ValueError: ``num_instances < 1``, ``x`` outside (0, 1], non-positive ``shape`` or
            ``scale``, ``local_fraction`` outside ``[0, 1]``, negative ``local_degree_power``,
            ``h < 1``, or a graph with fewer than 2 nodes.

    Shapes:
        ``S_F [k_F]``, ``S_T [k_T]`` with ``k_T <= k_F``.
    """
    num_instances = _check_positive_int(num_instances, "num_instances")
    if not 0.0 < float(x) <= 1.0:
        raise ValueError(f"x must lie in (0, 1], got {x!r}")
    if float(shape) <= 0 or float(scale) <= 0:
        raise ValueError(f"shape and scale must be positive, got {shape!r} and {scale!r}")
    if not 0.0 <= float(local_fraction) <= 1.0:
        raise ValueError(f"local_fraction must lie in [0, 1], got {local_fraction!r}")
    if float(local_degree_power) < 0:
        raise ValueError(f"local_degree_power must be >= 0, got {local_degree_power!r}")
    if isinstance(h, bool) or not isinstance(h, int) or h < 1:
        raise ValueError(f"h must be an integer >= 1, got {h!r}")
    n = graph.num_nodes
    if n < 2:
        raise ValueError(f"graph needs at least 2 nodes to draw instances, got {n}")
    gen = make_generator(generator, "cpu")
    deg = graph.out_degree().cpu()
    local_weight = (deg.double() + 1.0) ** float(local_degree_power)
    top_size = max(1, math.ceil(float(x) * n))
    high = torch.sort(-deg, stable=True).indices[:top_size]  # ties: lower id first
    max_f = min(top_size, n - 1)
    out: list[Instance] = []
    local_flags: list[bool] = []
    for _ in range(num_instances):
        u = float(torch.rand((), generator=gen, dtype=torch.float64))
        k_f = min(max(1, math.ceil(float(scale) * u ** (1.0 / float(shape)))), max_f)
        f = torch.sort(high[torch.randperm(top_size, generator=gen)[:k_f]]).values
        k_t = int(torch.randint(1, k_f + 1, (), generator=gen))
        k_t = min(k_t, n - k_f)
        taken = set(f.tolist())
        chosen: list[int] = []
        is_local = False
        # the extra draw happens only when the option is on: local_fraction = 0 is draw-for-draw
        # the paper's recipe
        if local_fraction > 0 and float(torch.rand((), generator=gen)) < float(local_fraction):
            ball = hop_neighbourhood(graph, f.to(graph.device), h).cpu()
            if ball.numel():
                m = min(k_t, ball.numel())
                pick = torch.multinomial(local_weight[ball], m, replacement=False, generator=gen)
                chosen = ball[pick].tolist()
                taken.update(chosen)
                is_local = True
        while len(chosen) < k_t:  # rejection: cheap when |S_F| + |S_T| << n
            for d in torch.randint(n, (2 * (k_t - len(chosen)) + 4,), generator=gen).tolist():
                if d not in taken:
                    taken.add(d)
                    chosen.append(d)
                    if len(chosen) == k_t:
                        break
        out.append((f, torch.sort(torch.tensor(chosen, dtype=torch.long)).values))
        local_flags.append(is_local)
    if return_local:
        return out, torch.tensor(local_flags, dtype=torch.bool)
    return out


def label_instances(
    graph: DiffusionGraph,
    instances: Sequence[Instance],
    num_samples: int = 1000,
    *,
    generator: torch.Generator | None = None,
    keys: Sequence[int] | torch.Tensor | None = None,
    device: DeviceLike = None,
    progress: bool = False,
) -> torch.Tensor:
    """Blocked influence of each instance from ``num_samples`` competitive-IC runs (paper B).

    Each instance is simulated with and without its truth set on the same live-edge worlds
    (common random numbers, :func:`~influence_gpu.diffusion.blocked_influence_batch`).

    Args:
        graph: the graph with ``edge_prob``.
        instances: ``(S_F, S_T)`` pairs of internal ids.
        num_samples: runs ``R`` per instance (paper: 1,000).
        generator: draws one hash key per instance when ``keys`` is not given.
        keys: hash key of each instance's worlds (makes labels reproducible chunk by chunk).
        device: where to simulate (default: the graph's device).
        progress: show a tqdm bar.

    Returns:
        ``[I]`` float64 CPU tensor of blocked influences.

    Raises:
        ValueError: ``keys`` of the wrong length, bad seeds, no ``edge_prob``.

    Shapes:
        output ``[len(instances)]``.
    """
    num_samples = _check_positive_int(num_samples, "num_samples")
    g = graph.to(device) if device is not None else graph
    if keys is not None:
        keys = [int(k) for k in (keys.tolist() if isinstance(keys, torch.Tensor) else keys)]
        if len(keys) != len(instances):
            raise ValueError(f"keys has {len(keys)} entries, instances has {len(instances)}")
    else:
        gen = make_generator(generator, "cpu")
        keys = [draw_key(gen) for _ in instances]
    out = torch.zeros(len(instances), dtype=torch.float64)
    items = enumerate(instances)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, total=len(instances), desc="labelling", unit="inst")
    for i, (f, t) in items:
        val = blocked_influence_batch(
            g, f.to(g.device), [t.to(g.device)], num_samples, key=keys[i]
        )
        out[i] = float(val[0])
    return out


def pack_instances(instances: Sequence[Instance]) -> dict[str, torch.Tensor]:
    """Pack instances into four flat tensors (CSR style) for storage.

    Returns:
        ``{"false_ptr": [I+1], "false_idx": [sum k_F], "true_ptr": [I+1], "true_idx": [...]}``.
    """
    out = {}
    for j, name in ((0, "false"), (1, "true")):
        sets = [inst[j].long().cpu().reshape(-1) for inst in instances]
        sizes = torch.tensor([s.numel() for s in sets], dtype=torch.long)
        out[f"{name}_ptr"] = torch.cat([sizes.new_zeros(1), torch.cumsum(sizes, 0)])
        out[f"{name}_idx"] = torch.cat(sets) if sets else sizes.new_zeros(0)
    return out


def unpack_instances(packed: dict[str, torch.Tensor]) -> list[Instance]:
    """Inverse of :func:`pack_instances`."""
    fp, fi = packed["false_ptr"].tolist(), packed["false_idx"]
    tp, ti = packed["true_ptr"].tolist(), packed["true_idx"]
    return [
        (fi[fp[i] : fp[i + 1]].clone(), ti[tp[i] : tp[i + 1]].clone()) for i in range(len(fp) - 1)
    ]


def _config(
    num_instances: int, num_samples: int, seed: int, x: float, shape: float, scale: float, h: int,
    local_fraction: float = 0.0, local_degree_power: float = 1.0, local_h: int | None = None,
    weight_rule: str = "alg1", worlds: int = 0, worlds_seed: int = 0, roots_per_world: int = 0,
) -> dict[str, Any]:
    return {
        "local_fraction": float(local_fraction),
        "local_degree_power": float(local_degree_power),
        "local_h": int(h if local_h is None else local_h),
        "num_instances": int(num_instances),
        "num_samples": int(num_samples),
        "seed": int(seed),
        "x": float(x),
        "shape": float(shape),
        "scale": float(scale),
        "h": int(h),
        "weight_rule": check_weight_rule(weight_rule),
        "worlds": check_worlds(worlds),
        "worlds_seed": int(worlds_seed),
        "roots_per_world": check_worlds(roots_per_world, "roots_per_world"),
    }


def _num_features(config: dict[str, Any]) -> int:
    return len(feature_names(int(config.get("worlds", 0))))


def load_training_set(
    path: str | os.PathLike,
    graph: DiffusionGraph | None = None,
    *,
    config: dict[str, Any] | None = None,
    require_complete: bool = False,
) -> dict[str, Any]:
    """Read a training-set file written by :func:`build_training_set`, checking it.

    Args:
        path: the file.
        graph: when given, the file must have been built on this graph (same content hash).
        config: when given, the file's generation config must equal it.
        require_complete: refuse a partial file (an interrupted build).

    Returns:
        The stored dict: ``version``, ``graph_hash``, ``config``, ``instances`` (packed, see
        :func:`pack_instances`), ``local [I]`` (bool: ``S_T`` drawn from ``N_h(S_F)``),
        ``keys [I]``, ``features [I, F]`` float32 (``F`` = 7, or 8 with ``worlds``), ``labels [I]``
        float32, ``num_done`` (rows filled so far) and ``complete``.

    Raises:
        ValueError: unreadable file, another format version, another graph, another config, or
            an incomplete file with ``require_complete``.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - report any unreadable file the same way
        raise ValueError(f"{path}: not a readable training-set file ({err})") from err
    if not isinstance(state, dict) or state.get("version") != TRAINING_SET_VERSION:
        got = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"{path}: training-set format version {got!r}, expected {TRAINING_SET_VERSION}"
        )
    _check_state_layout(state, path)
    # files written before local_h was recorded drew their local S_T from the h-ball
    state["config"].setdefault("local_h", state["config"].get("h"))
    # files written before weight_rule / worlds were recorded: paper B's Alg. 1, 7 features
    state["config"].setdefault("weight_rule", "alg1")
    state["config"].setdefault("worlds", 0)
    state["config"].setdefault("worlds_seed", 0)
    state["config"].setdefault("roots_per_world", 0)
    if graph is not None and state["graph_hash"] != graph.content_hash():
        raise ValueError(
            f"{path}: built on another graph (graph_hash {state['graph_hash'][:12]}..., "
            f"this graph {graph.content_hash()[:12]}...); use another path or resume=False"
        )
    if config is not None and state["config"] != config:
        diff = sorted(
            k for k in set(config) | set(state["config"])
            if config.get(k) != state["config"].get(k)
        )
        detail = ", ".join(f"{k}: file {state['config'].get(k)!r} vs {config.get(k)!r}"
                           for k in diff)
        raise ValueError(f"{path}: generation config differs ({detail})")
    if graph is not None:
        for side in ("false", "true"):
            idx = state["instances"][f"{side}_idx"]
            if idx.numel() and int(idx.max()) >= graph.num_nodes:
                raise ValueError(
                    f"{path}: corrupt training-set file (instances.{side}_idx holds node id "
                    f"{int(idx.max())} on a graph of {graph.num_nodes} nodes)"
                )
    if require_complete and not state["complete"]:
        raise ValueError(
            f"{path}: incomplete training set ({state['num_done']} of "
            f"{state['config']['num_instances']} instances); rerun build_training_set to resume"
        )
    return state


def _check_state_layout(state: dict[str, Any], path: Path) -> None:
    """Refuse a training-set file whose fields are missing, mistyped or of inconsistent sizes."""

    def bad(what: str) -> ValueError:
        return ValueError(f"{path}: corrupt training-set file ({what})")

    need = ("graph_hash", "config", "instances", "keys", "features", "labels", "num_done",
            "complete")
    missing = [k for k in need if k not in state]
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    config = state["config"]
    if not isinstance(config, dict) or not isinstance(config.get("num_instances"), int):
        raise bad("config without an integer num_instances")
    if not isinstance(state["graph_hash"], str):
        raise bad("graph_hash is not a string")
    total = config["num_instances"]
    width = _num_features(config)
    for name, dtype, shape in (("keys", None, (total,)),
                               ("features", torch.float32, (total, width)),
                               ("labels", torch.float32, (total,))):
        t = state[name]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape or (
            dtype is not None and t.dtype != dtype
        ):
            got = (f"{tuple(t.shape)} {t.dtype}" if isinstance(t, torch.Tensor)
                   else type(t).__name__)
            raise bad(f"{name} should be {shape}{'' if dtype is None else f' {dtype}'}, got {got}")
    done = state["num_done"]
    if isinstance(done, bool) or not isinstance(done, int) or not 0 <= done <= total:
        raise bad(f"num_done {done!r} outside 0..{total}")
    if not isinstance(state["complete"], bool) or state["complete"] != (done == total):
        raise bad(f"complete={state['complete']!r} with {done} of {total} instances done")
    packed = state["instances"]
    if not isinstance(packed, dict):
        raise bad("instances is not a dict")
    for side in ("false", "true"):
        ptr, idx = packed.get(f"{side}_ptr"), packed.get(f"{side}_idx")
        if not isinstance(ptr, torch.Tensor) or not isinstance(idx, torch.Tensor):
            raise bad(f"instances lack {side}_ptr / {side}_idx")
        if (ptr.dim() != 1 or ptr.numel() != total + 1 or int(ptr[0]) != 0
                or int(ptr[-1]) != idx.numel() or bool((ptr[1:] < ptr[:-1]).any())):
            raise bad(f"instances.{side}_ptr is not a valid offset array for {total} instances")
        if idx.numel() and int(idx.min()) < 0:
            raise bad(f"instances.{side}_idx holds negative node ids")
    if done and not bool(torch.isfinite(state["labels"][:done]).all()):
        raise bad("non-finite labels")


def _save(state: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interruption never leaves half a file


def build_training_set(
    graph: DiffusionGraph,
    num_instances: int,
    num_samples: int,
    path: str | os.PathLike,
    *,
    seed: int = 0,
    x: float = 0.1,
    shape: float = 9.0,
    scale: float = 10.0,
    h: int = 2,
    local_fraction: float = 0.0,
    local_degree_power: float = 1.0,
    local_h: int | None = None,
    weight_rule: str = "alg1",
    worlds: int = 0,
    worlds_seed: int = 0,
    roots_per_world: int = 0,
    chunk_size: int = 64,
    resume: bool = True,
    progress: bool = True,
    device: DeviceLike = None,
    stats: NodeStatistics | None = None,
    shard: Any = None,
) -> dict[str, Any]:
    """Sample, featurize and label NIE training instances into a resumable file (paper B).

    The instances and one hash key per instance are drawn from ``seed`` up front and saved
    first; features and labels are then filled ``chunk_size`` instances at a time, saving the
    file after every chunk. A later call with ``resume=True`` continues where the file stops,
    and the finished file is the same as that of an uninterrupted build.

    Args:
        graph: the graph with ``edge_prob``.
        num_instances: ``I`` (paper: 100,000).
        num_samples: competitive-IC runs per label (paper: 1,000).
        path: output file (``torch.save`` dict; see :func:`load_training_set`).
        seed: seed of the instances and of the simulation keys.
        x: high-impact fraction for ``S_F`` (paper: 0.1; 0.01 on web-Stanford).
        shape: shape of the ``|S_F|`` power-function law (paper: 9).
        scale: its scale (paper: 10).
        h: hop radius of the interrelation feature (and of the local ``S_T`` ball).
        local_fraction: fraction of instances with ``S_T`` from ``N_h(S_F)`` (not in the
            paper; 0 = its recipe; see :func:`sample_instances`).
        local_degree_power: out-degree bias of those ``S_T`` (see :func:`sample_instances`).
        local_h: radius of the ball those ``S_T`` come from (default: ``h``). Only the
            features depend on ``h``, so files that differ only in ``h`` (same ``local_h``) hold
            the same instances and labels (:func:`refeaturize_training_set`).
        weight_rule: weights of the interrelation feature, ``"alg1"`` (paper B) or ``"edge"``
            (see :mod:`influence_gpu.nie.features`); like ``h`` it changes features only.
        worlds: sampled worlds of the eighth feature ``saved`` (``0``: paper B's seven;
            :mod:`influence_gpu.nie.features`); features only, its worlds independent of the
            labels' (they come from ``worlds_seed`` and ``S_F``).
        worlds_seed: seed of those worlds.
        roots_per_world: ``0`` (every reached node) or ``r`` sampled roots per world of that
            feature's sketch.
        chunk_size: instances per saved chunk.
        resume: continue a partial file at ``path`` (its graph hash and config must match);
            ``False`` starts afresh and overwrites it.
        progress: show a tqdm bar.
        device: where to simulate and featurize (default: the graph's device).
        stats: precomputed statistics (default: computed / read from the disk cache).
        shard: ``None``, ``"auto"`` or ``(rank, world)``: split every chunk's instances across
            the ranks of the ``torch.distributed`` process group and gather their features and
            labels (each label depends on its instance's key only, so the file equals a
            one-process build); only rank 0 writes the file. A collective: every rank calls.

    Returns:
        The final state dict, as :func:`load_training_set` returns it.

    Raises:
        ValueError: bad sizes, or (with ``resume``) a file at ``path`` from another graph,
            config or format version.
    """
    num_instances = _check_positive_int(num_instances, "num_instances")
    num_samples = _check_positive_int(num_samples, "num_samples")
    chunk_size = _check_positive_int(chunk_size, "chunk_size")
    path = Path(path)
    rank, world = resolve_shard(shard)
    config = _config(num_instances, num_samples, seed, x, shape, scale, h, local_fraction,
                     local_degree_power, local_h, weight_rule, worlds, worlds_seed,
                     roots_per_world)
    width = _num_features(config)
    graph_hash = graph.content_hash()
    if resume and path.exists():
        state = load_training_set(path, graph, config=config)
    else:
        gen = torch.Generator().manual_seed(int(seed))
        instances, local = sample_instances(
            graph, num_instances, x=x, shape=shape, scale=scale, generator=gen,
            local_fraction=local_fraction, local_degree_power=local_degree_power,
            h=config["local_h"], return_local=True,
        )
        keys = torch.tensor([draw_key(gen) for _ in range(num_instances)], dtype=torch.long)
        state = {
            "version": TRAINING_SET_VERSION,
            "graph_hash": graph_hash,
            "config": config,
            "instances": pack_instances(instances),
            "local": local,
            "keys": keys,
            "features": torch.zeros(num_instances, width, dtype=torch.float32),
            "labels": torch.zeros(num_instances, dtype=torch.float32),
            "num_done": 0,
            "complete": False,
        }
        if rank == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
            _save(state, path)
    if state["complete"]:
        return state
    g = graph.to(device) if device is not None else graph
    featurizer = NIEFeaturizer(g, stats, h=h, weight_rule=weight_rule, worlds=worlds,
                               worlds_seed=worlds_seed, roots_per_world=roots_per_world)
    instances = unpack_instances(state["instances"])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_instances, initial=state["num_done"], desc="NIE data", unit="inst")
    try:
        while state["num_done"] < num_instances:
            a = state["num_done"]
            b = min(a + chunk_size, num_instances)
            off, cnt = shard_range(b - a, rank, world)  # this rank's share of the chunk
            mine = instances[a + off : a + off + cnt]
            feats = torch.zeros(cnt, width, dtype=torch.float32)
            labels = torch.zeros(cnt, dtype=torch.float64)
            if cnt:
                feats = torch.stack([
                    featurizer.features(f.to(g.device), [t.to(g.device)])[0].cpu().float()
                    for f, t in mine
                ])
                labels = label_instances(g, mine, num_samples,
                                         keys=state["keys"][a + off : a + off + cnt])
            state["features"][a:b] = gather_runs(feats, b - a, world)
            state["labels"][a:b] = gather_runs(labels, b - a, world).float()
            state["num_done"] = b
            state["complete"] = b == num_instances
            if rank == 0:
                _save(state, path)
            if bar is not None:
                bar.update(b - a)
    finally:
        if bar is not None:
            bar.close()
    return state


def refeaturize_training_set(
    graph: DiffusionGraph,
    source: str | os.PathLike,
    path: str | os.PathLike,
    h: int,
    *,
    weight_rule: str | None = None,
    worlds: int | None = None,
    worlds_seed: int | None = None,
    roots_per_world: int | None = None,
    stats: NodeStatistics | None = None,
    device: DeviceLike = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Copy a complete training set with its features recomputed (``h``, weight rule, worlds).

    Labels and instances do not depend on ``h``, ``weight_rule`` or ``worlds`` (they only enter
    the features), so this gives the file that :func:`build_training_set` would write with them
    and the source's ``local_h``, without labelling again.

    Args:
        graph: the graph the source was built on.
        source: a complete training-set file.
        path: the output file.
        h: the new hop radius (``>= 1``).
        weight_rule: the new weight rule (default: the source's).
        worlds: the new number of sampled worlds of the ``saved`` feature (default: the
            source's).
        worlds_seed: their seed (default: the source's).
        roots_per_world: sampled roots per world of their sketch (default: the source's).
        stats: precomputed statistics (default: computed / read from the disk cache).
        device: where to featurize (default: the graph's device).
        progress: tqdm bar.

    Returns:
        The new state dict.

    Raises:
        ValueError: ``h < 1``, or a source that is incomplete or from another graph.
    """
    if isinstance(h, bool) or not isinstance(h, int) or h < 1:
        raise ValueError(f"h must be an integer >= 1, got {h!r}")
    state = load_training_set(source, graph, require_complete=True)
    if weight_rule is None:
        weight_rule = state["config"]["weight_rule"]
    worlds = check_worlds(state["config"]["worlds"] if worlds is None else worlds)
    if worlds_seed is None:
        worlds_seed = state["config"]["worlds_seed"]
    if roots_per_world is None:
        roots_per_world = state["config"]["roots_per_world"]
    g = graph.to(device) if device is not None else graph
    featurizer = NIEFeaturizer(g, stats, h=h, weight_rule=weight_rule, worlds=worlds,
                               worlds_seed=int(worlds_seed), roots_per_world=roots_per_world)
    instances = unpack_instances(state["instances"])
    if progress:
        from tqdm.auto import tqdm

        instances = tqdm(instances, desc="NIE features", unit="inst")
    feats = [featurizer.features(f.to(g.device), [t.to(g.device)])[0].cpu()
             for f, t in instances]
    config = dict(state["config"])
    config.setdefault("local_h", config["h"])
    config["h"] = int(h)
    config["weight_rule"] = weight_rule
    config["worlds"] = worlds
    config["worlds_seed"] = int(worlds_seed)
    config["roots_per_world"] = int(roots_per_world)
    state = {**state, "config": config, "features": torch.stack(feats).float()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(state, path)
    return state
