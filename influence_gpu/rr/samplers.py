"""Batched RR-set samplers for the independent cascade, linear threshold and temporal IC models.

Temporal IC (ICT) sets come from the reverse latest-activation search of
:mod:`influence_gpu.rr.temporal` (torch, or ``rr_sample_temporal`` of the native kernel, with
identical sets); the rest of this docstring is about IC and LT.

* **IC** (Borgs et al. 2014): a reverse breadth-first search from a uniformly drawn root, each
  in-arc ``(u, w)`` live with probability ``p(u, w)``. The set holds every node that reaches the
  root over live arcs.
* **LT** (Tang, Xiao, Shi 2014; the live-edge view of Kempe et al. 2003): a reverse random walk;
  from the current node ``w`` step to one in-neighbour ``u`` with probability ``b(u, w)``, stop
  with probability ``1 - sum_u b(u, w)`` or when the step returns to a node already in the set.

Randomness is counter-based, with the splitmix64 hash of
:func:`influence_gpu.diffusion._common.hash_uniform` (and its C++ twin in ``rr_kernel.cpp``):

* root of set ``i``: ``(hash64(key, i, -1) >> 1) mod n``;
* IC, geometric skipping with thinning (the method of the forward IC kernel, made
  counter-based): the in-arcs of node ``w`` sit at in-CSR positions ``j0 .. j0 + d - 1``; with
  ``p_max`` the largest of their probabilities and ``q = 1 - p_max``, draw ``t = 0, 1, ...`` is
  ``u_t = ((hash64(key, i, E + j0 + t) >> 40) + 1) / 2**24`` in (0, 1]; from position ``pos`` the
  next *candidate* lies ``c = #{m in 1..d - pos : q^m >= u_t}`` arcs further (a Geometric(p_max)
  skip, read off the precomputed row table ``tab[j0 + m - 1] = q^m``; none when ``c = d - pos``),
  and candidate ``j`` is live iff ``p_j >= p_max`` or ``hash_uniform(key, i, j) < p_j /
  p_max``. Every arc is live independently with probability
  ``p_j`` (up to the 2**-24 grid of the uniforms), and a reverse-search step costs
  ``O(candidates)``, not ``O(in-degree)``: about one draw per node under weighted cascade;
* LT: node ``w`` of set ``i`` draws ``u = hash_uniform(key, i, w)`` and picks the first in-arc
  ``j`` (in-CSR order) with ``u < in_cum[j]``, the running sum of its in-weights (float64).

Both backends compare the same precomputed float tables (``tab``, ``p_j / p_max``, ``in_cum``)
with the same uniforms, so no floating-point library call can make them differ.

Set ``i`` is a pure function of ``(key, i)``: the torch path (all sets of a chunk advance
together as ``(set, node)`` frontiers; any device) and the native C++/OpenMP kernel (one search
per set, sets spread over threads) give bit-identical sketches, whatever the chunking or the
number of threads. Within a set, nodes are in discovery order: the root first, then the
order of a breadth-first search that scans each node's candidate in-arcs in in-CSR order (for
LT, the walk).
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import torch

from influence_gpu import typing as ig_typing
from influence_gpu.diffusion._common import (
    _GOLDEN,
    _M1,
    _M2,
    DEFAULT_MEMORY_BUDGET,
    _fmt,
    _shr,
    draw_key,
    hash_uniform,
    make_generator,
)
from influence_gpu.diffusion._runs import gather_ragged, resolve_shard, shard_range
from influence_gpu.diffusion.base import (
    Diffusion,
    IndependentCascade,
    LinearThreshold,
    TemporalIC,
)
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.probabilities import check_lt_weights
from influence_gpu.kernels.native import native_threads
from influence_gpu.rr.sketch import ENTRY_BYTES, RRSketch, sketch_nbytes
from influence_gpu.rr.temporal import sample_temporal_rr_chunk, temporal_rr_tables

__all__ = ["RRSampler", "sample_rr_sets", "rr_model_of", "BACKENDS"]

#: Backends of the samplers: ``auto`` (native on CPU when it builds, else torch), ``torch``,
#: ``native``.
BACKENDS: tuple[str, ...] = ("auto", "torch", "native")

# sets per native call: bounds the kernel's buffers and lets the budget be checked as sets arrive
_NATIVE_CHUNK = 1 << 17
# sets per OpenMP thread of a native call (at least)
_SETS_PER_THREAD = 8192
# sets of the pilot that measures the mean set size before a budget check (at most)
_PILOT = 1000
# visited-bitmap bytes of one torch chunk (at most; less under a small budget)
_VISITED_BYTES = 1 << 26
# sets per chunk of the temporal (ICT) reverse search (sparse state: no bitmap)
_TEMPORAL_CHUNK = 1 << 15


def rr_model_of(diffusion: Diffusion | None) -> str:
    """``"ic"``, ``"lt"`` or ``"temporal_ic"``: the RR sampler ``diffusion`` needs (``None``: IC).

    Raises:
        TypeError: any other object (RR sets exist here for IC, LT and temporal IC only).
    """
    if diffusion is None or isinstance(diffusion, IndependentCascade):
        return "ic"
    if isinstance(diffusion, LinearThreshold):
        return "lt"
    if isinstance(diffusion, TemporalIC):
        return "temporal_ic"
    raise TypeError(
        "RR sets are implemented for IndependentCascade, LinearThreshold and TemporalIC "
        f"diffusions, got {type(diffusion).__name__}"
    )


def _hash64(key: int, run: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
    """The 64-bit splitmix finaliser behind ``hash_uniform`` (as int64 bits)."""
    x = run.long() * _GOLDEN + item.long() * _M2 + int(key)
    x = (x ^ _shr(x, 30)) * _M1
    x = (x ^ _shr(x, 27)) * _M2
    return x ^ _shr(x, 31)


def _roots(key: int, runs: torch.Tensor, n: int) -> torch.Tensor:
    """Root of each set: ``(hash64(key, run, -1) >> 1) mod n`` (int64)."""
    return _shr(_hash64(key, runs, torch.full_like(runs, -1)), 1) % n


def _open0(key: int, runs: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """Uniforms in (0, 1] (float64): ``((hash64 >> 40) + 1) / 2**24``."""
    return (_shr(_hash64(key, runs, items), 40) + 1).to(torch.float64) * (1.0 / (1 << 24))


def _search_steps(in_deg: torch.Tensor) -> int:
    """Binary-search steps that cover the largest in-degree."""
    max_deg = int(in_deg.max()) if in_deg.numel() else 0
    return max(1, math.ceil(math.log2(max_deg + 1)))


def _count_at_least(
    tab: torch.Tensor, j0: torch.Tensor, rem: torch.Tensor, u: torch.Tensor, iters: int
) -> torch.Tensor:
    """``#{m in 1..rem : tab[j0 + m - 1] >= u}`` for decreasing rows (a batched binary search)."""
    lo, hi = j0.clone(), j0 + rem
    for _ in range(iters):
        act = lo < hi
        if not bool(act.any()):
            break
        mid = (lo + hi) // 2
        right = act & (tab[torch.where(act, mid, 0)] >= u)
        lo = torch.where(right, mid + 1, lo)
        hi = torch.where(act & ~right, mid, hi)
    return lo - j0


