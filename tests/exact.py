"""Exact expected values on tiny graphs by enumerating live-edge worlds (test helper)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence


def edge_worlds(probs: Sequence[float]) -> Iterator[tuple[tuple[bool, ...], float]]:
    """Yield every live/dead assignment of the edges with its probability (2**E worlds)."""
    for live in itertools.product((False, True), repeat=len(probs)):
        w = 1.0
        for keep, p in zip(live, probs, strict=False):
            w *= p if keep else 1.0 - p
        if w > 0.0:
            yield live, w


def bfs_dist(n: int, arcs: Sequence[tuple[int, int]], sources: Sequence[int]) -> list[float]:
    """Hop distance from ``sources`` over ``arcs`` (inf when unreachable)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for u, v in arcs:
        adj[u].append(v)
    dist = [float("inf")] * n
    q = deque()
    for s in sources:
        dist[s] = 0
        q.append(s)
    while q:
        u = q.popleft()
        for v in adj[u]:
            if dist[v] == float("inf"):
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def exact_ic(n: int, arcs: Sequence[tuple[int, int]], probs: Sequence[float], seeds: Sequence[int]):
    """Exact expected IC spread, its variance and per-node activation probabilities."""
    node_prob = [0.0] * n
    mean = second = 0.0
    for live, w in edge_worlds(probs):
        dist = bfs_dist(n, [a for a, keep in zip(arcs, live, strict=False) if keep], seeds)
        reached = [d < float("inf") for d in dist]
        k = sum(reached)
        mean += w * k
        second += w * k * k
        for v in range(n):
            node_prob[v] += w * reached[v]
    return mean, second - mean * mean, node_prob
