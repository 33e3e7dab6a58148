"""Corrupt and unusual graph files: a correct graph or a ValueError naming the file (and line).

Random byte strings and random edits of small real-format files (made here) must never hang,
crash or raise anything but a ``ValueError`` whose message starts with the file's path.
"""

import gzip
import random
import re
import warnings

import pytest

from influence_gpu.graph.readers import (
    load_graph,
    read_edgelist,
    read_gml,
    read_signed,
    read_temporal,
)

EDGELIST = b"# a SNAP file\n1 2 0.5\n2 3 0.25\n3 1 1\n4 1 0\n"
TEMPORAL = b"1 2 10\n2 3 11\n1 2 12\n3 4 13\n"
SIGNED = b"1 2 1\n2 3 -1\n3 4 5\n4 1 -2\n"
CSV = b"source,target\n1,2\n2,3\n3,1\n"
GML = (b'graph [\n  directed 1\n  node [ id 1 ]\n  node [ id 2 ]\n  node [ id 3 ]\n'
       b'  edge [ source 1 target 2 value 0.5 ]\n  edge [ source 2 target 3 value 0.5 ]\n]\n')

READERS = {
    "edgelist": (EDGELIST, read_edgelist),
    "temporal": (TEMPORAL, read_temporal),
    "signed": (SIGNED, read_signed),
    "csv": (CSV, read_edgelist),
    "gml": (GML, lambda p: read_gml(p, weighted=True)),
}


def _check(reader, path):
    """Call the reader: a graph, or a ValueError that names the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            g = reader(path)
        except ValueError as err:
            assert str(err).startswith(str(path)), err
            return None
    assert g.num_nodes >= 1
    return g


def _mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        i = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(i, len(data) - 1)] = rng.randrange(256)
        elif op == 1:  # insert junk
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
        elif op == 2:  # delete a span
            del data[i:i + rng.randint(1, 6)]
        elif op == 3:  # insert a token a user might type
            data[i:i] = rng.choice([b" x ", b" -1 ", b" 1e999 ", b" nan ",
                                    b" 99999999999999999999 ", b"\t", b",", b"\r\n", b"\x00",
                                    b"\xef\xbb\xbf", b" 0.5 0.5 "])
        elif op == 4:  # truncate
            data = data[:i]
        else:  # duplicate a line
            lines = bytes(data).split(b"\n")
            j = rng.randrange(len(lines))
            lines.insert(j, lines[j])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_random_edits_of_real_files(fmt, tmp_path):
    data, reader = READERS[fmt]
    assert _check(reader, _write(tmp_path / f"ok.{fmt}", data)) is not None
    rng = random.Random(sum(fmt.encode()))
    for i in range(60):
        _check(reader, _write(tmp_path / f"m{i}.{fmt}", _mutate(rng, data)))


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_random_bytes(fmt, tmp_path):
    rng = random.Random(7)
    _, reader = READERS[fmt]
    for i in range(40):
        blob = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        _check(reader, _write(tmp_path / f"r{i}.{fmt}", blob))


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_truncated_and_corrupt_gzip(fmt, tmp_path):
    data, reader = READERS[fmt]
    blob = gzip.compress(data)
    assert _check(reader, _write(tmp_path / f"ok.{fmt}.gz", blob)) is not None
    for cut in (3, 10, len(blob) // 2, len(blob) - 4):
        path = _write(tmp_path / f"cut{cut}.{fmt}.gz", blob[:cut])
        with pytest.raises(ValueError, match=re.escape(str(path)) + ".*(truncated|corrupt)"):
            reader(path)
    bad = bytearray(blob)
    bad[12] ^= 0xFF
    _check(reader, _write(tmp_path / f"flip.{fmt}.gz", bytes(bad)))


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_byte_order_mark_is_read(fmt, tmp_path):
    data, reader = READERS[fmt]
    plain = _check(reader, _write(tmp_path / f"a.{fmt}", data))
    bom = _check(reader, _write(tmp_path / f"b.{fmt}", b"\xef\xbb\xbf" + data))
    assert bom is not None and bom.num_edges == plain.num_edges
    assert bom.node_labels == plain.node_labels


def test_messages_name_file_and_line(tmp_path):
    cases = {
        b"1 2\n2 99999999999999999999\n": r":2: node id '9+' is outside the int64",
        b"1 2\n\x00\x01\x02 3\n": r":2: NUL byte",
        b"1 2\n\xff\xfe 3\n": r":2: not UTF-8 text",
        b"1 2 0.5\n2 3 abc\n": r":2: weight 'abc' is not a number",
        b"1 2 0.5\n2 3 inf\n": r":2: weight 'inf' is not finite",
        b"1 2\n2 3 4\n": r":2: expected 2 columns",
        b"# only a comment\n": r": no edge lines",
        b"": r": no edge lines",
    }
    for i, (data, msg) in enumerate(cases.items()):
        path = _write(tmp_path / f"e{i}.txt", data)
        with pytest.raises(ValueError, match=re.escape(str(path)) + msg):
            read_edgelist(path)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        read_edgelist(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_edgelist(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError):
        load_graph(tmp_path / "nope.txt")


def test_large_ids_as_names_and_bom_csv_header(tmp_path):
    path = _write(tmp_path / "big.txt", b"1 99999999999999999999\n")
    g = read_edgelist(path, labels="str")
    assert g.node_labels == ["1", "99999999999999999999"]
    g = read_edgelist(_write(tmp_path / "h.csv", b"\xef\xbb\xbf" + CSV))
    assert g.num_edges == 3 and g.node_labels == [1, 2, 3]