def _in_arrays(graph: DiffusionGraph, model: str) -> dict[str, torch.Tensor]:
    """In-CSR arrays of both backends (cached on the graph)."""
    cache_key = f"rr_in_arrays_{model}"
    if cache_key not in graph._cache:
        in_ptr, in_src, in_eid = graph.in_csr()
        prob = graph.require_prob()
        arrays = {
            "in_ptr": in_ptr.contiguous(),
            "in_src": in_src.contiguous(),
            "in_src32": in_src.to(torch.int32).contiguous(),
        }
        dst = torch.repeat_interleave(
            torch.arange(graph.num_nodes, device=in_ptr.device), in_ptr[1:] - in_ptr[:-1]
        )
        if model == "ic":  # thinning probabilities and skip tables (module docstring)
            p = prob[in_eid].to(torch.float32)
            p_max = torch.zeros(graph.num_nodes, dtype=torch.float32, device=p.device)
            p_max = p_max.scatter_reduce(0, dst, p, reduce="amax")
            row_max = p_max[dst]
            arrays["acc"] = torch.where(row_max > 0, p / row_max, 1.0).contiguous()
            m = (torch.arange(p.numel(), device=p.device) - in_ptr[dst] + 1).to(torch.float64)
            arrays["tab"] = torch.pow(1.0 - row_max.to(torch.float64), m).contiguous()
        else:
            w = prob[in_eid].to(torch.float64)
            cs = torch.cumsum(w, 0)
            if w.numel():
                first = in_ptr[dst]
                cs = cs - (cs[first] - w[first])
            arrays["in_cum"] = cs.contiguous()
        graph._cache[cache_key] = arrays
    return graph._cache[cache_key]


