"""Dataset loaders: each reads one source format into any GraphStore.

Every loader parses and checks its whole input before writing (a rejected file leaves the
store as it was, with a :class:`~kgrec.errors.DataFormatError` naming file, line and problem;
a missing file or folder is a :class:`~kgrec.errors.DataFileNotFoundError`), writes through
store upserts (loading twice changes nothing) and returns a :class:`LoadReport`, whose
``warnings`` name what loaded but looks wrong (a last line with no line end). Relation names
from data are mapped to valid names (``relation_map``), never refused for their spelling.
"""

from ._graph import LoadReport
from .csv import InteractionsCsv, NodesCsv, TriplesCsv, load_csv
from .kgat import load_kgat
from .kgcn import load_kgcn
from .link_audit import ItemLink, LinkFinding, LinkProblem, audit_links
from .movielens import load_movielens100k
from .rdf import load_rdf
from .rdf_export import export_rdf

__all__ = [
    "InteractionsCsv",
    "ItemLink",
    "LinkFinding",
    "LinkProblem",
    "LoadReport",
    "NodesCsv",
    "TriplesCsv",
    "audit_links",
    "export_rdf",
    "load_csv",
    "load_kgat",
    "load_kgcn",
    "load_movielens100k",
    "load_rdf",
]
