"""Neighbourhoods of node sets: out-hop balls (paper B's ``N_h(S_F)``)."""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["hop_neighbourhood"]


def hop_neighbourhood(graph: DiffusionGraph, sources: Any, h: int) -> torch.Tensor:
    """Nodes within ``h`` out-hops of ``sources``, excluding the sources (``N_h(S_F) - S_F``).

    Args:
        graph: the graph.
        sources: internal ids.
        h: number of hops (``>= 1``).

    Returns:
        Sorted int64 ids.

    Raises:
        ValueError: ``h < 1`` or bad ids.

    Shapes:
        ``sources [k]`` -> ``[C]``.
    """
    if isinstance(h, bool) or not isinstance(h, int) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    src = torch.as_tensor(sources if sources is not None else [], device=graph.device)
    if src.numel() and (src.is_floating_point() or src.dtype == torch.bool):
        raise TypeError(f"sources must hold integer node ids, got dtype {src.dtype}")
    src = src.long().reshape(-1)
    if src.numel() and (int(src.min()) < 0 or int(src.max()) >= graph.num_nodes):
        raise ValueError(f"sources has a node id out of range for num_nodes={graph.num_nodes}")
    seen = torch.zeros(graph.num_nodes, dtype=torch.bool, device=graph.device)
    seen[src] = True
    frontier = src
    rowptr, col = graph.rowptr, graph.col
    for _ in range(h):
        if frontier.numel() == 0:
            break
        deg = rowptr[frontier + 1] - rowptr[frontier]
        owner = torch.arange(frontier.numel(), device=graph.device).repeat_interleave(deg)
        pos = rowptr[frontier].repeat_interleave(deg) + (
            torch.arange(owner.numel(), device=graph.device) - (torch.cumsum(deg, 0) - deg)[owner]
        )
        nxt = torch.unique(col[pos])
        nxt = nxt[~seen[nxt]]
        seen[nxt] = True
        frontier = nxt
    seen[src] = False
    return torch.nonzero(seen).reshape(-1)