def _native_available(device: torch.device) -> bool:
    if device.type != "cpu" or not ig_typing.USE_NATIVE_CPU:
        return False
    from influence_gpu.rr._native import load_rr_kernel

    return load_rr_kernel("rr_sample") is not None


class _Pending:
    """Sets of one chunk before they are written: torch ``sizes`` / ``nodes`` or a native batch."""

    def __init__(self, num_sets: int, num_entries: int, *, sizes: torch.Tensor | None = None,
                 nodes: torch.Tensor | None = None, handle: Any = None, threads: int = 1) -> None:
        self.num_sets, self.num_entries = num_sets, num_entries
        self.sizes, self.nodes, self.handle, self.threads = sizes, nodes, handle, threads

    def write(self, nodes: torch.Tensor, ends: torch.Tensor, base: int) -> None:
        """Write the nodes (``[num_entries]``) and the set ends (``[num_sets]``) of the chunk.

        The ends are ``base`` plus the running entry count; both targets are contiguous views.
        """
        if self.handle is not None:
            from influence_gpu.rr._native import load_rr_kernel

            handle, self.handle = self.handle, None  # rr_collect frees the batch
            load_rr_kernel("rr_collect")(
                handle, nodes.data_ptr(), ends.data_ptr(), base, self.threads
            )
        else:
            nodes.copy_(self.nodes)
            torch.cumsum(self.sizes, 0, out=ends)
            ends += base
            self.nodes = self.sizes = None

    def discard(self) -> None:
        """Free a native batch that was not written (error paths)."""
        if self.handle is not None:
            from influence_gpu.rr._native import load_rr_kernel

            load_rr_kernel("rr_free")(self.handle)
            self.handle = None


def _copy_prefix(dst: torch.Tensor, src: torch.Tensor) -> None:
    """``dst[:len(src)] = src``; a plain memmove on the CPU (no thread pool for a copy)."""
    if src.numel() == 0:
        return
    if dst.device.type == "cpu" and src.is_contiguous():
        ctypes.memmove(dst.data_ptr(), src.data_ptr(), src.numel() * src.element_size())
    else:
        dst[: src.numel()] = src


