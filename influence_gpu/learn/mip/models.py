"""The learning models LTMIPModel and RWMIPModel (paper A, models (1) and (3)).

A model holds its candidate terms (arcs, and for RW the walks of ``A^2``), builds the MIP of every
target node from the training cascades (:mod:`influence_gpu.learn.mip.problem`), solves them in
parallel under a time limit with HiGHS (:mod:`influence_gpu.solvers.milp`), and predicts, scores,
saves and exports the learned weights.

Parallelism: HiGHS releases the GIL while it solves (both under ``scipy.optimize.milp`` and
``highspy``), so a thread pool overlaps node problems as well as a process pool: on 2 cores, the 50
LT problems of a 50-node ER graph under a 2 s limit took 100 s serially and 50-51 s with either
pool, for either solver. ``executor="process"`` is the default because a worker that crashes or
leaks cannot take the caller down; ``"thread"`` avoids the fork and pickling.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph, edge_index_hash
from influence_gpu.learn.mip.problem import (
    NodeResult,
    _solve_task,
    cascade_accuracy,
    node_problem,
)
from influence_gpu.learn.sparse import coalesce_edge_index, two_hop_walks
from influence_gpu.solvers.milp import MILP_SOLVERS, resolve_milp_solver

__all__ = ["LTMIPModel", "RWMIPModel"]

_EXECUTORS = ("process", "thread", "serial")

#: Model files name their class by its public path, ``influence_gpu.learn.mip.<Class>`` (the
#: module the classes lived in before it became a package, which re-exports them), so files
#: written before and after the split are the same and load either way.
_PUBLIC_MODULE = "influence_gpu.learn.mip"


def _class_path(cls: type) -> str:
    """The class path saved in model files (the public one for this module's classes)."""
    module = _PUBLIC_MODULE if cls.__module__ == __name__ else cls.__module__
    return f"{module}.{cls.__qualname__}"


class _MIPModel:
    """Shared machinery of :class:`LTMIPModel` and :class:`RWMIPModel`.

    Terms: the model's weights are a list of ``V`` terms ``(i_v, j_v, a_v, kind_v)``, sorted by
    target ``j_v``; the influence on ``j`` is ``sum over its terms of a_v w_v x0[i_v]``.
    """

    name = "mip"
    sum_le_one = True

    def __init__(
        self,
        edge_index: torch.Tensor,
        num_nodes: int,
        theta: float = 0.5,
        eps: float = 1e-4,
        eps_w: float | None = None,
        time_limit: float = 10.0,
        mip_rel_gap: float = 1e-4,
        workers: int | None = None,
        executor: str = "process",
        solver: str = "auto",
        progress: bool = True,
        checkpoint_path: str | None = None,
    ) -> None:
        num_nodes = int(num_nodes)
        if num_nodes < 1:
            raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
        ei = torch.as_tensor(edge_index).long().cpu()
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge_index must be [2, E], got {tuple(ei.shape)}")
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= num_nodes):
            raise ValueError(f"edge_index has node ids outside [0, {num_nodes})")
        if not 0.0 < float(theta) < 1.0:
            raise ValueError(f"theta must lie in (0, 1), got {theta}")
        if not 0.0 < float(eps) < 1.0 - float(theta):
            raise ValueError(f"eps must lie in (0, 1 - theta), got {eps}")
        if float(time_limit) <= 0:
            raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
        if float(mip_rel_gap) < 0:
            raise ValueError(f"mip_rel_gap must be >= 0, got {mip_rel_gap}")
        if executor not in _EXECUTORS:
            raise ValueError(f"executor must be one of {_EXECUTORS}, got {executor!r}")
        if solver not in MILP_SOLVERS:
            raise ValueError(f"solver must be one of {MILP_SOLVERS}, got {solver!r}")
        if workers is not None and int(workers) < 1:
            raise ValueError(f"workers must be >= 1 or None, got {workers}")
        self.num_nodes = num_nodes
        self.theta, self.eps = float(theta), float(eps)
        self.eps_w = self._default_eps_w() if eps_w is None else float(eps_w)
        if not 0.0 <= self.eps_w <= 1.0:
            raise ValueError(f"eps_w must lie in [0, 1], got {eps_w}")
        self.time_limit, self.mip_rel_gap = float(time_limit), float(mip_rel_gap)
        self.workers = workers
        self.executor, self.solver, self.progress = executor, solver, bool(progress)
        self.checkpoint_path = checkpoint_path
        self.edge_index = coalesce_edge_index(ei, num_nodes)  # [2, E], sorted by target
        src, dst, coef, kind = self._terms()
        order = torch.argsort(dst * num_nodes * 2 + kind * num_nodes + src)
        self.term_src, self.term_dst = src[order], dst[order]
        self.term_coef, self.term_kind = coef[order].double(), kind[order]
        counts = torch.bincount(self.term_dst, minlength=num_nodes)
        self.term_ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        if self.sum_le_one and self.eps_w * int(counts.max() if counts.numel() else 0) > 1:
            raise ValueError(
                f"eps_w={self.eps_w} times the largest in-degree {int(counts.max())} exceeds 1: "
                "the LT sum constraint cannot hold; lower eps_w"
            )
        self.term_weight = torch.full((self.term_src.numel(),), self.eps_w, dtype=torch.float64)
        self.node_results: list[NodeResult] = []
        self.metrics: dict[str, Any] = {}

    # ------------------------------------------------------------------ model structure
    def _default_eps_w(self) -> float:
        return self.eps

    def _terms(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        src, dst = self.edge_index
        return src, dst, torch.ones(src.numel(), dtype=torch.float64), torch.zeros_like(src)

    def _big_m(self, coef: np.ndarray) -> float:
        return 1.0 - self.theta

    @property
    def num_weights(self) -> int:
        """Number of learned weights (terms)."""
        return int(self.term_src.numel())

    # ------------------------------------------------------------------ prediction
    def influence(self, x0: torch.Tensor) -> torch.Tensor:
        """Total weighted influence ``s[k, j] = sum_v a_v w_v x0[k, i_v]`` on every node.

        Args:
            x0: ``[K, N]`` 0/1 states at ``T0`` (any device).

        Returns:
            ``[K, N]`` float64 influence, on ``x0``'s device.

        Shapes:
            ``[K, N] -> [K, N]``.
        """
        x0 = torch.as_tensor(x0)
        if x0.dim() != 2 or x0.shape[1] != self.num_nodes:
            raise ValueError(f"x0 must be [K, {self.num_nodes}], got {tuple(x0.shape)}")
        dev = x0.device
        val = (self.term_coef * self.term_weight).to(dev)
        x = x0.to(torch.float64)
        return x.new_zeros(x.shape).index_add_(1, self.term_dst.to(dev),
                                               x[:, self.term_src.to(dev)] * val)

    def predict(self, x0: torch.Tensor) -> torch.Tensor:
        """Predicted final states: active at ``T0``, or influence at least ``theta + eps / 2``.

        Args:
            x0: ``[K, N]`` 0/1 states at ``T0``.

        Returns:
            ``[K, N]`` float 0/1 predicted states at ``T``, on ``x0``'s device.

        Shapes:
            ``[K, N] -> [K, N]``.
        """
        x0 = torch.as_tensor(x0)
        hit = self.influence(x0) >= self.theta + self.eps / 2
        return ((x0 > 0.5) | hit).to(torch.float32)

    @property
    def weights(self) -> torch.Tensor:
        """Learned one-hop weights ``w_ij`` as a coalesced sparse COO ``[N, N]`` float64 tensor."""
        one = self.term_kind == 0
        return torch.sparse_coo_tensor(
            torch.stack([self.term_src[one], self.term_dst[one]]), self.term_weight[one],
            (self.num_nodes, self.num_nodes), check_invariants=False,
        ).coalesce()

    def to_diffusion_graph(self) -> DiffusionGraph:
        """The learned LT weights as a :class:`DiffusionGraph` (``edge_prob`` = ``w_ij``)."""
        w = self.weights
        return DiffusionGraph.from_edge_index(
            w.indices(), num_nodes=self.num_nodes, edge_prob=w.values().clamp(0, 1)
        )

    # ------------------------------------------------------------------ fitting
    def _problems(self, x0: np.ndarray, xT: np.ndarray, nodes: list[int]) -> Any:
        src, ptr = self.term_src.numpy(), self.term_ptr.numpy()
        coef = self.term_coef.numpy()
        for j in nodes:
            a, b = int(ptr[j]), int(ptr[j + 1])
            yield node_problem(j, x0, xT, src[a:b], coef[a:b], lower=self.eps_w,
                               big_m=self._big_m(coef[a:b]), sum_le_one=self.sum_le_one,
                               theta=self.theta, eps=self.eps)

    def _resolve_solver(self) -> str:
        return resolve_milp_solver(self.solver)

    def _checkpoint_key(self, x0: np.ndarray, xT: np.ndarray) -> str:
        h = hashlib.sha256()
        for arr in (x0, xT, self.term_src.numpy(), self.term_dst.numpy(), self.term_coef.numpy()):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr((self.name, self.theta, self.eps, self.eps_w, self.time_limit,
                       self.mip_rel_gap)).encode())
        return h.hexdigest()

    def _load_checkpoint(self, key: str) -> dict[int, tuple[np.ndarray, NodeResult]]:
        if self.checkpoint_path is None or not Path(self.checkpoint_path).exists():
            return {}
        state = torch.load(self.checkpoint_path, weights_only=False)
        if state.get("key") != key:
            warnings.warn(f"{self.checkpoint_path} belongs to another problem; starting afresh",
                          stacklevel=3)
            return {}
        return {int(j): (np.asarray(w), NodeResult(**r)) for j, (w, r) in state["done"].items()}

    def _save_checkpoint(self, key: str, done: dict[int, tuple[np.ndarray, NodeResult]]) -> None:
        if self.checkpoint_path is None:
            return
        path = Path(self.checkpoint_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save({"key": key, "done": {j: (w, r.as_dict()) for j, (w, r) in done.items()}}, tmp)
        tmp.replace(path)

    def _solve_all(
        self, x0: np.ndarray, xT: np.ndarray
    ) -> dict[int, tuple[np.ndarray, NodeResult]]:
        from tqdm.auto import tqdm

        solver = self._resolve_solver()
        key = self._checkpoint_key(x0, xT)
        done = self._load_checkpoint(key)
        todo = [j for j in range(self.num_nodes) if j not in done]
        # largest problems first, so the slow ones do not end up alone at the tail
        size = {j: int((x0[:, j] < 0.5).sum()) * int(self.term_ptr[j + 1] - self.term_ptr[j])
                for j in todo}
        todo.sort(key=lambda j: -size[j])
        tasks = ((p, solver, self.time_limit, self.mip_rel_gap)
                 for p in self._problems(x0, xT, todo))
        bar = tqdm(total=self.num_nodes, initial=len(done), desc=f"{self.name} node MIPs",
                   disable=not self.progress)
        save_every = max(1, self.num_nodes // 20)
        workers = self.workers or _cpu_count()
        if self.executor == "serial" or workers == 1:
            results = map(_solve_task, tasks)
            pool = None
        else:
            pool_cls = (cf.ProcessPoolExecutor if self.executor == "process"
                        else cf.ThreadPoolExecutor)
            pool = pool_cls(max_workers=workers)
            results = pool.map(_solve_task, tasks, chunksize=1)
        try:
            for n_new, (w, res) in enumerate(results, 1):
                done[res.node] = (w, res)
                bar.update(1)
                if n_new % save_every == 0:
                    self._save_checkpoint(key, done)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            bar.close()
        self._save_checkpoint(key, done)
        return done

    def fit_tensors(
        self,
        x0_train: torch.Tensor,
        xT_train: torch.Tensor,
        x0_test: torch.Tensor | None = None,
        xT_test: torch.Tensor | None = None,
    ) -> dict[str, Any]:
        """Solve every node's MIP on the training cascades and score train (and test) accuracy.

        Args:
            x0_train: ``[K, N]`` 0/1 training states at ``T0``.
            xT_train: ``[K, N]`` 0/1 training states at ``T``.
            x0_test: ``[K', N]`` test states at ``T0`` (optional).
            xT_test: ``[K', N]`` test states at ``T`` (optional).

        Returns:
            Metrics: ``train/accuracy``, ``train/accuracy_inactive``, ``train/objective`` (mean
            absolute error over the MIPs' ``(j, k)`` pairs), ``test/*`` when test data are given,
            ``fit_time_s``, solve-time sums, status counts, the largest and mean MIP gap,
            ``prediction_mismatch`` and sizes. Per-node details are in :attr:`node_results`
            (:meth:`node_table`).

        Raises:
            ValueError: malformed or mismatched state tensors.

        Shapes:
            x0_train, xT_train ``[K, N]``; x0_test, xT_test ``[K', N]``.
        """
        x0, xT = self._check_states(x0_train, xT_train, "train")
        t = time.perf_counter()
        done = self._solve_all(x0.numpy(), xT.numpy())
        fit_time = time.perf_counter() - t
        weight = self.term_weight.clone()
        ptr = self.term_ptr
        for j, (w, _) in done.items():
            weight[int(ptr[j]): int(ptr[j + 1])] = torch.from_numpy(np.asarray(w, np.float64))
        self.term_weight = weight
        self.node_results = [done[j][1] for j in range(self.num_nodes)]
        res = self.node_results
        pred = self.predict(x0)
        pairs = sum(r.num_cascades for r in res)
        errors = sum(r.errors for r in res)
        mism = int(((pred > 0.5) != (xT > 0.5)).sum()) - errors
        solved = [r for r in res if r.status not in ("no_data", "no_candidates")]
        gaps = [r.mip_gap for r in solved if np.isfinite(r.mip_gap)]
        status_counts: dict[str, int] = {}
        for r in res:
            status_counts[r.status] = status_counts.get(r.status, 0) + 1
        metrics: dict[str, Any] = {
            "model": self.name,
            "num_nodes": self.num_nodes,
            "num_weights": self.num_weights,
            "num_train": int(x0.shape[0]),
            "train/accuracy": cascade_accuracy(pred, x0, xT),
            "train/accuracy_inactive": cascade_accuracy(pred, x0, xT, include_initial=False),
            "train/objective": errors / pairs if pairs else math.nan,
            "fit_time_s": fit_time,
            "solve_time_s_sum": float(sum(r.time_s for r in res)),
            "solve_time_s_max": float(max((r.time_s for r in res), default=0.0)),
            "nodes_optimal": status_counts.get("optimal", 0),
            "nodes_time_limit": sum(v for k, v in status_counts.items()
                                    if k.startswith("time_limit")),
            "status_counts": status_counts,
            "mip_gap_max": float(max(gaps)) if gaps else 0.0,
            "mip_gap_mean": float(np.mean(gaps)) if gaps else 0.0,
            "prediction_mismatch": abs(mism),
            "time_limit": self.time_limit,
            "solver": self._resolve_solver(),
            "executor": self.executor,
            "workers": self.workers or _cpu_count(),
        }
        if x0_test is not None or xT_test is not None:
            if x0_test is None or xT_test is None:
                raise ValueError("give both x0_test and xT_test, or neither")
            metrics.update(self.evaluate(x0_test, xT_test, prefix="test"))
        self.metrics = metrics
        return metrics

    def fit(self, datamodule: Any) -> dict[str, Any]:
        """Fit on ``datamodule``'s training cascades and score its test cascades.

        Args:
            datamodule: a :class:`~influence_gpu.cascades.CascadeDataModule` (or anything with
                ``setup()`` and ``train_dataset`` / ``test_dataset`` holding ``x0`` and ``xT``
                ``[K, N]`` tensors) on this model's graph.

        Returns:
            The metrics of :meth:`fit_tensors`.
        """
        datamodule.setup("fit")
        tr, te = datamodule.train_dataset, datamodule.test_dataset
        return self.fit_tensors(tr.x0, tr.xT, te.x0, te.xT)

    def evaluate(
        self, x0: torch.Tensor, xT: torch.Tensor, prefix: str = "test"
    ) -> dict[str, float]:
        """Accuracy of the learned model on ``(x0, xT)`` pairs (see :func:`cascade_accuracy`).

        Shapes:
            x0, xT ``[K, N]``.
        """
        x0, xT = self._check_states(x0, xT, prefix)
        pred = self.predict(x0)
        return {
            f"{prefix}/accuracy": cascade_accuracy(pred, x0, xT),
            f"{prefix}/accuracy_inactive": cascade_accuracy(pred, x0, xT, include_initial=False),
            f"num_{prefix}": int(x0.shape[0]),
        }

    def _check_states(self, x0: Any, xT: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = torch.as_tensor(x0).detach().float().cpu()
        xT = torch.as_tensor(xT).detach().float().cpu()
        if x0.dim() != 2 or x0.shape != xT.shape or x0.shape[1] != self.num_nodes:
            raise ValueError(
                f"{name} states must both be [K, {self.num_nodes}], got {tuple(x0.shape)} and "
                f"{tuple(xT.shape)}"
            )
        if x0.shape[0] == 0:
            raise ValueError(f"{name} states hold no cascade")
        return x0, xT

    def node_table(self) -> list[dict[str, Any]]:
        """Per-node objective, MIP gap, status and time, one dict per node."""
        return [r.as_dict() for r in self.node_results]

    def format_node_table(self, max_rows: int | None = 20) -> str:
        """The slowest nodes' results as a text table (``max_rows=None``: all nodes)."""
        rows = sorted(self.node_results, key=lambda r: -r.time_s)[:max_rows]
        head = (f"{'node':>6} {'K_j':>5} {'V_j':>5} {'objective':>9} {'gap':>8} "
                f"{'time_s':>8}  status")
        lines = [head]
        for r in rows:
            lines.append(f"{r.node:>6} {r.num_cascades:>5} {r.num_weights:>5} "
                         f"{r.objective:>9.4f} {r.mip_gap:>8.2e} {r.time_s:>8.3f}  {r.status}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ save / load
    def _hparams(self) -> dict[str, Any]:
        return {"num_nodes": self.num_nodes, "theta": self.theta, "eps": self.eps,
                "eps_w": self.eps_w, "time_limit": self.time_limit,
                "mip_rel_gap": self.mip_rel_gap}

    def save(self, path: str | Path) -> Path:
        """Write the fitted weights, the candidate graph and the settings to a ``.pt`` file.

        The file holds only tensors, numbers and strings (``torch.load(..., weights_only=True)``
        reads it); :meth:`load` rebuilds the model with the same predictions.

        Args:
            path: destination file (parent folders are created).

        Returns:
            The path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        simple = {k: v for k, v in self.metrics.items()
                  if isinstance(v, (int, float, str, bool)) or v is None}
        torch.save({
            "influence_gpu_class": _class_path(type(self)),
            "model_kind": self.name,
            "graph_hash": self.graph_hash,
            "hparams": self._hparams(),
            "edge_index": self.edge_index.clone(),
            "term_weight": self.term_weight.clone(),
            "metrics": simple,
        }, path)
        return path

    @property
    def graph_hash(self) -> str:
        """:func:`~influence_gpu.graph.diffusion_graph.edge_index_hash` of the candidate graph.

        Saved with the fitted weights, so a reader can refuse the model on another graph.
        """
        if getattr(self, "_graph_hash", None) is None:
            self._graph_hash = edge_index_hash(self.edge_index, self.num_nodes)
        return self._graph_hash

    @classmethod
    def load(cls, path: str | Path) -> _MIPModel:
        """Rebuild a model written by :meth:`save` (fitted weights included).

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: ``"path: ..."`` for a file that is not a readable model file (truncated,
                foreign, missing entries), holds another model class, a weight vector of the
                wrong size, or a graph hash that does not match its own arcs (corrupt).
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"MIP model file not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
            raise ValueError(f"{path}: not a readable MIP model file ({type(err).__name__}: "
                             f"{err})") from None
        if not isinstance(state, dict):
            raise ValueError(f"{path}: not a MIP model file (holds a {type(state).__name__})")
        want = _class_path(cls)
        if state.get("influence_gpu_class") != want:
            raise ValueError(f"path {path} holds {state.get('influence_gpu_class')!r}, not {want}")
        missing = [k for k in ("hparams", "edge_index", "term_weight") if k not in state]
        if missing:
            raise ValueError(f"{path}: incomplete MIP model file (no {', '.join(missing)})")
        try:
            model = cls(state["edge_index"], progress=False, **state["hparams"])
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{path}: cannot rebuild the model ({err})") from None
        weight = torch.as_tensor(state["term_weight"], dtype=torch.float64)
        if weight.shape != model.term_weight.shape:
            raise ValueError(f"path {path}: {weight.numel()} weights for a model with "
                             f"{model.num_weights}")
        saved = state.get("graph_hash")
        if saved is not None and saved != model.graph_hash:
            raise ValueError(f"{path}: corrupt MIP model file (graph_hash {str(saved)[:12]}... "
                             f"does not match its arcs, {model.graph_hash[:12]}...)")
        model.term_weight = weight
        model.metrics = dict(state.get("metrics") or {})
        return model

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_nodes={self.num_nodes}, num_weights={self.num_weights}"
                f", theta={self.theta}, time_limit={self.time_limit})")


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LTMIPModel(_MIPModel):
    """Linear-threshold learning MIP (paper A, model (1)), one HiGHS problem per target node.

    Learns ``w_ij`` on the arcs of the candidate graph with ``eps_w <= w_ij <= 1`` and
    ``sum_i w_ij <= 1`` so that ``j`` is predicted active in cascade ``k`` iff it was active at
    ``T0`` or ``sum_i w_ij x0[k, i] >= theta + eps``, minimising the mean absolute error over the
    training pairs inactive at ``T0``. See :mod:`influence_gpu.learn.mip.problem` for the
    formulation and readings.

    Args:
        edge_index: ``[2, E]`` candidate arcs ``(i, j)`` (self-loops and duplicates are dropped).
        num_nodes: ``N``.
        theta: activation threshold (paper: 0.5).
        eps: activation margin (paper's ``epsilon``; 1e-4).
        eps_w: lower bound of every weight (``None``: ``eps``, paper (1f)).
        time_limit: seconds per node problem.
        mip_rel_gap: relative MIP gap at which a node problem stops.
        workers: parallel node problems (``None``: the usable CPU cores).
        executor: ``"process"``, ``"thread"`` or ``"serial"``.
        solver: ``"auto"`` (highspy when installed, else scipy), ``"scipy"`` or ``"highspy"``.
        progress: show a tqdm bar over nodes.
        checkpoint_path: file where solved nodes are saved as they finish; a rerun on the same
            data and settings resumes from it.

    Raises:
        ValueError: bad arguments (named in the message).

    Shapes:
        edge_index ``[2, E]``; states ``[K, N]``.
    """

    name = "lt_mip"
    sum_le_one = True


class RWMIPModel(_MIPModel):
    """Random-walk learning MIP (paper A, model (3)): one- and two-hop weights per target node.

    The influence on ``j`` is ``sum_i (a_ij1 w_ij1 + a_ij2 w_ij2) x0[k, i]`` with ``a_ij1`` the
    arcs of the candidate graph and ``a_ij2`` the walk counts of length 2 (``A^2``, ``i != j``,
    optionally pruned to the ``top_m`` largest counts per target); every weight lies in
    ``[eps_w, 1]`` and there is no sum constraint; ``M = sum_i (a_ij1 + a_ij2) - theta``.

    Args:
        edge_index: ``[2, E]`` candidate arcs ``(i, j)``.
        num_nodes: ``N``.
        top_m: keep at most this many two-hop sources per target (``None``: all of ``A^2``).
        theta, eps, time_limit, mip_rel_gap, workers, executor, solver, progress,
            checkpoint_path: as for :class:`LTMIPModel`.
        eps_w: lower bound of every weight (``None``: 0, paper (3e)).

    Raises:
        ValueError: bad arguments.

    Shapes:
        edge_index ``[2, E]``; states ``[K, N]``.
    """

    name = "rw_mip"
    sum_le_one = False

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, top_m: int | None = None,
                 **kwargs: Any) -> None:
        if top_m is not None and int(top_m) < 1:
            raise ValueError(f"top_m must be >= 1 or None, got {top_m}")
        self.top_m = None if top_m is None else int(top_m)
        super().__init__(edge_index, num_nodes, **kwargs)

    def _default_eps_w(self) -> float:
        return 0.0

    def _hparams(self) -> dict[str, Any]:
        return {**super()._hparams(), "top_m": self.top_m}

    def _terms(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        src1, dst1 = self.edge_index
        idx2, cnt2 = two_hop_walks(self.edge_index, self.num_nodes, top_m=self.top_m)
        src = torch.cat([src1, idx2[0]])
        dst = torch.cat([dst1, idx2[1]])
        coef = torch.cat([torch.ones(src1.numel(), dtype=torch.float64), cnt2.double()])
        kind = torch.cat([torch.zeros_like(src1), torch.ones_like(idx2[0])])
        return src, dst, coef, kind

    def _big_m(self, coef: np.ndarray) -> float:
        return float(coef.sum()) - self.theta

    @property
    def weights_two_hop(self) -> torch.Tensor:
        """Learned two-hop weights ``w_ij2`` as a sparse COO ``[N, N]`` float64 tensor."""
        two = self.term_kind == 1
        return torch.sparse_coo_tensor(
            torch.stack([self.term_src[two], self.term_dst[two]]), self.term_weight[two],
            (self.num_nodes, self.num_nodes), check_invariants=False,
        ).coalesce()

    @property
    def effective_weights(self) -> torch.Tensor:
        """``a_ij1 w_ij1 + a_ij2 w_ij2`` as a sparse COO ``[N, N]`` float64 tensor."""
        return torch.sparse_coo_tensor(
            torch.stack([self.term_src, self.term_dst]), self.term_coef * self.term_weight,
            (self.num_nodes, self.num_nodes), check_invariants=False,
        ).coalesce()

    def to_diffusion_graph(self) -> DiffusionGraph:
        """An LT graph approximating the learned random-walk influence.

        The effective weights ``a_ij1 w_ij1 + a_ij2 w_ij2`` on the arcs of ``A`` and ``A^2``,
        scaled per target so that no in-weight sum exceeds 1 (LT's requirement). Targets whose
        sum was below 1 keep their weights, so one-step LT predictions match the model's
        wherever no scaling happened.
        """
        w = self.effective_weights
        idx, val = w.indices(), w.values()
        sums = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(0, idx[1], val)
        val = val / sums.clamp_min(1.0)[idx[1]]
        return DiffusionGraph.from_edge_index(idx, num_nodes=self.num_nodes,
                                              edge_prob=val.clamp(0, 1))
