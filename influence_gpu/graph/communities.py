"""Communities, weakly connected parts and paper D's community-proportional shortlist.

Paper D first splits the network into communities (it used LabelRank; any link-based method
will do, it says) and keeps track of the disconnected parts, then draws candidate seeds from each
community. Our reading (DESIGN.md section 7.4):

* :func:`detect_communities`: networkx Louvain (seeded; directed modularity on a directed
  graph) or asynchronous label propagation (seeded, on the undirected view). A community never
  spans two weakly connected parts: any that does is split, so isolated nodes and small
  components stay communities of their own. Arc multiplicities (``edge_count``) are the weights.
* :func:`weak_components`: the weakly connected parts; influence never crosses them, so a spread
  is the sum of the spreads inside them.
* :func:`shortlist`: ``total = c * k`` candidates shared among the communities in proportion to
  their size (largest-remainder rounding), the best-scored nodes first within each.

Every partition is a ``[n]`` int64 tensor of labels ``0 .. m-1``, numbered by decreasing size
(ties: the community holding the smaller node id first).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = [
    "COMMUNITY_METHODS",
    "weak_components",
    "detect_communities",
    "relabel_by_size",
    "community_quotas",
    "shortlist",
]

#: Methods of :func:`detect_communities`.
COMMUNITY_METHODS: tuple[str, ...] = ("louvain", "label_propagation")


def relabel_by_size(labels: Any) -> torch.Tensor:
    """Renumber part labels ``0 .. m-1`` by decreasing size, ties to the smaller first node.

    Args:
        labels: ``[n]`` integer labels (any values).

    Returns:
        ``[n]`` int64 CPU tensor.

    Shapes:
        ``[n]`` -> ``[n]``.
    """
    lab = torch.as_tensor(labels).reshape(-1).cpu().long().numpy()
    if lab.size == 0:
        return torch.zeros(0, dtype=torch.long)
    uniq, inv = np.unique(lab, return_inverse=True)
    sizes = np.bincount(inv)
    first = np.full(uniq.size, lab.size, dtype=np.int64)
    np.minimum.at(first, inv, np.arange(lab.size))
    order = np.lexsort((first, -sizes))  # by size desc, then first member
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[order] = np.arange(uniq.size)
    return torch.from_numpy(rank[inv])


def weak_components(graph: DiffusionGraph) -> torch.Tensor:
    """Weakly connected parts of ``graph`` as a partition ``[n]`` (largest part is 0).

    Shapes:
        output ``[n]`` int64 (CPU).
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = graph.num_nodes
    mat = sp.csr_matrix(
        (np.ones(graph.num_edges, dtype=np.int8), (graph.src.cpu().numpy(),
                                                   graph.col.cpu().numpy())), shape=(n, n))
    _, lab = connected_components(mat, directed=True, connection="weak")
    return relabel_by_size(lab)


