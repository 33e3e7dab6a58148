import gzip
import re
import warnings

import pytest
import torch

from influence_gpu.graph import (
    DATASETS,
    dataset_path,
    datasets_dir,
    list_datasets,
    load_graph,
    read_edgelist,
    read_gml,
    read_signed,
    read_temporal,
)


def write(path, text, gz=False, newline="\n"):
    data = text.replace("\n", newline).encode()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def arcs(g):
    labels = g.labels_of(torch.arange(g.num_nodes))
    return sorted((labels[u], labels[v]) for u, v in g.edge_index.t().tolist())


# ------------------------------------------------------------------ edge lists
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_snap_edgelist_comments_gz_crlf(tmp_path, gz, newline):
    text = "# Directed graph\n# FromNodeId\tToNodeId\n10\t20\n20\t30\n\n% other comment\n30\t10\n"
    p = write(tmp_path / ("g.txt.gz" if gz else "g.txt"), text, gz, newline)
    g = load_graph(p)
    assert g.num_nodes == 3 and g.num_edges == 3 and g.directed
    assert g.node_labels == [10, 20, 30]
    assert arcs(g) == [(10, 20), (20, 30), (30, 10)]
    assert g.edge_prob is None


def test_edgelist_comma_and_header(tmp_path):
    p = write(tmp_path / "g.csv", "source,target,weight\n1,2,0.5\n2,3,0.25\n")
    g = load_graph(p)
    assert arcs(g) == [(1, 2), (2, 3)]
    assert sorted(g.edge_prob.tolist()) == [0.25, 0.5]


def test_edgelist_non_header_first_line_is_an_error(tmp_path):
    p = write(tmp_path / "g.csv", "1,2\n2,x3\n3,4\n")
    with pytest.raises(ValueError, match=r"g\.csv:2: node id 'x3' is not an integer"):
        load_graph(p)
    p = write(tmp_path / "h.csv", "x,2\n1,2\n")  # one named id: not a header
    with pytest.raises(ValueError, match=r"h\.csv:1: node id 'x' is not an integer"):
        load_graph(p)
    g = load_graph(write(tmp_path / "k.csv", "a,b\n1,2\n"))  # both named, rest numeric: header
    assert g.node_labels == [1, 2]


def test_edgelist_weights_and_out_of_range(tmp_path):
    p = write(tmp_path / "w.txt", "0 1 0.5\n1 2 0.1\n# c\n2 0 1.5\n")
    with pytest.raises(ValueError, match=r"w\.txt:4: weight 1\.5 outside \[0, 1\]"):
        load_graph(p)
    g = load_graph(p, weighted=False)
    assert g.edge_prob is None and g.num_edges == 3
    # with a scheme, the out-of-range column is not an error (non-integer: ignored with warning)
    with pytest.warns(UserWarning, match="neither probabilities"):
        g = load_graph(p, prob_scheme="uniform", p=0.2)
    assert torch.allclose(g.edge_prob, torch.full((3,), 0.2))


def test_integer_weights_become_counts_with_scheme(tmp_path):
    p = write(tmp_path / "c.txt", "0 2 3\n1 2 1\n")
    g = load_graph(p, prob_scheme="lt_weights")
    assert g.edge_count.tolist() == [3, 1]
    assert torch.allclose(g.edge_prob, torch.tensor([0.75, 0.25]))


def test_weighted_true_without_column(tmp_path):
    p = write(tmp_path / "g.txt", "0 1\n")
    with pytest.raises(ValueError, match="no weight column"):
        load_graph(p, weighted=True)