class RRSampler:
    """Samples RR sets of one graph and model from one counter-based stream.

    Set ``i`` of the stream is a pure function of ``(key, i)``, so :meth:`sample` over any range
    and :meth:`extend` of an existing sketch give the same sets as one big call.

    Args:
        graph: the graph with ``edge_prob`` (IC probabilities or LT weights, in-weights <= 1).
        diffusion: an :class:`~influence_gpu.diffusion.base.IndependentCascade`,
            :class:`~influence_gpu.diffusion.base.LinearThreshold` or
            :class:`~influence_gpu.diffusion.base.TemporalIC` (``None``: IC; temporal IC reads
            its ``start_time`` / ``strict`` options and uses :mod:`influence_gpu.rr.temporal`).
        key: hash key of the stream (drawn from ``generator`` when ``None``).
        generator: torch generator or integer seed for the key.
        backend: ``"auto"`` (the native kernel on CPU when it builds, else torch), ``"torch"`` or
            ``"native"`` (CPU only).
        memory_budget: bytes a sketch may take (default: the diffusion's, else
            :data:`~influence_gpu.diffusion._common.DEFAULT_MEMORY_BUDGET`).
        chunk_size: sets per torch chunk or native call (default: from the budget).
        shard: ``None``, ``"auto"`` or ``(rank, world)``: each rank of the ``torch.distributed``
            process group samples a contiguous share of every batch of new sets, and the shares
            are gathered, so every rank holds the sketch one process samples (set ``i`` depends
            on ``(key, i)`` only). A collective: every rank must make the same calls. See
            :mod:`influence_gpu.diffusion._runs`.

    Raises:
        TypeError: a diffusion other than IC / LT / temporal IC, or temporal IC on a static
            graph.
        ValueError: unknown backend, ``native`` off the CPU, missing probabilities, LT weights
            summing above 1.
        RuntimeError: ``backend="native"`` and the kernel cannot be built.
    """

    def __init__(
        self,
        graph: DiffusionGraph,
        diffusion: Diffusion | None = None,
        *,
        key: int | None = None,
        generator: torch.Generator | int | None = None,
        backend: str = "auto",
        memory_budget: int | None = None,
        chunk_size: int | None = None,
        shard: Any = None,
    ) -> None:
        if not isinstance(graph, DiffusionGraph):
            raise TypeError(f"graph must be a DiffusionGraph, got {type(graph).__name__}")
        self.graph = graph
        self.model = rr_model_of(diffusion)
        graph.require_prob()
        if self.model == "lt":
            check_lt_weights(graph)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        device = graph.device
        self._temporal = None
        if self.model == "temporal_ic":  # the simulator's start_time / strict options
            if not graph.is_temporal:
                raise TypeError(
                    "on a static graph RR sets exist for IndependentCascade and LinearThreshold "
                    "diffusions; TemporalIC needs a temporal graph (contact times per arc)"
                )
            opts = diffusion.options
            self._temporal = temporal_rr_tables(
                graph, opts.get("start_time"), bool(opts.get("strict", False))
            )
        if backend == "native":
            if device.type != "cpu":
                raise ValueError(f"backend='native' runs on the CPU; the graph is on {device}")
            if not _native_available(device):
                raise RuntimeError(
                    "the native RR kernel is not available (no C++ compiler, the build failed, "
                    "or influence_gpu.typing.USE_NATIVE_CPU is False); use backend='torch'"
                )
        self.backend = (
            ("native" if _native_available(device) else "torch") if backend == "auto" else backend
        )
        if memory_budget is None and diffusion is not None:
            memory_budget = diffusion.memory_budget
        self.memory_budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else int(memory_budget)
        if key is None:
            gen = (
                generator
                if isinstance(generator, torch.Generator)
                else make_generator(generator, device)
            )
            key = draw_key(gen)
        self.key = int(key)
        if chunk_size is not None and (
            isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
        ):
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.chunk_size = chunk_size
        self.rank, self.world = resolve_shard(shard)

    def __repr__(self) -> str:
        return (
            f"RRSampler(model={self.model!r}, backend={self.backend!r}, n={self.graph.num_nodes}, "
            f"memory_budget={self.memory_budget})"
        )

    # ------------------------------------------------------------------ memory
    def fixed_bytes(self) -> float:
        """Bytes of the sampler's graph-side arrays and per-thread scratch."""
        g = self.graph
        threads = native_threads() if self.backend == "native" else 1
        return 40.0 * g.num_edges + 8.0 * g.num_nodes + 4.0 * g.num_nodes * threads

    def check_budget(self, num_sets: int, mean_size: float, *, what: str = "RR sketch") -> float:
        """Refuse (before sampling) a sketch of ``num_sets`` sets that would not fit the budget.

        Args:
            num_sets: total sets the sketch will hold.
            mean_size: expected mean set size (from a pilot or the sketch so far).
            what: name used in the message.

        Returns:
            The estimate in bytes.

        Raises:
            ValueError: the estimate exceeds ``memory_budget``; the message states both.
        """
        est = sketch_nbytes(num_sets, mean_size) + self.fixed_bytes()
        if est > self.memory_budget:
            raise ValueError(
                f"{what}: {num_sets} RR sets of about {mean_size:.1f} nodes each need about "
                f"{_fmt(est)} but memory_budget is {_fmt(self.memory_budget)}; raise "
                "memory_budget, or ask for fewer sets (a larger eps for IMM)"
            )
        return est

    # ------------------------------------------------------------------ sampling
    def sample(self, num_sets: int, start: int = 0) -> RRSketch:
        """Sets ``start .. start + num_sets - 1`` of the stream.

        See :meth:`extend` for the budget check (a pilot of the first sets measures the mean set
        size; the whole sketch is refused before the rest is sampled when its estimate exceeds
        the budget).

        Args:
            num_sets: number of sets (>= 0).
            start: stream index of the first set (>= 0).

        Returns:
            :class:`~influence_gpu.rr.sketch.RRSketch`.

        Raises:
            ValueError: negative arguments, or the sketch would exceed ``memory_budget``.
        """
        for name, x in (("num_sets", num_sets), ("start", start)):
            if isinstance(x, bool) or not isinstance(x, int) or x < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {x!r}")
        sketch = self._empty(start)
        if num_sets == 0:
            return sketch
        return self.extend(sketch, num_sets)

    def extend(self, sketch: RRSketch, num_sets: int) -> RRSketch:
        """Grow ``sketch`` (of this stream) in place to ``num_sets`` sets; returns it.

        The new sets continue the stream where the sketch ends, so the result equals one call of
        :meth:`sample`. Unless the sketch would fit even with every set holding every node, the
        budget is checked before the new sets are sampled, from the mean size so far (from a
        pilot of up to 1,000 sets when the sketch has fewer).

        Args:
            sketch: a sketch of this sampler's stream (``sketch.key == self.key``).
            num_sets: the total number of sets wanted (no-op when the sketch already has them).

        Returns:
            ``sketch``.

        Raises:
            ValueError: a sketch of another stream, or the grown sketch would exceed the budget.
        """
        if sketch.key != self.key or sketch.model != self.model:
            raise ValueError("the sketch was not sampled from this sampler's stream")
        if sketch.num_nodes != self.graph.num_nodes:
            raise ValueError("the sketch belongs to another graph")
        if num_sets <= sketch.num_sets:
            return sketch
        # the smallest possible sketch (every set holds its root) must fit before anything runs
        self.check_budget(num_sets, 1.0)
        n = self.graph.num_nodes
        worst = sketch_nbytes(num_sets, n) + self.fixed_bytes()
        if worst <= self.memory_budget:  # fits even if every set held every node: no pilot
            self._append(sketch, num_sets - sketch.num_sets)
            return sketch
        if sketch.num_sets < min(num_sets, _PILOT):
            # the pilot fits in an eighth of the budget even if every set held every node
            cap = int(self.memory_budget // (8 * ENTRY_BYTES * n))
            pilot = min(num_sets, _PILOT, max(sketch.num_sets + 1, cap))
            self._append(sketch, pilot - sketch.num_sets)
        if num_sets > sketch.num_sets:
            self.check_budget(num_sets, sketch.mean_size)
            self._append(sketch, num_sets - sketch.num_sets)
        return sketch

    def _empty(self, start: int) -> RRSketch:
        dev = self.graph.device
        return RRSketch(
            self.graph.num_nodes,
            torch.zeros(1, dtype=torch.long, device=dev),
            torch.zeros(0, dtype=torch.int32, device=dev),
            key=self.key,
            model=self.model,
            start=start,
        )

    def _append(self, sketch: RRSketch, count: int) -> None:
        """Sample ``count`` more sets into ``sketch`` (this rank's share, then gathered)."""
        if self.world == 1:
            self._append_local(sketch, count)
            return
        first = sketch.start + sketch.num_sets
        offset, mine = shard_range(count, self.rank, self.world)
        part = self._empty(first + offset)
        if mine:
            self._append_local(part, mine)
        sizes = gather_ragged(part.sizes.to(torch.long), self.world)
        nodes = gather_ragged(part.nodes, self.world)
        ptr = torch.zeros(count + 1, dtype=torch.long, device=sketch.ptr.device)
        torch.cumsum(torch.cat(sizes).to(ptr.device), 0, out=ptr[1:])
        sketch.extend(RRSketch(sketch.num_nodes, ptr, torch.cat(nodes).to(sketch.nodes.device),
                               key=self.key, model=self.model, start=first))
        used = sketch_nbytes(sketch.num_sets, sketch.mean_size)
        if used + self.fixed_bytes() > self.memory_budget:
            raise MemoryError(
                f"RR sketch: {sketch.num_sets} sets hold {sketch.num_entries} entries (about "
                f"{_fmt(used)}), above memory_budget {_fmt(self.memory_budget)}; the sets "
                "turned out larger than the pilot suggested"
            )

    def _append_local(self, sketch: RRSketch, count: int) -> None:
        """Sample ``count`` more sets into ``sketch``, checking the real size as sets arrive.

        The sets of all chunks are written once, straight into the grown ``nodes`` buffer (no
        concatenation of parts: copies are not free on busy cores).
        """
        first = sketch.start + sketch.num_sets
        parts: list[_Pending] = []
        total_entries, done = sketch.num_entries, 0
        step = self.chunk_size or (_NATIVE_CHUNK if self.backend == "native" else None)
        fn = self._native_chunk if self.backend == "native" else self._torch_chunk
        if self._temporal is not None:
            step = self.chunk_size or (_NATIVE_CHUNK if self.backend == "native" else
                                       _TEMPORAL_CHUNK)
            fn = self._temporal_native_chunk if self.backend == "native" else self._temporal_chunk
        if step is None:  # torch: a visited bitmap of c * n bytes per chunk
            bitmap = min(_VISITED_BYTES, self.memory_budget // 8)
            step = max(1, int(bitmap) // self.graph.num_nodes)
        try:
            while done < count:
                c = min(step, count - done)
                parts.append(fn(first + done, c))
                done += c
                total_entries += parts[-1].num_entries
                sets = sketch.num_sets + done
                used = sketch_nbytes(sets, total_entries / sets)
                if used + self.fixed_bytes() > self.memory_budget:
                    raise MemoryError(
                        f"RR sketch: {sets} sets hold {total_entries} entries (about "
                        f"{_fmt(used)}), above memory_budget {_fmt(self.memory_budget)}; the sets "
                        "turned out larger than the pilot suggested"
                    )
            old_entries, old_sets = sketch.num_entries, sketch.num_sets
            nodes = torch.empty(total_entries, dtype=torch.int32, device=sketch.nodes.device)
            ptr = torch.empty(old_sets + count + 1, dtype=torch.long, device=sketch.ptr.device)
            _copy_prefix(nodes, sketch.nodes)
            _copy_prefix(ptr, sketch.ptr)
            entry, row = old_entries, old_sets + 1
            for part in parts:
                part.write(nodes[entry : entry + part.num_entries],
                           ptr[row : row + part.num_sets], entry)
                entry += part.num_entries
                row += part.num_sets
        finally:
            for part in parts:
                part.discard()
        sketch.ptr, sketch.nodes = ptr, nodes
        sketch._inverted = None

    # ------------------------------------------------------------------ backends
    def _native_chunk(self, start: int, count: int) -> _Pending:
        from influence_gpu.rr._native import load_rr_kernel

        g = self.graph
        a = _in_arrays(g, self.model)
        if self.model == "ic" and "packed" not in a:  # 16-byte in-arc records, built once
            a["packed"] = torch.empty(g.num_edges * 16, dtype=torch.uint8)
            load_rr_kernel("rr_pack_ic")(
                g.num_edges, a["tab"].data_ptr(), a["in_src32"].data_ptr(),
                a["acc"].data_ptr(), a["packed"].data_ptr(),
            )
        sample_fn = load_rr_kernel("rr_sample")
        # a thread per _SETS_PER_THREAD sets at most: a parallel region costs a scheduler time
        # slice (milliseconds) when the cores are busy, more than a small call's whole work
        threads = max(1, min(native_threads(), count // _SETS_PER_THREAD))
        total = ctypes.c_int64(0)
        ic = self.model == "ic"
        handle = sample_fn(
            0 if ic else 1,
            g.num_nodes,
            a["in_ptr"].data_ptr(),
            a["packed"].data_ptr() if ic else None,
            a["in_src32"].data_ptr(),
            None if ic else a["in_cum"].data_ptr(),
            count,
            start,
            self.key,
            threads,
            ctypes.addressof(total),
        )
        if not handle:
            raise RuntimeError("the native RR kernel failed")
        return _Pending(count, total.value, handle=handle, threads=threads)

    def _temporal_native_chunk(self, start: int, count: int) -> _Pending:
        from influence_gpu.rr._native import load_rr_kernel

        tab = self._temporal
        a = tab.native_arrays()
        threads = max(1, min(native_threads(), count // _SETS_PER_THREAD))
        total = ctypes.c_int64(0)
        handle = load_rr_kernel("rr_sample_temporal")(
            tab.n, a["in_ptr"].data_ptr(), a["in_src32"].data_ptr(), a["in_eid"].data_ptr(),
            a["prob"].data_ptr(), a["time_ptr"].data_ptr(), a["contact_rank"].data_ptr(),
            tab.T, tab.start_rank, int(tab.strict), count, start, self.key, threads,
            ctypes.addressof(total),
        )
        if not handle:
            raise RuntimeError("the native temporal RR kernel failed")
        return _Pending(count, total.value, handle=handle, threads=threads)

    def _temporal_chunk(self, start: int, count: int) -> _Pending:
        sizes, nodes = sample_temporal_rr_chunk(self._temporal, self.key, start, count)
        return _Pending(count, nodes.numel(), sizes=sizes, nodes=nodes)

    def _torch_chunk(self, start: int, count: int) -> _Pending:
        g = self.graph
        a = _in_arrays(g, self.model)
        n, dev = g.num_nodes, g.device
        runs = torch.arange(start, start + count, device=dev)
        visited = torch.zeros(count * n, dtype=torch.bool, device=dev)
        # the frontier, ordered by set and, within a set, by discovery (the native queue order)
        fs = torch.arange(count, device=dev)
        fv = _roots(self.key, runs, n)
        visited[fs * n + fv] = True
        out_s, out_v = [fs], [fv]
        in_ptr, in_src = a["in_ptr"], a["in_src"]
        in_deg = in_ptr[1:] - in_ptr[:-1]
        iters = _search_steps(in_deg)
        if self.model == "ic":
            acc, tab = a["acc"], a["tab"]
            num_edges = in_src.numel()
            while fs.numel():
                # skip over the in-arcs of every frontier node f: state (f, row start, degree,
                # position, draw); each round finds at most one candidate arc per f
                f = torch.arange(fs.numel(), device=dev)
                j0, deg = in_ptr[fv], in_deg[fv]
                keep = deg > 0
                f, j0, deg = f[keep], j0[keep], deg[keep]
                pos = torch.zeros_like(j0)
                draw = torch.zeros_like(j0)
                found_f, found_j = [], []
                while f.numel():
                    u = _open0(self.key, fs[f] + start, num_edges + j0 + draw)
                    draw += 1
                    rem = deg - pos
                    c = _count_at_least(tab, j0, rem, u, iters)
                    go = c < rem
                    f, j0, deg, pos, draw, c = f[go], j0[go], deg[go], pos[go], draw[go], c[go]
                    j = j0 + pos + c
                    pos = pos + c + 1
                    found_f.append(f)
                    found_j.append(j)
                    more = pos < deg
                    f, j0, deg, pos, draw = f[more], j0[more], deg[more], pos[more], draw[more]
                if not found_f:  # no frontier node has in-arcs
                    break
                f, j = torch.cat(found_f), torch.cat(found_j)
                s = fs[f]
                code = s * n + in_src[j]
                a_j = acc[j]
                keep = ~visited[code] & (
                    (a_j >= 1.0) | (hash_uniform(self.key, s + start, j) < a_j)
                )
                f, j, code = f[keep], j[keep], code[keep]
                # discovery order: by frontier position, then arc position; a node found twice
                # keeps its first discovery
                order = torch.argsort(f * max(num_edges, 1) + j)
                code = code[order]
                uniq, inverse = torch.unique(code, return_inverse=True)
                rank = torch.arange(code.numel(), device=dev)
                first = torch.full((uniq.numel(),), code.numel(), dtype=torch.long, device=dev)
                first = first.scatter_reduce(0, inverse, rank, reduce="amin")
                code = code[torch.sort(first).values]
                visited[code] = True
                fs, fv = code // n, code % n
                out_s.append(fs)
                out_v.append(fv)
        else:
            in_cum = a["in_cum"]
            while fs.numel():
                u = hash_uniform(self.key, fs + start, fv).to(torch.float64)
                lo, end = in_ptr[fv], in_ptr[fv + 1]
                hi = end.clone()
                for _ in range(iters):  # first j in [lo, end) with u < in_cum[j]
                    act = lo < hi
                    if not bool(act.any()):
                        break
                    mid = (lo + hi) // 2
                    right = act & (in_cum[torch.where(act, mid, 0)] <= u)
                    lo = torch.where(right, mid + 1, lo)
                    hi = torch.where(act & ~right, mid, hi)
                ok = lo < end
                s, v = fs[ok], in_src[lo[ok]]
                fresh = ~visited[s * n + v]
                fs, fv = s[fresh], v[fresh]
                visited[fs * n + fv] = True
                out_s.append(fs)
                out_v.append(fv)
        s, v = torch.cat(out_s), torch.cat(out_v)
        order = torch.sort(s, stable=True).indices  # group by set, keep discovery order
        sizes = torch.bincount(s, minlength=count)
        return _Pending(count, v.numel(), sizes=sizes, nodes=v[order].to(torch.int32))

def sample_rr_sets(
    graph: DiffusionGraph,
    num_sets: int,
    diffusion: Diffusion | None = None,
    *,
    key: int | None = None,
    generator: torch.Generator | int | None = None,
    start: int = 0,
    backend: str = "auto",
    memory_budget: int | None = None,
    chunk_size: int | None = None,
) -> RRSketch:
    """Sample ``num_sets`` RR sets of ``graph`` under ``diffusion`` (see the module docstring).

    Args:
        graph: the graph with ``edge_prob``.
        num_sets: number of sets ``theta``.
        diffusion: ``IndependentCascade`` (default) or ``LinearThreshold``.
        key: hash key (drawn from ``generator`` when ``None``).
        generator: torch generator or seed for the key.
        start: stream index of the first set.
        backend: ``"auto"``, ``"torch"`` or ``"native"``.
        memory_budget: bytes the sketch may take.
        chunk_size: sets per torch chunk / native call.

    Returns:
        :class:`~influence_gpu.rr.sketch.RRSketch` on the graph's device.

    Raises:
        ValueError: bad arguments, or the sketch would exceed ``memory_budget`` (refused after a
            small pilot, before the bulk is sampled; the message states the estimate).
        TypeError: a diffusion other than IC / LT.

    Shapes:
        ``ptr [num_sets + 1]`` int64, ``nodes [P]`` int32.
    """
    sampler = RRSampler(
        graph, diffusion, key=key, generator=generator, backend=backend,
        memory_budget=memory_budget, chunk_size=chunk_size,
    )
    return sampler.sample(num_sets, start)