def _split_by(labels: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Refine ``labels`` so that no part spans two values of ``other``."""
    return np.unique(labels.astype(np.int64) * (int(other.max()) + 1) + other,
                     return_inverse=True)[1]


def detect_communities(
    graph: DiffusionGraph,
    method: str = "louvain",
    *,
    seed: int | None = None,
    resolution: float = 1.0,
) -> torch.Tensor:
    """Communities of ``graph`` as a partition ``[n]`` (every node in exactly one).

    Args:
        graph: the graph (directed or undirected; an undirected one holds both arcs).
        method: ``"louvain"`` (networkx ``louvain_communities``; directed modularity on a
            directed graph) or ``"label_propagation"`` (networkx ``asyn_lpa_communities`` on
            the undirected view).
        seed: random seed of the method (``None``: networkx's global state, not reproducible).
        resolution: Louvain's resolution (> 1 gives smaller communities).

    Returns:
        ``[n]`` int64 CPU labels ``0 .. m-1`` by decreasing community size; no community spans
        two weakly connected parts (isolated nodes are communities of their own).

    Raises:
        ValueError: unknown ``method`` or a non-positive ``resolution``.

    Shapes:
        output ``[n]``.
    """
    import networkx as nx

    if method not in COMMUNITY_METHODS:
        raise ValueError(f"method must be one of {', '.join(COMMUNITY_METHODS)}, got {method!r}")
    if not float(resolution) > 0:
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    n = graph.num_nodes
    src = graph.src.cpu().tolist()
    dst = graph.col.cpu().tolist()
    cnt = graph.edge_count.cpu().tolist()
    directed = graph.directed and method == "louvain"
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(n))
    if directed:
        G.add_weighted_edges_from(zip(src, dst, cnt, strict=True))
    else:  # both arcs of an undirected edge collapse into one edge; a reciprocated pair of a
        # directed graph becomes one edge of the larger multiplicity
        for u, v, c in zip(src, dst, cnt, strict=True):
            if G.has_edge(u, v):
                G[u][v]["weight"] = max(G[u][v]["weight"], c)
            else:
                G.add_edge(u, v, weight=c)
    if method == "louvain":
        comms = nx.community.louvain_communities(G, weight="weight", resolution=resolution,
                                                 seed=seed)
    else:
        comms = nx.community.asyn_lpa_communities(G, weight="weight", seed=seed)
    lab = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(comms):
        lab[list(c)] = i
    if (lab < 0).any():  # pragma: no cover - networkx always covers every node
        lab[lab < 0] = lab.max() + 1 + np.arange(int((lab < 0).sum()))
    lab = _split_by(lab, weak_components(graph).numpy())
    return relabel_by_size(lab)


def community_quotas(sizes: Any, total: int) -> torch.Tensor:
    """Share ``total`` slots among parts in proportion to ``sizes`` (largest remainder).

    Part ``i`` gets ``floor(total * s_i / n)`` and the remaining slots go to the largest
    fractional parts (ties: the larger part, then the lower label); no part gets more slots than
    it has nodes.

    Args:
        sizes: ``[m]`` positive part sizes, summing to ``n``.
        total: slots to share, ``0 <= total <= n``.

    Returns:
        ``[m]`` int64 quotas summing to ``total``.

    Raises:
        ValueError: ``total`` outside ``[0, n]``.

    Shapes:
        ``[m]`` -> ``[m]``.
    """
    s = torch.as_tensor(sizes).reshape(-1).cpu().long().numpy()
    n = int(s.sum())
    total = int(total)
    if not 0 <= total <= n:
        raise ValueError(f"total must be between 0 and the number of nodes {n}, got {total}")
    exact = s.astype(np.float64) * total / max(n, 1)
    q = np.minimum(np.floor(exact).astype(np.int64), s)
    frac = exact - q
    order = np.lexsort((np.arange(s.size), -s, -frac))
    left = total - int(q.sum())
    while left > 0:
        for i in order:
            if left == 0:
                break
            if q[i] < s[i]:
                q[i] += 1
                left -= 1
    return torch.from_numpy(q)


def shortlist(partition: Any, score: Any, total: int) -> torch.Tensor:
    """Paper D's candidates: ``total`` nodes shared among parts by size, best score first.

    Args:
        partition: ``[n]`` part labels ``0 .. m-1`` (e.g. :func:`detect_communities`).
        score: ``[n]`` ranking score (higher is better), e.g. :func:`~.closeness.icc_score`.
        total: number of candidates (``c * k``; clipped to ``n``).

    Returns:
        ``[min(total, n)]`` int64 CPU ids, highest score first (ties to the lower id); part
        ``i`` contributes its ``community_quotas(sizes, total)[i]`` best nodes.

    Raises:
        ValueError: shapes differ.

    Shapes:
        partition, score ``[n]``; output ``[min(total, n)]``.
    """
    part = torch.as_tensor(partition).reshape(-1).cpu().long()
    sc = torch.as_tensor(score).reshape(-1).cpu().double()
    if part.numel() != sc.numel():
        raise ValueError(f"partition has {part.numel()} entries but score has {sc.numel()}")
    n = part.numel()
    total = min(int(total), n)
    sizes = torch.bincount(part)
    quota = community_quotas(sizes, total)
    # rank nodes by score within their part: sort by (part, -score, id)
    order = np.lexsort((np.arange(n), -sc.numpy(), part.numpy()))
    start = np.concatenate([[0], np.cumsum(sizes.numpy())[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[part.numpy()[order]]
    chosen = np.flatnonzero(rank < quota.numpy()[part.numpy()])
    best = np.lexsort((chosen, -sc.numpy()[chosen]))
    return torch.from_numpy(chosen[best])