@pytest.mark.parametrize(
    "text, line, msg",
    [
        ("0 1\n1 2 3 4\n", 2, "expected 2 columns"),
        ("# h\n0 1\n-1 2\n", 3, "negative node id -1"),
        ("0 1 0.5\n1 2 abc\n", 2, "weight 'abc' is not a number"),
        ("0 1 0.5\n1 2 nan\n", 2, "not finite"),
        ("0\n", 1, "at least 2 columns"),
        ("1 2\n2 3\n3 b\n", 3, "is not an integer"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, text, line, msg):
    p = write(tmp_path / "bad.txt", text)
    with pytest.raises(ValueError, match=rf"bad\.txt:{line}: .*{msg}"):
        load_graph(p)


def test_empty_file(tmp_path):
    p = write(tmp_path / "e.txt", "# only comments\n\n")
    with pytest.raises(ValueError, match="no edge lines"):
        load_graph(p)


def test_string_labels_and_undirected(tmp_path):
    p = write(tmp_path / "names.txt", "alice bob\nbob carol\n")
    g = load_graph(p, directed=False)
    assert g.node_labels == ["alice", "bob", "carol"] and not g.directed
    assert arcs(g) == [("alice", "bob"), ("bob", "alice"), ("bob", "carol"), ("carol", "bob")]
    assert g.index_of(["carol"]).tolist() == [2]
    with pytest.raises(ValueError, match="not an integer"):
        load_graph(p, labels="int")
    g = load_graph(write(tmp_path / "i.txt", "1 2\n"), labels="str")
    assert g.node_labels == ["1", "2"]


def test_self_loops_and_duplicates_warn(tmp_path):
    p = write(tmp_path / "d.txt", "0 0\n0 1\n0 1\n1 2\n")
    with pytest.warns(UserWarning) as rec:
        g = load_graph(p)
    msgs = " ".join(str(w.message) for w in rec)
    assert "d.txt: dropped 1 self-loop" in msgs and "merged 1 duplicate" in msgs
    assert g.num_edges == 2 and g.edge_count.tolist() == [2, 1]


def test_bulk_parse_matches_a_per_line_parse(tmp_path):
    m = 300_000
    rows = [(i % 9973, (i * 7) % 10007) for i in range(m)]
    text = "# big\n" + "".join(f"{u}\t{v}\r\n" for u, v in rows)
    p = write(tmp_path / "big.txt.gz", text, gz=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = load_graph(p)
    arcs = {(u, v) for u, v in rows if u != v}
    assert g.num_nodes == len({x for r in rows for x in r})
    assert g.num_edges == len(arcs)
    got = set(zip(g.labels_of(g.src), g.labels_of(g.col), strict=True))
    assert got == arcs


# ------------------------------------------------------------------ GML, temporal, signed
def test_gml_undirected_multigraph_weights(tmp_path):
    text = """graph [
  multigraph 1
  node [ id 1 label "a" ]
  node [ id 2 label "b" ]
  node [ id 5 label "c" ]
  edge [ source 1 target 2 value 0.5 ]
  edge [ source 2 target 5 value 0.2 ]
  edge [ source 2 target 5 value 0.2 ]
]
"""
    p = write(tmp_path / "g.gml.gz", text, gz=True)
    with pytest.warns(UserWarning, match="merged 2 duplicate"):
        g = load_graph(p)
    assert not g.directed and g.node_labels == [1, 2, 5]
    assert g.num_edges == 4 and g.edge_prob is None
    assert g.edge_count.tolist() == [1, 1, 2, 2]
    with pytest.warns(UserWarning):
        g = load_graph(p, weighted=True)
    probs = dict(zip(arcs(g), g.edge_prob.tolist(), strict=True))  # arcs() sorts like CSR here
    assert probs[(1, 2)] == pytest.approx(0.5) and probs[(5, 2)] == pytest.approx(1 - 0.8**2)


def test_gml_directed_and_errors(tmp_path):
    p = write(
        tmp_path / "d.gml",
        "graph [ directed 1 node [ id 0 ] node [ id 1 ] edge [ source 0 target 1 value 3 ] ]",
    )
    g = read_gml(p)
    assert g.directed and arcs(g) == [(0, 1)]
    with pytest.raises(ValueError, match=r"d\.gml: edge \(0, 1\) has value=3\.0 outside"):
        read_gml(p, weighted=True)
    g = load_graph(p, weighted=True, prob_scheme="weighted_cascade")
    assert g.edge_count.tolist() == [3] and g.edge_prob.tolist() == [1.0]
    bad = write(tmp_path / "bad.gml", "graph [ node [ id 0 ")
    with pytest.raises(ValueError, match=r"bad\.gml: cannot parse GML"):
        load_graph(bad)


def test_temporal(tmp_path):
    p = write(tmp_path / "t.txt", "1 2 30\n1 2 10\n2 3 20\n1 2 20\n3 3 5\n")
    with pytest.warns(UserWarning, match="self-loop"):
        g = load_graph(p, fmt="temporal")
    assert g.is_temporal and arcs(g) == [(1, 2), (2, 3)]
    assert g.edge_count.tolist() == [3, 1]
    assert g.time_ptr.tolist() == [0, 3, 4]
    assert g.time_values.tolist() == [10.0, 20.0, 30.0, 20.0]
    with pytest.raises(ValueError, match=r"t2\.txt:2: time 'x' is not a number"):
        read_temporal(write(tmp_path / "t2.txt", "1 2 3\n2 3 x\n"))
    with pytest.raises(ValueError, match=r"t3\.txt:1: expected at least 3 columns"):
        read_temporal(write(tmp_path / "t3.txt", "1 2\n"))


def test_signed_csv_bitcoin_style(tmp_path):
    text = "6,2,4,1289241911.72836\n6,5,-2,1289241941.53378\n1,15,1,1289243140.39049\n"
    p = write(tmp_path / "s.csv.gz", text, gz=True)
    g = load_graph(p, fmt="signed", delay=2.5)
    assert arcs(g) == [(1, 15), (6, 2), (6, 5)]
    signs = dict(zip(arcs(g), g.edge_sign.tolist(), strict=True))
    assert signs == {(1, 15): 1, (6, 2): 1, (6, 5): -1}
    assert g.edge_sign.dtype == torch.int8 and g.edge_delay.tolist() == [2.5] * 3


def test_signed_zero_rating_and_delay_column(tmp_path):
    p = write(tmp_path / "z.txt", "0 1 1\n1 2 0\n2 3 -1\n")
    with pytest.raises(ValueError, match=r"z\.txt:2: sign/rating is 0"):
        read_signed(p)
    with pytest.warns(UserWarning, match="skipped 1 line"):
        g = read_signed(p, zero_sign="skip")
    assert g.num_edges == 2 and g.edge_sign.tolist() == [1, -1]
    p = write(tmp_path / "d.txt", "0 1 1 0.5\n1 2 -1 2\n")
    g = read_signed(p, delay_col=3, directed=False)
    assert g.num_edges == 4 and sorted(g.edge_delay.tolist()) == [0.5, 0.5, 2.0, 2.0]
    with pytest.raises(ValueError, match=r"d2\.txt:1: negative delay"):
        read_signed(write(tmp_path / "d2.txt", "0 1 1 -3\n"), delay_col=3)
    with pytest.raises(ValueError, match="delay must be a non-negative"):
        read_signed(p, delay=-1.0)


def test_load_graph_arguments(tmp_path):
    with pytest.raises(ValueError, match="fmt must be one of"):
        load_graph(write(tmp_path / "a.txt", "0 1\n"), fmt="pajek")
    with pytest.raises(FileNotFoundError, match="not a known dataset"):
        load_graph(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="need prob_scheme"):
        load_graph(tmp_path / "a.txt", p=0.1)
    with pytest.raises(ValueError, match="unknown scheme 'nope'"):
        load_graph(tmp_path / "a.txt", prob_scheme="nope")
    g = load_graph(tmp_path / "a.txt", prob_scheme="uniform", p=0.3)
    assert g.edge_prob.tolist() == [pytest.approx(0.3)]


def test_read_edgelist_direct(tmp_path):
    g = read_edgelist(write(tmp_path / "a.txt", "5 7 1\n"), weighted=True)
    assert g.edge_prob.tolist() == [1.0] and g.node_labels == [5, 7]


# ------------------------------------------------------------------ dataset registry
def test_registry_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(tmp_path))
    assert datasets_dir() == tmp_path
    where = re.escape(f"no file at {tmp_path}/snap/wiki-Vote.txt.gz")
    with pytest.raises(FileNotFoundError, match=where):
        load_graph("wiki-Vote")
    with pytest.raises(ValueError, match="not a known dataset"):
        dataset_path("no-such-net")
    assert "email-Eu-core" in list_datasets() and DATASETS["karate"].fmt == "gml"


@pytest.mark.dataset
def test_every_registered_file_exists(datasets_dir):
    for info in DATASETS.values():
        assert (datasets_dir / info.path).is_file(), info.path


@pytest.mark.dataset
def test_email_eu_core(datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    with pytest.warns(UserWarning, match="dropped 642 self-loop"):
        g = load_graph("email-Eu-core")
    assert (g.num_nodes, g.num_edges, g.directed) == (1005, 24929, True)
    assert g.node_labels is None  # ids 0..1004 are the identity
    assert int(g.edge_count.sum()) == 25571 - 642


@pytest.mark.dataset
def test_p2p_gnutella08(datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no loops, no duplicates in this file
        g = load_graph("p2p-Gnutella08", prob_scheme="weighted_cascade")
    assert (g.num_nodes, g.num_edges) == (6301, 20777)
    indeg = g.in_degree()
    assert torch.allclose(g.edge_prob, 1.0 / indeg[g.col].float())


@pytest.mark.dataset
def test_karate_gml(datasets_dir):
    g = load_graph(datasets_dir / "newman" / "karate.gml.gz")
    assert (g.num_nodes, g.num_edges, g.directed) == (34, 156, False)
    assert g.node_labels == list(range(1, 35))
    assert torch.equal(g.in_degree(), g.out_degree())


@pytest.mark.dataset
def test_temporal_and_signed_datasets(datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    g = load_graph("CollegeMsg")
    assert g.is_temporal and (g.num_nodes, g.num_edges) == (1899, 20296)
    assert g.time_values.numel() == 59835 and int(g.edge_count.sum()) == 59835
    g = load_graph("soc-sign-bitcoinotc")
    assert (g.num_nodes, g.num_edges) == (5881, 35592)
    assert int((g.edge_sign > 0).sum()) == 32029 and int((g.edge_sign < 0).sum()) == 3563
    g = load_graph("soc-sign-bitcoinalpha")  # has a header line
    assert (g.num_nodes, g.num_edges) == (3783, 24186)


@pytest.mark.dataset
def test_symmetric_dataset_is_undirected(datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    with pytest.warns(UserWarning, match="dropped 12 self-loop"):
        g = load_graph("ca-GrQc")
    assert not g.directed and (g.num_nodes, g.num_edges) == (5242, 28968)
    assert int(g.edge_count.max()) == 1


@pytest.mark.dataset
@pytest.mark.slow
def test_slashdot_loads(datasets_dir, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_DATA", str(datasets_dir))
    with pytest.warns(UserWarning, match="dropped 78303 self-loop"):
        g = load_graph("soc-Slashdot0902")
    assert (g.num_nodes, g.num_edges) == (82168, 948464 - 78303)
