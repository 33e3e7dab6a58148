"""The directed graph every simulator and selector works on.

``DiffusionGraph`` stores out-edges in CSR form (``rowptr``, ``col``), sorted by (source, target),
with one entry per distinct arc. Per-edge tensors follow the same order:

* ``edge_prob`` -- IC probability, or LT / threshold weight ``b(u, v)`` (float32);
* ``edge_count`` -- multiplicity of the arc in the input (int64; contact count on temporal graphs);
* ``edge_sign`` -- +1 / -1 (int8), signed first-arrival model;
* ``edge_delay`` -- transmission delay (float32), signed first-arrival model;
* ``time_ptr`` / ``time_values`` -- contact times of each arc as a second CSR (temporal IC).

The reverse CSR over in-edges is built on first use and cached. Original node labels are kept in
``node_labels`` so that seeds can be given, and results reported, in the user's ids.
"""

from __future__ import annotations

import hashlib
import numbers
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import torch

from influence_gpu.typing import DeviceLike

__all__ = ["DiffusionGraph", "edge_index_hash"]

_EDGE_FIELDS = ("edge_prob", "edge_count", "edge_sign", "edge_delay")


def _tensor_of(x: Any, name: str, dtype: torch.dtype | None = None, device: Any = None
               ) -> torch.Tensor:
    """``torch.as_tensor`` with a ``TypeError`` / ``ValueError`` naming ``name`` on failure."""
    try:
        return torch.as_tensor(x, dtype=dtype, device=device)
    except (RuntimeError, OverflowError, TypeError, ValueError) as err:
        if "overflow" in str(err).lower() or isinstance(err, OverflowError):
            raise ValueError(f"{name} holds a value outside the int64 range") from None
        raise TypeError(f"{name} must hold numbers, got {type(x).__name__} ({err})") from None


def _as_long(x: Any, name: str) -> torch.Tensor:
    t = _tensor_of(x, name)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        if t.numel() and t.is_floating_point() and torch.equal(t, t.round()):
            if float(t.abs().max()) >= 2.0**63:
                raise ValueError(f"{name} holds a value outside the int64 range")
            t = t.long()
        else:
            raise TypeError(f"{name} must hold integers, got dtype {t.dtype}")
    if t.dtype == getattr(torch, "uint64", None) and t.numel() and int(t.max()) > 2**63 - 1:
        raise ValueError(f"{name} holds a value outside the int64 range")
    return t.long()


def _check_prob(edge_prob: torch.Tensor, name: str = "edge_prob") -> None:
    if edge_prob.numel() == 0:
        return
    if torch.isnan(edge_prob).any():
        raise ValueError(f"{name} contains NaN")
    lo, hi = float(edge_prob.min()), float(edge_prob.max())
    if lo < 0.0 or hi > 1.0:
        bad = edge_prob[(edge_prob < 0) | (edge_prob > 1)][0].item()
        raise ValueError(f"{name} must lie in [0, 1]; found {bad!r} (range [{lo}, {hi}])")


def _check_distinct_labels(labels: list[Any]) -> None:
    """Refuse unhashable or repeated node labels (a repeated label would name one node only)."""
    try:
        seen: dict[Any, int] = {}
        for i, lab in enumerate(labels):
            if isinstance(lab, bool):
                key: Any = ("bool", lab)  # True == 1 in a dict: keep them apart for this check
            else:
                key = lab
            j = seen.setdefault(key, i)
            if j != i:
                raise ValueError(
                    f"node_labels must be distinct: {lab!r} labels nodes {j} and {i}"
                )
    except TypeError:
        raise TypeError(
            f"node_labels must be hashable, got {type(labels[i]).__name__} {labels[i]!r}"
        ) from None


def _structure_digest(num_nodes: int, rowptr: torch.Tensor, col: torch.Tensor) -> str:
    h = hashlib.sha256(b"influence_gpu structure v1")
    h.update(str(int(num_nodes)).encode())
    for t in (rowptr, col):
        h.update(t.detach().cpu().long().contiguous().numpy().tobytes())
    return h.hexdigest()


