"""Readers for SNAP edge lists, GML, temporal contact lists and signed edge lists.

Every reader returns a canonical :class:`~influence_gpu.graph.DiffusionGraph`: self-loops dropped
and duplicate arcs merged (each with a warning from :meth:`DiffusionGraph.from_edge_index`),
original node ids kept in ``node_labels`` so that seeds and results use the user's ids. Edge lists
are parsed in bulk (one ``str.split`` over the file and a numpy conversion), so a million-line SNAP
file loads in a few seconds; a malformed line still gives ``ValueError("path:line: ...")`` with the
1-based line number.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from influence_gpu.graph import datasets as _datasets
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["load_graph", "read_edgelist", "read_gml", "read_temporal", "read_signed", "FORMATS"]

#: Formats understood by :func:`load_graph`.
FORMATS = ("edgelist", "gml", "temporal", "signed")

_COMMENT = ("#", "%")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_HEADER_WORDS = {
    "source", "target", "src", "dst", "from", "to", "u", "v", "i", "j", "node", "node1", "node2",
    "nodeid", "fromnodeid", "tonodeid", "id1", "id2", "weight", "rating", "sign", "time",
    "timestamp", "t", "w", "delay", "value",
}


# ---------------------------------------------------------------------------- low-level parsing
def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic.

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"path: ..."`` for a truncated or corrupt ``.gz`` file, a folder, or an
            unreadable file.
    """
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a graph file")
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
        if magic != b"\x1f\x8b":
            with open(path, "rb") as f:
                return f.read()
        with gzip.open(path, "rb") as f:
            return f.read()
    except EOFError:
        raise ValueError(
            f"{path}: truncated gzip file (it ends before the end of the compressed stream)"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"{path}: corrupt gzip file ({err})") from None
    except OSError as err:
        raise ValueError(f"{path}: cannot read the file ({err})") from None


