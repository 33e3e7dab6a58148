"""Registry of the shared real-network datasets (SNAP, Newman) known to :func:`load_graph`.

The files live outside the repository, in ``<repo>/../shared/datasets`` by default; set the
environment variable ``INFLUENCE_GPU_DATA`` to read them from elsewhere. Each entry records the
file, its format and whether the network is directed, so that ``load_graph("email-Eu-core")``
needs no further arguments. Counts are those of the files (checked against the official
statistics in the datasets folder's README).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DatasetInfo",
    "DATASETS",
    "datasets_dir",
    "get_dataset",
    "dataset_path",
    "list_datasets",
]

#: Environment variable that overrides the datasets folder.
DATA_ENV = "INFLUENCE_GPU_DATA"


@dataclass(frozen=True)
class DatasetInfo:
    """One known dataset file.

    Attributes:
        name: canonical name (as on the SNAP / Newman pages).
        path: file path relative to the datasets folder.
        fmt: reader format: ``"edgelist"``, ``"gml"``, ``"temporal"`` or ``"signed"``.
        directed: whether the network is directed.
        num_nodes: distinct node ids in the file.
        num_lines: edge lines (edge lists), ``edge`` blocks (GML) or contacts (temporal).
        symmetric: the file already lists every undirected edge in both directions; it is read
            as directed arcs and the resulting graph is marked undirected.
        citation: where the data comes from.

    """

    name: str
    path: str
    fmt: str
    directed: bool
    num_nodes: int
    num_lines: int
    symmetric: bool = False
    citation: str = ""


def _snap(name: str, fmt: str, nodes: int, lines: int, cite: str, **kw) -> DatasetInfo:
    ext = ".csv.gz" if name.startswith("soc-sign-bitcoin") else ".txt.gz"
    return DatasetInfo(name, f"snap/{name}{ext}", fmt, kw.pop("directed", True), nodes, lines,
                       citation=cite, **kw)


def _newman(name: str, directed: bool, nodes: int, edges: int, cite: str) -> DatasetInfo:
    return DatasetInfo(name, f"newman/{name}.gml.gz", "gml", directed, nodes, edges, citation=cite)


_ENTRIES = [
    _snap("email-Eu-core", "edgelist", 1005, 25571,
          "Yin et al., KDD 2017; Leskovec et al., TKDD 2007"),
    _snap("email-Eu-core-temporal", "temporal", 986, 332334, "Paranjape et al., WSDM 2017"),
    *(
        _snap(f"email-Eu-core-temporal-Dept{i}", "temporal", nodes, lines,
              "Paranjape et al., WSDM 2017")
        for i, nodes, lines in ((1, 309, 61046), (2, 162, 46772), (3, 89, 12216), (4, 142, 48141))
    ),
    _snap("p2p-Gnutella08", "edgelist", 6301, 20777, "Leskovec et al., TKDD 2007"),
    _snap("p2p-Gnutella24", "edgelist", 26518, 65369, "Leskovec et al., TKDD 2007"),
    _snap("CollegeMsg", "temporal", 1899, 59835, "Panzarasa, Opsahl, Carley, JASIST 2009"),
    _snap("wiki-Vote", "edgelist", 7115, 103689, "Leskovec, Huttenlocher, Kleinberg, CHI 2010"),
    _snap("soc-Epinions1", "edgelist", 75879, 508837, "Richardson, Agrawal, Domingos, ISWC 2003"),
    _snap("soc-Slashdot0902", "edgelist", 82168, 948464, "Leskovec et al., Internet Math. 2009"),
    _snap("web-Stanford", "edgelist", 281903, 2312497, "Leskovec et al., Internet Math. 2009"),
    _snap("soc-sign-epinions", "signed", 131828, 841372, "Leskovec et al., CHI 2010"),
    _snap("soc-sign-Slashdot090221", "signed", 82140, 549202, "Leskovec et al., CHI 2010"),
    _snap("soc-sign-bitcoinotc", "signed", 5881, 35592, "Kumar et al., ICDM 2016"),
    _snap("soc-sign-bitcoinalpha", "signed", 3783, 24186, "Kumar et al., ICDM 2016"),
    _snap("ca-GrQc", "edgelist", 5242, 28980, "Leskovec et al., TKDD 2007",
          directed=False, symmetric=True),
    _snap("ca-HepTh", "edgelist", 9877, 51971, "Leskovec et al., TKDD 2007",
          directed=False, symmetric=True),
    _snap("sx-mathoverflow", "temporal", 24818, 506550, "Paranjape et al., WSDM 2017"),
    _snap("sx-mathoverflow-a2q", "temporal", 21688, 107581, "Paranjape et al., WSDM 2017"),
    _snap("sx-mathoverflow-c2q", "temporal", 16836, 203639, "Paranjape et al., WSDM 2017"),
    _snap("sx-mathoverflow-c2a", "temporal", 13840, 195330, "Paranjape et al., WSDM 2017"),
    _snap("sx-askubuntu-a2q", "temporal", 137517, 280102, "Paranjape et al., WSDM 2017"),
    _newman("karate", False, 34, 78, "Zachary, J. Anthropol. Res. 1977"),
    _newman("polbooks", False, 105, 441, "V. Krebs (unpublished), via M. E. J. Newman"),
    _newman("adjnoun", False, 112, 425, "Newman, Phys. Rev. E 2006"),
    _newman("netscience", False, 1589, 2742, "Newman, Phys. Rev. E 2006"),
    _newman("celegansneural", True, 297, 2359, "Watts & Strogatz, Nature 1998"),
]

#: Known datasets by canonical name.
DATASETS: dict[str, DatasetInfo] = {d.name: d for d in _ENTRIES}

_ALIASES = {
    "soc-sign-bitcoin-otc": "soc-sign-bitcoinotc",
    "soc-sign-bitcoin-alpha": "soc-sign-bitcoinalpha",
    "email-eu": "email-Eu-core",
    "zachary": "karate",
}
_LOOKUP = {k.lower(): k for k in DATASETS} | {k.lower(): v for k, v in _ALIASES.items()}


def datasets_dir() -> Path:
    """Return the datasets folder: ``$INFLUENCE_GPU_DATA`` or ``<repo>/../shared/datasets``."""
    root = os.environ.get(DATA_ENV)
    if root:
        return Path(root).expanduser()
    # influence_gpu/graph/datasets.py -> the folder holding the repository
    return Path(__file__).resolve().parents[3] / "shared" / "datasets"


def _strip_ext(name: str) -> str:
    for ext in (".txt.gz", ".csv.gz", ".gml.gz", ".txt", ".csv", ".gml", ".gz"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def get_dataset(name: str) -> DatasetInfo | None:
    """Look a dataset up by name (case-insensitive; a file extension is ignored).

    Args:
        name: e.g. ``"email-Eu-core"``, ``"wiki-vote"``, ``"karate"``, ``"karate.gml.gz"``.

    Returns:
        Its :class:`DatasetInfo`, or ``None`` when the name is not known.

    """
    key = _LOOKUP.get(str(name).lower()) or _LOOKUP.get(_strip_ext(str(name)).lower())
    return None if key is None else DATASETS[key]


def dataset_path(name: str) -> Path:
    """Return the path of a known dataset's file, checking that it exists.

    Args:
        name: a dataset name (see :func:`list_datasets`).

    Returns:
        The file path under :func:`datasets_dir`.

    Raises:
        ValueError: ``name`` is not a known dataset.
        FileNotFoundError: the file is not where it should be (the message says where it looked
            and how to point ``INFLUENCE_GPU_DATA`` elsewhere).

    """
    info = get_dataset(name)
    if info is None:
        raise ValueError(f"name={name!r} is not a known dataset; known: {', '.join(DATASETS)}")
    path = datasets_dir() / info.path
    if not path.is_file():
        raise FileNotFoundError(
            f"dataset {info.name!r}: no file at {path} (looked in the datasets folder "
            f"{datasets_dir()}; set the environment variable {DATA_ENV} to the folder that holds "
            f"{info.path})"
        )
    return path


def list_datasets() -> list[str]:
    """Return the names of all known datasets."""
    return list(DATASETS)