def edge_index_hash(edge_index: Any, num_nodes: int) -> str:
    """:meth:`DiffusionGraph.structure_hash` of the graph ``edge_index`` / ``num_nodes`` give.

    The arcs are made canonical first (sorted, duplicates merged, self-loops dropped), as
    :meth:`DiffusionGraph.from_edge_index` does, but without its warnings, so a model's own
    deduplicated copy of its arcs hashes like the edge list it was built from.

    Args:
        edge_index: ``[2, M]`` integer arcs (row 0 = source).
        num_nodes: ``n``.

    Returns:
        A hex SHA-256 digest.

    Raises:
        TypeError / ValueError: as :meth:`DiffusionGraph.from_edge_index` for a bad edge list.
    """
    ei = _as_long(edge_index, "edge_index").cpu()
    if ei.dim() != 2 or ei.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, M], got {tuple(ei.shape)}")
    n = int(num_nodes)
    src, dst = ei[0], ei[1]
    keep = src != dst
    key = torch.unique(src[keep] * n + dst[keep])
    s = torch.div(key, n, rounding_mode="floor")
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    if key.numel():
        rowptr[1:] = torch.cumsum(torch.bincount(s, minlength=n), 0)
    return _structure_digest(n, rowptr, key - s * n)


class DiffusionGraph:
    """A directed graph in CSR form with per-edge diffusion parameters.

    Build one with :meth:`from_edge_index`, :meth:`from_networkx`, :meth:`from_pyg`,
    :func:`influence_gpu.load_graph` or a generator in :mod:`influence_gpu.graph.generators`;
    the constructor takes an already-canonical CSR (sorted, no duplicates, no self-loops).

    Args:
        rowptr: ``[num_nodes + 1]`` int64 offsets into ``col``.
        col: ``[num_edges]`` int64 targets, sorted within each row, distinct per row.
        edge_prob: ``[num_edges]`` probabilities or weights in [0, 1] (``None``: not set yet).
        edge_count: ``[num_edges]`` multiplicities (default all ones).
        edge_sign: ``[num_edges]`` +1/-1 signs, or ``None``.
        edge_delay: ``[num_edges]`` non-negative delays, or ``None``.
        time_ptr: ``[num_edges + 1]`` offsets into ``time_values`` (temporal graphs), or ``None``.
        time_values: ``[num_contacts]`` contact times, sorted within each edge, or ``None``.
        node_labels: original label of each node (length ``num_nodes``), or ``None`` for 0..n-1.
        directed: whether the source data was directed (undirected inputs hold both arcs).

    Shapes:
        ``E = num_edges``, ``n = num_nodes``; see the field list in the module docstring.
    """

    def __init__(
        self,
        rowptr: torch.Tensor,
        col: torch.Tensor,
        *,
        edge_prob: torch.Tensor | None = None,
        edge_count: torch.Tensor | None = None,
        edge_sign: torch.Tensor | None = None,
        edge_delay: torch.Tensor | None = None,
        time_ptr: torch.Tensor | None = None,
        time_values: torch.Tensor | None = None,
        node_labels: Sequence[Hashable] | None = None,
        directed: bool = True,
    ) -> None:
        self.rowptr = rowptr.long()
        self.col = col.long()
        n = self.rowptr.numel() - 1
        if n < 1:
            raise ValueError("graph is empty: num_nodes must be at least 1")
        e = self.col.numel()
        self.edge_prob = None if edge_prob is None else edge_prob.to(torch.float32)
        if self.edge_prob is not None:
            _check_prob(self.edge_prob)
        self.edge_count = (
            torch.ones(e, dtype=torch.long, device=self.col.device)
            if edge_count is None
            else edge_count.long()
        )
        self.edge_sign = None if edge_sign is None else edge_sign.to(torch.int8)
        self.edge_delay = None if edge_delay is None else edge_delay.to(torch.float32)
        self.time_ptr = None if time_ptr is None else time_ptr.long()
        self.time_values = time_values
        for name in _EDGE_FIELDS:
            t = getattr(self, name)
            if t is not None and t.numel() != e:
                raise ValueError(f"{name} has {t.numel()} entries but the graph has {e} edges")
        if (self.time_ptr is None) != (self.time_values is None):
            raise ValueError("time_ptr and time_values must be given together")
        if self.time_ptr is not None and self.time_ptr.numel() != e + 1:
            raise ValueError(f"time_ptr must have num_edges + 1 = {e + 1} entries")
        if node_labels is not None:
            node_labels = list(node_labels)
            if len(node_labels) != n:
                raise ValueError(f"node_labels has {len(node_labels)} entries, graph has {n} nodes")
            _check_distinct_labels(node_labels)
            if node_labels == list(range(n)):
                node_labels = None
        self.node_labels: list[Hashable] | None = node_labels
        self.directed = directed
        self._label_index: dict[Hashable, int] | None = None
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edge_index(
        cls,
        edge_index: Any,
        num_nodes: int | None = None,
        edge_prob: Any = None,
        *,
        edge_sign: Any = None,
        edge_delay: Any = None,
        edge_time: Any = None,
        node_labels: Sequence[Hashable] | None = None,
        directed: bool = True,
        prob_merge: str = "ic",
        source: str = "edge_index",
    ) -> DiffusionGraph:
        """Build a graph from a ``[2, M]`` list of arcs (PyG convention: row 0 = source).

        Self-loops are dropped and duplicate arcs merged, each with a warning that says how
        many; the multiplicity is kept in ``edge_count`` (on temporal inputs each row is one
        contact, so duplicates are expected and merged silently into the contact list).

        Args:
            edge_index: ``[2, M]`` integer node ids in ``0..num_nodes-1``.
            num_nodes: number of nodes (default ``max id + 1``).
            edge_prob: ``[M]`` probabilities in [0, 1], or ``None``.
            edge_sign: ``[M]`` +1/-1 signs, or ``None``.
            edge_delay: ``[M]`` non-negative delays, or ``None``.
            edge_time: ``[M]`` contact time of each row (temporal graphs), or ``None``.
            node_labels: original labels, one per node, or ``None``.
            directed: ``False`` adds the reverse of every arc.
            prob_merge: how probabilities of duplicate arcs combine: ``"ic"`` (1 - prod(1 - p), the
                single arc equivalent under IC), ``"sum"`` (LT weights), ``"max"`` or ``"first"``.
            source: name used in error messages (a file path, for readers).

        Returns:
            The canonical ``DiffusionGraph``.

        Raises:
            ValueError: negative or out-of-range ids, probabilities outside [0, 1], a malformed
                ``edge_index``, an empty graph, or an unknown ``prob_merge``.
        """
        ei = _as_long(edge_index, "edge_index")
        if ei.dim() != 2 or ei.size(0) != 2:
            raise ValueError(f"{source}: edge_index must have shape [2, M], got {tuple(ei.shape)}")
        device = ei.device
        m = ei.size(1)
        if m and int(ei.min()) < 0:
            raise ValueError(f"{source}: negative node id {int(ei.min())} in edge_index")
        max_id = int(ei.max()) if m else -1
        if num_nodes is None:
            num_nodes = len(node_labels) if node_labels is not None else max_id + 1
        elif isinstance(num_nodes, bool) or not isinstance(num_nodes, numbers.Integral):
            raise TypeError(f"{source}: num_nodes must be an integer, got {num_nodes!r}")
        num_nodes = int(num_nodes)
        if num_nodes < 1:
            raise ValueError(f"{source}: graph is empty (no nodes)")
        if max_id >= num_nodes:
            raise ValueError(f"{source}: node id {max_id} out of range for num_nodes={num_nodes}")
        if prob_merge not in ("ic", "sum", "max", "first"):
            raise ValueError(
                f"prob_merge must be one of 'ic', 'sum', 'max', 'first', got {prob_merge!r}"
            )

        def per_row(x: Any, name: str, dtype: torch.dtype) -> torch.Tensor | None:
            if x is None:
                return None
            t = _tensor_of(x, f"{source}: {name}", device=device)
            if t.dtype == torch.bool or t.is_complex() or not (
                t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32,
                                                     torch.int64, torch.uint8)
            ):
                raise TypeError(f"{source}: {name} must hold real numbers, got dtype {t.dtype}")
            if dtype == torch.long and t.is_floating_point():
                if t.numel() and not torch.equal(t, t.round()):
                    raise ValueError(f"{source}: {name} must hold integers")
            t = t.to(dtype).reshape(-1)
            if t.numel() != m:
                raise ValueError(f"{source}: {name} has {t.numel()} entries, edge_index has {m}")
            return t

        prob = per_row(edge_prob, "edge_prob", torch.float64)
        if prob is not None:
            _check_prob(prob, f"{source}: edge_prob")
        sign = per_row(edge_sign, "edge_sign", torch.long)
        if sign is not None and m and not bool(((sign == 1) | (sign == -1)).all()):
            bad = sign[(sign != 1) & (sign != -1)][0].item()
            raise ValueError(f"{source}: edge_sign must be +1 or -1, found {bad}")
        delay = per_row(edge_delay, "edge_delay", torch.float64)
        if delay is not None and m and not bool(torch.isfinite(delay).all()):
            raise ValueError(f"{source}: edge_delay must be finite, found NaN or inf")
        if delay is not None and m and float(delay.min()) < 0:
            raise ValueError(
                f"{source}: edge_delay must be non-negative, found {float(delay.min())}"
            )
        etime = per_row(edge_time, "edge_time", torch.float64)
        if etime is not None and m and bool(torch.isnan(etime).any()):
            raise ValueError(f"{source}: edge_time contains NaN")

        src, dst = ei[0], ei[1]
        if not directed:
            src, dst = torch.cat([src, dst]), torch.cat([dst, src])
            prob, sign, delay, etime = (
                None if t is None else torch.cat([t, t]) for t in (prob, sign, delay, etime)
            )
        loops = src == dst
        n_loops = int(loops.sum())
        if n_loops:
            warnings.warn(f"{source}: dropped {n_loops} self-loop(s)", stacklevel=2)
            keep = ~loops
            src, dst = src[keep], dst[keep]
            prob, sign, delay, etime = (
                None if t is None else t[keep] for t in (prob, sign, delay, etime)
            )

        key = src * num_nodes + dst
        if etime is not None:  # order contacts by time inside each arc
            order = torch.argsort(etime, stable=True)
            order = order[torch.argsort(key[order], stable=True)]
        else:
            order = torch.argsort(key, stable=True)
        key = key[order]
        uniq, inverse, counts = torch.unique_consecutive(
            key, return_inverse=True, return_counts=True
        )
        n_dup = key.numel() - uniq.numel()
        if n_dup and etime is None:
            how = f"probabilities combined by prob_merge={prob_merge!r}" if prob is not None else ""
            warnings.warn(
                f"{source}: merged {n_dup} duplicate edge(s) into {int((counts > 1).sum())} "
                f"arc(s); multiplicity kept in edge_count{'; ' + how if how else ''}",
                stacklevel=2,
            )
        first = torch.zeros(uniq.numel(), dtype=torch.long, device=device)
        if uniq.numel():
            first[1:] = torch.cumsum(counts, 0)[:-1]

        merged_prob = None
        if prob is not None:
            p = prob[order]
            if prob_merge == "ic":
                log_q = torch.zeros(uniq.numel(), dtype=torch.float64, device=device)
                log_q.index_add_(0, inverse, torch.log1p(-p.clamp(max=1.0)))
                merged_prob = -torch.expm1(log_q)
            elif prob_merge == "sum":
                merged_prob = torch.zeros(uniq.numel(), dtype=torch.float64, device=device)
                merged_prob.index_add_(0, inverse, p)
                if merged_prob.numel() and float(merged_prob.max()) > 1.0:
                    raise ValueError(
                        f"{source}: summed duplicate edge weights exceed 1 "
                        f"(max {float(merged_prob.max()):.4g})"
                    )
            elif prob_merge == "max":
                merged_prob = torch.zeros(uniq.numel(), dtype=torch.float64, device=device)
                merged_prob.scatter_reduce_(0, inverse, p, reduce="amax", include_self=False)
            else:
                merged_prob = p[first]

        def first_of(t: torch.Tensor | None, name: str) -> torch.Tensor | None:
            if t is None:
                return None
            t = t[order]
            kept = t[first]
            if n_dup and bool((t != kept[inverse]).any()):
                warnings.warn(
                    f"{source}: duplicate edges disagree on {name}; kept the first value",
                    stacklevel=3,
                )
            return kept

        merged_sign = first_of(sign, "edge_sign")
        merged_delay = first_of(delay, "edge_delay")
        time_ptr = time_values = None
        if etime is not None:
            time_values = etime[order]
            time_ptr = torch.zeros(uniq.numel() + 1, dtype=torch.long, device=device)
            time_ptr[1:] = torch.cumsum(counts, 0)

        src_u = torch.div(uniq, num_nodes, rounding_mode="floor")
        col = uniq - src_u * num_nodes
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=device)
        rowptr[1:] = torch.cumsum(torch.bincount(src_u, minlength=num_nodes), 0)
        return cls(
            rowptr,
            col,
            edge_prob=merged_prob,
            edge_count=counts,
            edge_sign=merged_sign,
            edge_delay=merged_delay,
            time_ptr=time_ptr,
            time_values=time_values,
            node_labels=node_labels,
            directed=directed,
        )

    @classmethod
    def from_networkx(
        cls,
        G: Any,
        prob_attr: str | None = None,
        *,
        sign_attr: str | None = None,
        delay_attr: str | None = None,
    ) -> DiffusionGraph:
        """Build from a networkx (Di)Graph; node labels are kept.

        Args:
            G: ``networkx.Graph`` / ``DiGraph`` (multigraphs are merged with a warning).
            prob_attr: edge attribute holding the probability, or ``None``.
            sign_attr: edge attribute holding +1/-1, or ``None``.
            delay_attr: edge attribute holding the delay, or ``None``.
        """
        nodes = list(G.nodes())
        index = {v: i for i, v in enumerate(nodes)}
        edges = list(G.edges(data=True))
        ei = torch.tensor(
            [[index[u] for u, _, _ in edges], [index[v] for _, v, _ in edges]], dtype=torch.long
        ).reshape(2, -1)

        def attr(name: str | None) -> list | None:
            if name is None:
                return None
            missing = [(u, v) for u, v, d in edges if name not in d]
            if missing:
                raise ValueError(f"edge {missing[0]} has no attribute {name!r}")
            return [d[name] for _, _, d in edges]

        return cls.from_edge_index(
            ei,
            num_nodes=len(nodes),
            edge_prob=attr(prob_attr),
            edge_sign=attr(sign_attr),
            edge_delay=attr(delay_attr),
            node_labels=nodes,
            directed=G.is_directed(),
            source="networkx graph",
        )

    @classmethod
    def from_pyg(cls, data: Any, prob_attr: str = "edge_prob") -> DiffusionGraph:
        """Build from a ``torch_geometric.data.Data`` (``edge_prob`` or ``edge_weight`` read)."""
        prob = getattr(data, prob_attr, None)
        if prob is None and prob_attr == "edge_prob":
            prob = getattr(data, "edge_weight", None)
        return cls.from_edge_index(
            data.edge_index,
            num_nodes=data.num_nodes,
            edge_prob=prob,
            edge_sign=getattr(data, "edge_sign", None),
            edge_delay=getattr(data, "edge_delay", None),
            source="PyG Data",
        )

    # ------------------------------------------------------------------ basic properties
    @property
    def num_nodes(self) -> int:
        """Number of nodes ``n``."""
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        """Number of distinct arcs ``E``."""
        return self.col.numel()

    @property
    def device(self) -> torch.device:
        """Device of the graph tensors."""
        return self.col.device

    @property
    def is_temporal(self) -> bool:
        """Whether the arcs carry contact times."""
        return self.time_ptr is not None

    @property
    def src(self) -> torch.Tensor:
        """``[E]`` source node of each arc (cached)."""
        if "src" not in self._cache:
            self._cache["src"] = torch.repeat_interleave(
                torch.arange(self.num_nodes, device=self.device), self.out_degree()
            )
        return self._cache["src"]

    @property
    def edge_index(self) -> torch.Tensor:
        """``[2, E]`` arcs in CSR order (row 0 = source)."""
        return torch.stack([self.src, self.col])

    def out_degree(self) -> torch.Tensor:
        """``[n]`` number of distinct out-arcs of each node."""
        return self.rowptr[1:] - self.rowptr[:-1]

    def in_degree(self) -> torch.Tensor:
        """``[n]`` number of distinct in-arcs of each node."""
        return self.in_csr()[0].diff()

    def in_csr(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reverse CSR over in-arcs, built on first use and cached.

        Returns:
            ``(in_rowptr [n+1], in_src [E], in_eid [E])``: for target ``v`` the arcs
            ``in_eid[in_rowptr[v]:in_rowptr[v+1]]`` come from ``in_src[...]``; ``in_eid`` indexes
            the per-edge tensors.
        """
        if "in_csr" not in self._cache:
            order = torch.argsort(self.col * self.num_nodes + self.src)
            rowptr = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=self.device)
            rowptr[1:] = torch.cumsum(torch.bincount(self.col, minlength=self.num_nodes), 0)
            self._cache["in_csr"] = (rowptr, self.src[order], order)
        return self._cache["in_csr"]

    def require_prob(self) -> torch.Tensor:
        """Return ``edge_prob`` or raise a ``ValueError`` saying how to set it."""
        if self.edge_prob is None:
            raise ValueError(
                "graph has no edge probabilities: set them with "
                "influence_gpu.graph.assign_probabilities(graph, scheme=...) or give edge_prob"
            )
        return self.edge_prob

    # ------------------------------------------------------------------ derived graphs
    def replace(self, **fields: Any) -> DiffusionGraph:
        """Return a copy with some fields replaced (same structure), e.g. ``edge_prob=``."""
        kw = {
            name: getattr(self, name)
            for name in (*_EDGE_FIELDS, "time_ptr", "time_values", "node_labels", "directed")
        }
        kw.update(fields)
        out = DiffusionGraph(self.rowptr, self.col, **kw)
        for k in ("src", "in_csr"):  # structure unchanged: reuse the cached index
            if k in self._cache:
                out._cache[k] = self._cache[k]
        return out

    def with_prob(self, edge_prob: Any) -> DiffusionGraph:
        """Return a copy whose ``edge_prob`` is ``edge_prob`` (a float or an ``[E]`` tensor)."""
        p = torch.as_tensor(edge_prob, dtype=torch.float32, device=self.device)
        if p.dim() == 0:
            p = p.expand(self.num_edges).clone()
        return self.replace(edge_prob=p)

    def to(self, device: DeviceLike) -> DiffusionGraph:
        """Return the graph with every tensor on ``device`` (``self`` if already there)."""
        if device is None or torch.device(device) == self.device:
            return self
        kw = {
            name: None if getattr(self, name) is None else getattr(self, name).to(device)
            for name in (*_EDGE_FIELDS, "time_ptr", "time_values")
        }
        return DiffusionGraph(
            self.rowptr.to(device),
            self.col.to(device),
            node_labels=self.node_labels,
            directed=self.directed,
            **kw,
        )

    # ------------------------------------------------------------------ node labels
    def index_of(self, nodes: Any, name: str = "nodes") -> torch.Tensor:
        """Map node labels (or ids, for an unlabelled graph) to internal ids.

        Args:
            nodes: a label, a sequence of labels, or an integer tensor.
            name: argument name used in error messages.

        Returns:
            ``[k]`` int64 tensor of internal ids on the graph's device.

        Raises:
            ValueError: a label not in the graph / an id out of range.
        """
        if isinstance(nodes, torch.Tensor):
            items = nodes.reshape(-1).tolist()
        elif isinstance(nodes, (str, bytes)) or not isinstance(nodes, (Sequence, set, frozenset)):
            if hasattr(nodes, "__iter__") and not isinstance(nodes, (str, bytes)):
                items = list(nodes)
            else:
                items = [nodes]
        else:
            items = list(nodes)
        if self.node_labels is None:
            ids = []
            for x in items:
                if isinstance(x, bool) or not isinstance(x, (int,)) and not hasattr(x, "__index__"):
                    raise TypeError(f"{name} must be integer node ids, got {x!r}")
                x = int(x)
                if x < 0 or x >= self.num_nodes:
                    raise ValueError(
                        f"{name} contains node {x}, out of range for a graph with "
                        f"{self.num_nodes} nodes (ids 0..{self.num_nodes - 1})"
                    )
                ids.append(x)
        else:
            if self._label_index is None:
                self._label_index = {lab: i for i, lab in enumerate(self.node_labels)}
            ids = []
            for x in items:
                try:
                    i = self._label_index.get(x)
                except TypeError:
                    raise TypeError(f"{name} contains {x!r}, which is not hashable") from None
                if i is not None and isinstance(x, (bool, float)) and (
                    type(self.node_labels[i]) is not type(x)
                ):
                    # True == 1 and 1.0 == 1 in a dict: a bool or a float names no int label
                    raise TypeError(
                        f"{name} contains {x!r} ({type(x).__name__}), but the node labelled "
                        f"{self.node_labels[i]!r} is a {type(self.node_labels[i]).__name__}"
                    )
                if i is None and isinstance(x, str):
                    # labels read from files are ints when they parse as ints
                    try:
                        i = self._label_index.get(int(x))
                    except ValueError:
                        i = None
                if i is None:
                    raise ValueError(f"{name} contains {x!r}, which is not a node of the graph")
                ids.append(i)
        return torch.tensor(ids, dtype=torch.long, device=self.device)

    def labels_of(self, ids: Any) -> list[Hashable]:
        """Map internal ids back to the user's node labels."""
        ids = torch.as_tensor(ids).reshape(-1).tolist()
        if self.node_labels is None:
            return [int(i) for i in ids]
        return [self.node_labels[int(i)] for i in ids]

    # ------------------------------------------------------------------ interop
    def to_networkx(self) -> Any:
        """Return a ``networkx.DiGraph`` with the original labels and edge attributes.

        Edge attributes: ``prob``, ``count`` and, when set, ``sign``, ``delay``, ``times``.
        """
        import networkx as nx

        G = nx.DiGraph()
        labels = self.labels_of(torch.arange(self.num_nodes))
        G.add_nodes_from(labels)
        src, dst = self.src.cpu().tolist(), self.col.cpu().tolist()
        cols = {"count": self.edge_count.cpu().tolist()}
        if self.edge_prob is not None:
            cols["prob"] = self.edge_prob.cpu().tolist()
        if self.edge_sign is not None:
            cols["sign"] = self.edge_sign.cpu().tolist()
        if self.edge_delay is not None:
            cols["delay"] = self.edge_delay.cpu().tolist()
        if self.time_ptr is not None:
            tp, tv = self.time_ptr.cpu().tolist(), self.time_values.cpu().tolist()
            cols["times"] = [tv[tp[e] : tp[e + 1]] for e in range(self.num_edges)]
        for e in range(self.num_edges):
            G.add_edge(labels[src[e]], labels[dst[e]], **{k: v[e] for k, v in cols.items()})
        return G

    def to_pyg(self) -> Any:
        """Return a ``torch_geometric.data.Data`` with ``edge_index`` and the per-edge tensors."""
        from torch_geometric.data import Data

        data = Data(edge_index=self.edge_index, num_nodes=self.num_nodes)
        data.edge_count = self.edge_count
        for name in ("edge_prob", "edge_sign", "edge_delay"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    def content_hash(self) -> str:
        """SHA-256 over structure and per-edge parameters (stable across devices)."""
        h = hashlib.sha256()
        for name in ("rowptr", "col", *_EDGE_FIELDS, "time_ptr", "time_values"):
            t = getattr(self, name)
            h.update(name.encode())
            if t is not None:
                h.update(t.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    def structure_hash(self) -> str:
        """SHA-256 of the arcs alone (``num_nodes``, ``rowptr``, ``col``; no per-edge values).

        What identifies the graph a model learned from cascades is built on (its ``edge_index``
        and ``num_nodes``): equal to :func:`edge_index_hash` of any edge list that gives this
        graph's arcs, duplicates and self-loops aside.
        """
        return _structure_digest(self.num_nodes, self.rowptr, self.col)

    def __repr__(self) -> str:
        extras = [
            name
            for name in ("edge_prob", "edge_sign", "edge_delay")
            if getattr(self, name) is not None
        ]
        if self.is_temporal:
            extras.append(f"contacts={self.time_values.numel()}")
        return (
            f"DiffusionGraph(num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
            f"device={self.device}{', ' if extras else ''}{', '.join(extras)})"
        )