def _read_text(path: Path) -> str:
    """The file as text: UTF-8 (a leading byte-order mark is dropped), plain or gzipped.

    Raises:
        ValueError: ``"path:line: ..."`` for bytes that are not UTF-8 text or a NUL byte (a
            binary file), and everything :func:`_read_bytes` refuses.
    """
    data = _read_bytes(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text ({e.reason}); is it a binary file?"
                         ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ValueError(f"{path}:{line}: NUL byte in the file; is it a binary file?")
    return text


def _is_int(tok: str) -> bool:
    try:
        int(tok)
    except ValueError:
        return False
    return True


def _is_float(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


class _Table:
    """Tokens of the data lines of a text file: ``cells [N, ncol]`` (str) and ``line [N]``."""

    def __init__(self, path: Path, min_cols: int, what: str) -> None:
        self.path = path
        lines = _read_text(path).splitlines()
        keep = [
            i for i, ln in enumerate(lines)
            if ln and (ln[0] not in " \t#%" or (ln.strip() and ln.lstrip()[0] not in "#%"))
        ]
        body = [lines[i] for i in keep]
        self.comma = bool(body) and "," in body[0]
        if body and self._looks_like_header(body):
            keep, body = keep[1:], body[1:]
        self.line = np.asarray(keep, dtype=np.int64) + 1
        if not body:
            raise ValueError(f"{path}: no {what} lines found (empty file or only comments)")
        ncol = len(self._split(body[0]))
        if ncol < min_cols:
            raise ValueError(
                f"{path}:{self.line[0]}: expected at least {min_cols} columns for {what}, "
                f"found {ncol}: {body[0]!r}"
            )
        if self.comma:
            tokens = [t.strip() for t in "\n".join(body).replace("\n", ",").split(",")]
        else:
            tokens = "\n".join(body).split()
        if len(tokens) != ncol * len(body):  # find the first ragged line (error path only)
            for k, ln in enumerate(body):
                got = len(self._split(ln))
                if got != ncol:
                    raise ValueError(
                        f"{path}:{self.line[k]}: expected {ncol} columns (as on line "
                        f"{self.line[0]}), found {got}: {ln!r}"
                    )
        self.cells = np.asarray(tokens, dtype=str).reshape(len(body), ncol)
        self.ncol = ncol

    def _split(self, ln: str) -> list[str]:
        return [t.strip() for t in ln.split(",")] if self.comma else ln.split()

    def _looks_like_header(self, body: list[str]) -> bool:
        first = self._split(body[0])
        if len(first) < 2:
            return False
        if all(t.lower().strip("\"'") in _HEADER_WORDS for t in first):
            return True
        if len(body) < 2 or not self.comma:
            return False
        second = self._split(body[1])
        if len(second) < 2:
            return False
        ids_named = not _is_int(first[0]) and not _is_int(first[1])
        ids_next = _is_int(second[0]) and _is_int(second[1])
        return ids_named and ids_next

    def fail(self, row: int, msg: str) -> ValueError:
        return ValueError(f"{self.path}:{self.line[row]}: {msg}")

    def ids(self, labels: str) -> tuple[np.ndarray, list[Any]]:
        """Return ``(edge_index [2, N] int64 in 0..n-1, node_labels)`` from columns 0 and 1."""
        raw = self.cells[:, :2]
        as_int = None
        if labels in ("auto", "int"):
            try:
                as_int = raw.astype(np.int64)
            except (ValueError, OverflowError):
                flat = raw.reshape(-1)
                good = np.fromiter((_is_int(t) for t in flat), dtype=bool, count=flat.size)
                if good.all():  # integers, but one of them does not fit int64
                    big = next(i for i, t in enumerate(flat)
                               if not _INT64_MIN <= int(t) <= _INT64_MAX)
                    raise self.fail(
                        big // 2,
                        f"node id {str(flat[big])!r} is outside the int64 range "
                        "(pass labels='str' to read ids as names)",
                    ) from None
                bad = int(np.flatnonzero(~good)[0])
                if labels == "int" or good.any():
                    hint = "" if labels == "int" else " (pass labels='str' to read names)"
                    raise self.fail(
                        bad // 2, f"node id {str(flat[bad])!r} is not an integer{hint}"
                    ) from None
        if as_int is not None:
            neg = as_int < 0
            if neg.any():
                row = int(np.flatnonzero(neg.any(1))[0])
                raise self.fail(row, f"negative node id {int(as_int[row][neg[row]][0])}")
            uniq, inv = np.unique(as_int, return_inverse=True)
            return inv.reshape(-1, 2).T.copy(), [int(x) for x in uniq]
        uniq, inv = np.unique(raw, return_inverse=True)
        return inv.reshape(-1, 2).T.copy(), [str(x) for x in uniq]

    def floats(self, col: int, name: str) -> np.ndarray:
        """Column ``col`` as float64, with the first bad / non-finite value reported."""
        raw = self.cells[:, col]
        try:
            out = raw.astype(np.float64)
        except ValueError:
            row = next(k for k, t in enumerate(raw) if not _is_float(t))
            raise self.fail(row, f"{name} {str(raw[row])!r} is not a number") from None
        bad = ~np.isfinite(out)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise self.fail(row, f"{name} {str(raw[row])!r} is not finite")
        return out


def _check_labels_arg(labels: str) -> None:
    if labels not in ("auto", "int", "str"):
        raise ValueError(f"labels must be 'auto', 'int' or 'str', got {labels!r}")


def _edge_map(graph: DiffusionGraph, ei: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map each input row (u, v) to the arc id of the canonical graph (-1 for dropped loops)."""
    n = graph.num_nodes
    arc_key = (graph.src * n + graph.col).numpy()
    key = ei[0] * n + ei[1]
    pos = np.searchsorted(arc_key, key).clip(max=max(arc_key.size - 1, 0))
    ok = arc_key.size > 0
    hit = (arc_key[pos] == key) if ok else np.zeros(key.size, dtype=bool)
    return np.where(hit, pos, -1), hit


def _weights_as_counts(
    graph: DiffusionGraph, ei: np.ndarray, w: np.ndarray, directed: bool, path: Path
) -> DiffusionGraph:
    """Use non-negative integer weights as arc multiplicities (summed over duplicate lines)."""
    if not np.all((w >= 0) & (w == np.round(w))):
        warnings.warn(
            f"{path}: edge weights are neither probabilities in [0, 1] nor integer counts; "
            "ignored (the probability scheme sets edge_prob)",
            stacklevel=4,
        )
        return graph
    rows = ei if directed else np.concatenate([ei, ei[::-1]], axis=1)
    ww = w if directed else np.concatenate([w, w])
    arc, hit = _edge_map(graph, rows)
    counts = np.zeros(graph.num_edges, dtype=np.int64)
    np.add.at(counts, arc[hit], ww[hit].astype(np.int64))
    return graph.replace(edge_count=torch.from_numpy(counts))


# ---------------------------------------------------------------------------- readers
def read_edgelist(
    path: str | os.PathLike,
    *,
    directed: bool = True,
    weighted: bool | None = None,
    labels: str = "auto",
    prob_merge: str = "ic",
    allow_out_of_range: bool = False,
) -> DiffusionGraph:
    """Read a SNAP-style edge list ``u v [w]`` (plain or ``.gz``).

    Lines starting with ``#`` or ``%`` and blank lines are skipped; columns are separated by
    whitespace or commas (a first CSV line that names the columns is skipped); CRLF endings are
    fine. Integer ids are kept as node labels (sorted, mapped to ``0..n-1``); names are allowed
    too (string labels).

    Args:
        path: the file.
        directed: ``False`` adds the reverse of every arc.
        weighted: use the third column as ``edge_prob`` (``None``: when there is one; ``False``:
            ignore it).
        labels: ``"auto"`` (integers when every id is one, names when none is), ``"int"`` or
            ``"str"``.
        prob_merge: how weights of duplicate lines combine (see ``from_edge_index``).
        allow_out_of_range: keep weights outside [0, 1] as integer multiplicities
            (``edge_count``) instead of raising; used when a probability scheme is applied after.

    Returns:
        The graph, with ``edge_prob`` set when weights were read.

    Raises:
        ValueError: ``"path:line: ..."`` for a malformed line, a negative id, a weight that is not
            a number or (unless ``allow_out_of_range``) lies outside [0, 1].

    """
    path = Path(path)
    _check_labels_arg(labels)
    tab = _Table(path, 2, "edge")
    ei, node_labels = tab.ids(labels)
    w = None
    if weighted is True and tab.ncol < 3:
        raise ValueError(f"{path}: weighted=True but the file has no weight column")
    if weighted is not False and tab.ncol >= 3:
        w = tab.floats(2, "weight")
    out_of_range = w is not None and bool(np.any((w < 0) | (w > 1)))
    if out_of_range and not allow_out_of_range:
        row = int(np.flatnonzero((w < 0) | (w > 1))[0])
        raise tab.fail(
            row,
            f"weight {float(w[row])!r} outside [0, 1]; pass weighted=False to ignore the column, "
            "or a prob_scheme to load_graph to set probabilities from a scheme (contact times: "
            "fmt='temporal')",
        )
    g = DiffusionGraph.from_edge_index(
        torch.from_numpy(ei),
        num_nodes=len(node_labels),
        edge_prob=None if (w is None or out_of_range) else torch.from_numpy(w),
        node_labels=node_labels,
        directed=directed,
        prob_merge=prob_merge,
        source=str(path),
    )
    if out_of_range:
        g = _weights_as_counts(g, ei, w, directed, path)
    return g


def read_temporal(
    path: str | os.PathLike, *, directed: bool = True, labels: str = "auto"
) -> DiffusionGraph:
    """Read a temporal contact list ``u v t`` (one line per contact; SNAP ``sx-*``, ``CollegeMsg``).

    Each line is one contact; the graph has one arc per distinct ``(u, v)`` with its contact times
    (sorted) in ``time_ptr`` / ``time_values`` and the number of contacts in ``edge_count``.
    Columns after the third are ignored.

    Args:
        path: the file.
        directed: ``False`` makes every contact go both ways.
        labels: as in :func:`read_edgelist`.

    Returns:
        A temporal graph (``graph.is_temporal``); times are float64.

    Raises:
        ValueError: ``"path:line: ..."`` for a malformed line or a time that is not a number.

    """
    path = Path(path)
    _check_labels_arg(labels)
    tab = _Table(path, 3, "contact")
    ei, node_labels = tab.ids(labels)
    t = tab.floats(2, "time")
    return DiffusionGraph.from_edge_index(
        torch.from_numpy(ei),
        num_nodes=len(node_labels),
        edge_time=torch.from_numpy(t),
        node_labels=node_labels,
        directed=directed,
        source=str(path),
    )


def read_signed(
    path: str | os.PathLike,
    *,
    directed: bool = True,
    labels: str = "auto",
    delay: float = 1.0,
    delay_col: int | None = None,
    zero_sign: str = "error",
) -> DiffusionGraph:
    """Read a signed edge list ``u v s [...]`` (SNAP ``soc-sign-*``, bitcoin CSV files).

    The sign of each arc is the sign of the third column (+1/-1 files, or bitcoin ratings
    -10..+10). Delays for the signed first-arrival model (paper C) come from column ``delay_col``
    when given, else every arc gets ``delay``.

    Args:
        path: the file.
        directed: ``False`` adds the reverse of every arc (paper C's signed graphs are undirected).
        labels: as in :func:`read_edgelist`.
        delay: default transmission delay (>= 0) when ``delay_col`` is ``None``.
        delay_col: 0-based column holding the delays, or ``None``.
        zero_sign: what to do with a zero rating: ``"error"`` or ``"skip"`` (with a warning saying
            how many lines were skipped).

    Returns:
        A graph with ``edge_sign`` (int8 +-1) and ``edge_delay`` set.

    Raises:
        ValueError: ``"path:line: ..."`` for a malformed line, a zero sign (with
            ``zero_sign="error"``), a negative or non-numeric delay; bad arguments.

    """
    path = Path(path)
    _check_labels_arg(labels)
    if zero_sign not in ("error", "skip"):
        raise ValueError(f"zero_sign must be 'error' or 'skip', got {zero_sign!r}")
    if delay_col is None and not (isinstance(delay, (int, float)) and delay >= 0):
        raise ValueError(f"delay must be a non-negative number, got {delay!r}")
    tab = _Table(path, 3, "signed edge")
    ei, node_labels = tab.ids(labels)
    s = tab.floats(2, "sign")
    if delay_col is not None:
        if not (isinstance(delay_col, int) and 2 < delay_col < tab.ncol):
            raise ValueError(
                f"delay_col={delay_col!r} must be a column index in 3..{tab.ncol - 1} of {path}"
            )
        d = tab.floats(delay_col, "delay")
        if (d < 0).any():
            row = int(np.flatnonzero(d < 0)[0])
            raise tab.fail(row, f"negative delay {float(d[row])!r}")
    else:
        d = np.full(s.size, float(delay))
    zero = s == 0
    if zero.any():
        if zero_sign == "error":
            row = int(np.flatnonzero(zero)[0])
            raise tab.fail(
                row, "sign/rating is 0, which has no sign (zero_sign='skip' drops such lines)"
            )
        warnings.warn(f"{path}: skipped {int(zero.sum())} line(s) with sign/rating 0", stacklevel=3)
        keep = ~zero
        ei, s, d = ei[:, keep], s[keep], d[keep]
        used = np.unique(ei)  # drop nodes that only had zero-rated lines
        if used.size != len(node_labels):
            node_labels = [node_labels[i] for i in used]
            ei = np.searchsorted(used, ei)
    return DiffusionGraph.from_edge_index(
        torch.from_numpy(np.ascontiguousarray(ei)),
        num_nodes=len(node_labels),
        edge_sign=torch.from_numpy(np.sign(s).astype(np.int64)),
        edge_delay=torch.from_numpy(d),
        node_labels=node_labels,
        directed=directed,
        source=str(path),
    )


def read_gml(
    path: str | os.PathLike,
    *,
    directed: bool | None = None,
    weighted: bool | None = None,
    weight_attr: str = "value",
    allow_out_of_range: bool = False,
) -> DiffusionGraph:
    """Read a GML file (plain or ``.gz``) with ``networkx.read_gml(path, label="id")``.

    Node ids become the labels; parallel edges of a multigraph are merged (with the warning from
    ``from_edge_index``, multiplicity kept in ``edge_count``).

    Args:
        path: the file.
        directed: ``None`` follows the file's ``directed`` flag; ``False`` makes a directed file
            symmetric; ``True`` reads an undirected file's edges as given (``u -> v`` only).
        weighted: read ``weight_attr`` as ``edge_prob`` (``None`` / ``False``: do not).
        weight_attr: the edge attribute holding weights.
        allow_out_of_range: keep weights outside [0, 1] as integer multiplicities, not raise.

    Returns:
        The graph.

    Raises:
        ValueError: ``"path: ..."`` when networkx cannot parse the file, an edge lacks the weight
            attribute, or a weight lies outside [0, 1].

    """
    import networkx as nx

    path = Path(path)
    text = _read_text(path)  # missing, folder, gzip, encoding and binary errors, named
    try:
        G = nx.parse_gml(text.splitlines(), label="id")
    except (nx.NetworkXError, ValueError, SyntaxError, KeyError, TypeError, IndexError,
            AttributeError, RecursionError) as e:
        raise ValueError(f"{path}: cannot parse GML: {e}") from None
    if directed is None:
        directed = G.is_directed()
    nodes = list(G.nodes())
    index = {v: i for i, v in enumerate(nodes)}
    edges = list(G.edges(data=True))
    if not nodes:
        raise ValueError(f"{path}: graph is empty (no nodes)")
    ei = np.array([[index[u] for u, _, _ in edges], [index[v] for _, v, _ in edges]],
                  dtype=np.int64).reshape(2, -1)
    w = None
    if weighted:
        missing = [(u, v) for u, v, d in edges if weight_attr not in d]
        if missing:
            raise ValueError(f"{path}: edge {missing[0]} has no {weight_attr!r} attribute")
        try:
            w = np.array([float(d[weight_attr]) for _, _, d in edges], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: edge attribute {weight_attr!r} is not numeric") from None
    out_of_range = w is not None and bool(np.any((w < 0) | (w > 1) | ~np.isfinite(w)))
    if out_of_range and not allow_out_of_range:
        k = int(np.flatnonzero((w < 0) | (w > 1) | ~np.isfinite(w))[0])
        u, v, _ = edges[k]
        raise ValueError(
            f"{path}: edge ({u!r}, {v!r}) has {weight_attr}={float(w[k])!r} outside [0, 1]; "
            "pass a prob_scheme to load_graph to set probabilities from a scheme"
        )
    g = DiffusionGraph.from_edge_index(
        torch.from_numpy(ei),
        num_nodes=len(nodes),
        edge_prob=None if (w is None or out_of_range) else torch.from_numpy(w),
        node_labels=nodes,
        directed=directed,
        source=str(path),
    )
    if out_of_range:
        g = _weights_as_counts(g, ei, w, directed, path)
    return g


# ---------------------------------------------------------------------------- front door
def _guess_format(path: Path) -> str:
    name = path.name.lower()
    return "gml" if name.endswith((".gml", ".gml.gz")) else "edgelist"


def load_graph(
    path_or_name: str | os.PathLike,
    *,
    fmt: str | None = None,
    directed: bool | None = None,
    weighted: bool | None = None,
    prob_scheme: str | None = None,
    labels: str = "auto",
    delay: float = 1.0,
    delay_col: int | None = None,
    zero_sign: str = "error",
    **scheme_kwargs: Any,
) -> DiffusionGraph:
    """Load a graph from a file or from a known shared dataset, optionally setting probabilities.

    A path to an existing file is read directly; otherwise ``path_or_name`` is looked up in
    :mod:`influence_gpu.graph.datasets` (``"email-Eu-core"``, ``"p2p-Gnutella08"``, ``"karate"``,
    ``"CollegeMsg"``, ``"soc-sign-bitcoinotc"``, ...), whose file, format and directedness are
    recorded there. The datasets folder is ``<repo>/../shared/datasets`` or ``$INFLUENCE_GPU_DATA``.

    Args:
        path_or_name: a file path or a dataset name.
        fmt: ``"edgelist"``, ``"gml"``, ``"temporal"`` or ``"signed"``; ``None`` takes the
            dataset's format, or guesses from the extension (``.gml`` / ``.gml.gz``: GML,
            otherwise an edge list).
        directed: ``None`` uses the dataset's / GML file's own setting (edge lists: directed);
            ``False`` adds the reverse of every arc.
        weighted: use the weight column (GML: the ``value`` attribute) as ``edge_prob``;
            ``None``: edge lists use a third column when present, GML does not.
        prob_scheme: a scheme of :func:`~influence_gpu.graph.assign_probabilities` applied after
            reading (``"weighted_cascade"``, ``"uniform"``, ``"trivalency"``, ``"lt_weights"``,
            ``"contact_count"``, ``"contact_beta"``, ``"file"``). With a scheme, file weights
            outside [0, 1] are not an error: integer ones become multiplicities (``edge_count``).
        labels: node-id parsing for text formats: ``"auto"``, ``"int"`` or ``"str"``.
        delay: signed format: default delay of every arc.
        delay_col: signed format: 0-based column holding delays.
        zero_sign: signed format: ``"error"`` or ``"skip"`` for lines with sign/rating 0.
        **scheme_kwargs: ``p``, ``seed``, ``beta`` for the scheme.

    Returns:
        The ``DiffusionGraph`` (on CPU).

    Raises:
        FileNotFoundError: no such file and no such dataset, or the dataset's file is missing
            (the message says where it looked).
        ValueError: an unknown ``fmt`` / scheme, or a malformed file (``"path:line: ..."``).

    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS} or None, got {fmt!r}")
    if scheme_kwargs and prob_scheme is None:
        raise TypeError(
            f"unexpected keyword argument(s) {sorted(scheme_kwargs)} "
            "(scheme options need prob_scheme)"
        )
    path = Path(path_or_name).expanduser()
    symmetric = False
    if not path.is_file():
        info = _datasets.get_dataset(str(path_or_name))
        if info is None:
            raise FileNotFoundError(
                f"no file at {path.resolve()} and {str(path_or_name)!r} is not a known dataset "
                f"name (known: {', '.join(_datasets.list_datasets())})"
            )
        path = _datasets.dataset_path(info.name)
        fmt = fmt or info.fmt
        symmetric = info.symmetric and directed is None
        if directed is None:
            directed = info.directed or info.symmetric
    fmt = fmt or _guess_format(path)
    lenient = prob_scheme is not None and prob_scheme != "file"
    if fmt == "edgelist":
        g = read_edgelist(path, directed=True if directed is None else directed,
                          weighted=weighted, labels=labels, allow_out_of_range=lenient)
    elif fmt == "gml":
        g = read_gml(path, directed=directed, weighted=weighted, allow_out_of_range=lenient)
    elif fmt == "temporal":
        g = read_temporal(path, directed=True if directed is None else directed, labels=labels)
    else:
        g = read_signed(path, directed=True if directed is None else directed, labels=labels,
                        delay=delay, delay_col=delay_col, zero_sign=zero_sign)
    if symmetric:
        g = g.replace(directed=False)
    if prob_scheme is not None:
        from influence_gpu.graph.probabilities import assign_probabilities

        g = assign_probabilities(g, prob_scheme, **scheme_kwargs)
    return g
