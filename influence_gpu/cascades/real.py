"""Cascades from real logs, and paper A's published Digg observations.

* :func:`cascades_from_events`: a vote/share log of ``(user, item, timestamp)`` events plus a
  friendship arc list becomes one observation per item (paper A, "Experiments on real data"):
  ``x0`` = users active within ``t0`` of the item's first event, ``xT`` = users active within
  ``tt`` of it (the paper's intervals are ``tt = 4 * t0`` and ``9 * t0``), on a node subset (the
  largest weakly connected part of the friendship graph, or the ``k`` most active users); items
  with no new activation inside the subset are dropped, as the paper does.
* :func:`load_digg_qiang2019`: the 406 x 1,203 observations published with paper A's code. Their
  friendship graph was never published, so a candidate graph is built here: all user pairs
  (``graph="complete"``, for LTNN), or a sparse graph inferred from training cascades only
  (``graph="inferred"``, :func:`influence_gpu.learn.candidate_graph.cooccurrence_candidate_graph`,
  the one implementation of that inference).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import torch

from influence_gpu.cascades.data import CascadeData
from influence_gpu.learn.candidate_graph import (
    complete_candidate_graph,
    cooccurrence_candidate_graph,
)

__all__ = [
    "cascades_from_events",
    "load_digg_qiang2019",
    "DIGG_FILES",
]

#: The two files of ``digg_qiang2019/`` (x0 at T0 and xT at Tt, 406 stories x 1,203 users).
DIGG_FILES = (
    "digsourceuser-10000-100000.csv.gz",
    "digtargetuser-10000-100000.csv.gz",
)


def _as_array(x: Any, name: str, cols: int) -> np.ndarray:
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    elif isinstance(x, torch.Tensor):
        x = x.cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim != 2 or cols not in arr.shape:
        raise ValueError(f"{name} must be a table with {cols} columns, got shape {arr.shape}")
    if arr.shape[1] != cols:
        arr = arr.T
    return arr


def cascades_from_events(
    events: Any,
    edges: Any,
    t0: float,
    tt: float,
    subset: str = "lcc",
    k: int | None = None,
    min_new: int = 1,
    name: str = "events",
) -> CascadeData:
    """One ``(x0, xT)`` observation per item from an event log and a friendship graph.

    Args:
        events: ``[M, 3]`` table (array, tensor or DataFrame) of ``(user, item, timestamp)``;
            users and items may be any hashable numbers.
        edges: ``[E, 2]`` (or ``[2, E]``) influence arcs ``(source user, target user)``; pass
            ``(followee, follower)`` for "a user sees what the users they follow vote for".
        t0: observation time of ``x0`` after each item's first event.
        tt: observation time of ``xT`` after each item's first event (``tt >= t0``).
        subset: node subset: ``"lcc"`` (largest weakly connected part of the friendship
            graph), ``"top_k"`` (the ``k`` users with the most events) or ``"all"``.
        k: size of the ``"top_k"`` subset.
        min_new: keep an item only if at least this many subset users activate between ``t0``
            and ``tt`` (paper: items without new activation are dropped, ``min_new = 1``).
        name: label for logs.

    Returns:
        :class:`CascadeData` on the subset (nodes renumbered ``0..N-1``); ``info`` holds
        ``"users"`` (original user id of each node) and ``"items"`` (the items kept, in order).

    Raises:
        ValueError: malformed tables, ``tt < t0``, unknown ``subset``, ``"top_k"`` without
            ``k``, or no item left.

    Shapes:
        x0, xT ``[K, N]``; edge_index ``[2, E']`` (arcs inside the subset).
    """
    ev = _as_array(events, "events", 3)
    ed = _as_array(edges, "edges", 2)
    t0, tt = float(t0), float(tt)
    if tt < t0 or t0 < 0:
        raise ValueError(f"need 0 <= t0 <= tt, got t0={t0}, tt={tt}")
    users = np.unique(np.concatenate([ev[:, 0], ed.reshape(-1)]))
    uid = {u: i for i, u in enumerate(users.tolist())}
    ev_user = np.array([uid[u] for u in ev[:, 0].tolist()], dtype=np.int64)
    src = np.array([uid[u] for u in ed[:, 0].tolist()], dtype=np.int64)
    dst = np.array([uid[u] for u in ed[:, 1].tolist()], dtype=np.int64)
    n_all = len(users)
    if subset == "lcc":
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        adj = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n_all, n_all))
        _, comp = connected_components(adj, directed=True, connection="weak")
        keep = comp == np.bincount(comp).argmax()
    elif subset == "top_k":
        if k is None or int(k) < 1:
            raise ValueError(f"subset='top_k' needs k >= 1, got k={k!r}")
        counts = np.bincount(ev_user, minlength=n_all)
        order = np.lexsort((np.arange(n_all), -counts))[: int(k)]
        keep = np.zeros(n_all, dtype=bool)
        keep[order] = True
    elif subset == "all":
        keep = np.ones(n_all, dtype=bool)
    else:
        raise ValueError(f"subset must be 'lcc', 'top_k' or 'all', got {subset!r}")
    new_id = np.full(n_all, -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    n = int(keep.sum())
    items, item_idx = np.unique(ev[:, 1], return_inverse=True)
    times = ev[:, 2].astype(np.float64)
    first = np.full(len(items), np.inf)
    np.minimum.at(first, item_idx, times)
    rel = times - first[item_idx]
    inside = keep[ev_user]
    x0 = np.zeros((len(items), n), dtype=np.float32)
    xT = np.zeros((len(items), n), dtype=np.float32)
    sel = inside & (rel <= tt)
    xT[item_idx[sel], new_id[ev_user[sel]]] = 1.0
    sel = inside & (rel <= t0)
    x0[item_idx[sel], new_id[ev_user[sel]]] = 1.0
    kept = (xT - x0).sum(1) >= int(min_new)
    if not kept.any():
        raise ValueError("no item has a new activation inside the node subset; check t0/tt")
    arc = keep[src] & keep[dst] & (src != dst)
    edge_index = np.unique(np.stack([new_id[src[arc]], new_id[dst[arc]]]), axis=1)
    info = {"t0": t0, "tt": tt, "subset": subset, "k": k, "min_new": min_new,
            "users": users[keep].tolist(), "items": items[kept].tolist(),
            "num_items_dropped": int((~kept).sum())}
    return CascadeData(
        torch.from_numpy(x0[kept]), torch.from_numpy(xT[kept]),
        torch.from_numpy(edge_index).long().reshape(2, -1), n, name, info,
    )


def _read_state_csv(path: Path) -> torch.Tensor:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        header = fh.readline().rstrip("\n").split(",")
        rows = [line.rstrip("\n").split(",")[1:] for line in fh if line.strip()]
    ncol = len(header) - 1
    bad = [i for i, r in enumerate(rows) if len(r) != ncol]
    if bad:
        raise ValueError(
            f"{path}: line {bad[0] + 2} has {len(rows[bad[0]])} states, expected {ncol}"
        )
    return torch.tensor(np.asarray(rows, dtype=np.float32))


def load_digg_qiang2019(
    root: str | Path,
    graph: str = "complete",
    graph_cascades: int = 300,
    top_m: int | None = 24,
    min_count: int = 3,
    min_lift: float = 1.0,
) -> CascadeData:
    """Paper A's Digg observations (406 stories x 1,203 users; x0 at T0, xT at 9 T0).

    Args:
        root: the shared datasets folder (holding ``digg_qiang2019/``) or that folder itself.
        graph: candidate influence graph, since the paper's was not published: ``"complete"``
            (all ordered user pairs, 1,445,606 arcs) or ``"inferred"``
            (:func:`~influence_gpu.learn.candidate_graph.cooccurrence_candidate_graph` on the
            first ``graph_cascades`` stories, which are the training stories of the paper's
            300/106 split).
        graph_cascades: stories the inferred graph may look at (use the training ones only).
        top_m: most sources kept per user for ``"inferred"`` (``None``: no cap).
        min_count: fewest co-activations of a kept pair for ``"inferred"``.
        min_lift: a kept pair's co-activation lift must exceed this (``"inferred"``).

    Returns:
        :class:`CascadeData` with 406 cascades on 1,203 nodes.

    Raises:
        FileNotFoundError: the CSV files are not there.
        ValueError: unknown ``graph`` or malformed files.
    """
    root = Path(root)
    folder = root if (root / DIGG_FILES[0]).exists() else root / "digg_qiang2019"
    paths = [folder / f for f in DIGG_FILES]
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"Digg observation file not found: {p}")
    x0, xT = (_read_state_csv(p) for p in paths)
    if x0.shape != xT.shape:
        raise ValueError(f"{paths[0]} and {paths[1]} differ in shape: {x0.shape} vs {xT.shape}")
    xT = torch.maximum(x0, xT)  # already monotone in the published files; keep it guaranteed
    n = x0.shape[1]
    if graph == "complete":
        edge_index = complete_candidate_graph(n)
    elif graph == "inferred":
        m = int(graph_cascades)
        if not 1 <= m <= x0.shape[0]:
            raise ValueError(f"graph_cascades must lie in [1, {x0.shape[0]}], got {graph_cascades}")
        edge_index = cooccurrence_candidate_graph(x0[:m], xT[:m], top_m=top_m,
                                                  min_count=min_count, min_lift=min_lift)
    else:
        raise ValueError(f"graph must be 'complete' or 'inferred', got {graph!r}")
    info = {"source": str(folder), "graph": graph, "graph_cascades": int(graph_cascades),
            "top_m": top_m, "min_count": min_count, "min_lift": min_lift,
            "t0": 10_000, "tt": 100_000}
    return CascadeData(x0, xT, edge_index, n, f"digg_qiang2019[{graph}]", info)
