"""RDF into a graph store through rdflib.

N-Triples is streamed: rdflib's N-Triples parser reads the file line by line twice (a checking
pass, then a pass that writes triples in batches), so the file is never held in memory. Turtle,
RDF/XML and JSON-LD are parsed into an ``rdflib.Graph`` first.

Mapping (details in ``_rdf_mapping.py``; kgrec's own vocabulary in ``_rdf_terms.py``):

- every IRI subject or object is a node whose id is the IRI (IRIs minted by :func:`export_rdf`
  give back their original label and id); it is an Item or a User when typed ``kgrec:Item`` /
  ``kgrec:User``, an Item when ``item_ids`` says so, otherwise an Entity;
- a statement with an IRI object is a triple; its relation is ``relation_map[predicate]`` (a
  mapping or a function of the IRI) or, unmapped, the predicate's local name made a valid name
  (``film.film.genre`` -> ``film_film_genre``); two predicates may not share a name;
- ``text_predicate`` literals give text and name; every other literal becomes a node property
  keyed the same way (typed value when rdflib has one, else its lexical form; repeated -> list);
- a predicate mapped to ``None`` is skipped, and so is every statement with a blank node (blank
  node ids change from parse to parse, so they cannot be loaded twice to the same result);
  both count in :attr:`LoadReport.skipped`.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Callable, Collection, Iterator
from xml.sax import SAXException, SAXParseException

from rdflib import RDFS, Graph, URIRef
from rdflib.exceptions import Error as RdflibError
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.parsers.ntriples import W3CNTriplesParser
from rdflib.util import guess_format
from tqdm.auto import tqdm

from kgrec.errors import DataFormatError
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import LoadReport, chunked, reports_warnings, write_graph
from ._io import line_error, read_lines, require_file
from ._rdf_mapping import RdfMapping, Statement
from ._relations import RelationMap

log = logging.getLogger(__name__)

N_TRIPLES_FORMATS = frozenset({"nt", "nt11", "ntriples", "application/n-triples"})

#: N-Triples files at least this large show a progress bar per pass.
PROGRESS_BYTES = 16 * 2**20


@reports_warnings
def load_rdf(
    store: GraphStore,
    path: str | Path,
    *,
    format: str | None = None,
    relation_map: RelationMap | None = None,
    text_predicate: str = RDFS.label,
    item_ids: Callable[[str], bool] | Collection[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load the RDF file ``path`` (format from ``format`` or the file name) into ``store``.

    ``item_ids`` is a set of IRIs or a predicate on IRIs deciding which untyped nodes are items.
    Raises :class:`DataFormatError` (file, line where known, problem) before writing anything
    if a statement cannot be parsed or mapped (:class:`DataFileNotFoundError` if ``path`` does
    not exist).
    """
    path = require_file(path)
    fmt = format or guess_format(str(path))
    if fmt is None:
        raise DataFormatError(path, "cannot tell the RDF format from the file name: pass format=")
    if fmt in N_TRIPLES_FORMATS:
        statements: Callable[[], Iterator[Statement]] = partial(_n_triples, path)
    else:
        statements = _parsed_graph(path, fmt)
    mapping = RdfMapping(path, relation_map, URIRef(text_predicate), _item_test(item_ids))
    for statement in statements():
        mapping.read(*statement)
    data = mapping.graph_data(chunked(mapping.triples(statements()), batch_size))
    return write_graph(store, data, batch_size)


def _item_test(item_ids: Callable[[str], bool] | Collection[str] | None) -> Callable[[str], bool]:
    if item_ids is None:
        return lambda iri: False
    if callable(item_ids):
        return item_ids
    return {str(i) for i in item_ids}.__contains__


class _LastTriple:
    """An rdflib N-Triples sink that keeps the statement of the line just parsed."""

    def __init__(self) -> None:
        self.last: tuple | None = None

    def triple(self, s, p, o) -> None:  # noqa: ANN001 - rdflib's sink protocol
        self.last = (s, p, o)


def _n_triples(path: Path) -> Iterator[Statement]:
    """The statements of an N-Triples file, one line at a time, each with its line number."""
    sink = _LastTriple()
    parser = W3CNTriplesParser(sink)
    size = path.stat().st_size
    with tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=f"reading {path.name}",
        disable=size < PROGRESS_BYTES,
    ) as bar:
        for number, text, complete in read_lines(path):
            bar.update(len(text))
            sink.last = None
            parser.line = text.rstrip("\r\n")
            try:
                parser.parseline()
            except ParserError as exc:
                raise line_error(path, number, f"not N-Triples: {exc}", complete) from None
            if sink.last is not None:
                yield (*sink.last, number)


def _parsed_graph(path: Path, fmt: str) -> Callable[[], Iterator[Statement]]:
    """Parse ``path`` once with rdflib; each call of the result iterates its statements."""
    graph = Graph()
    try:
        graph.parse(path, format=fmt)
    except (SyntaxError, ValueError, SAXException, RdflibError) as exc:
        raise DataFormatError(path, f"not valid {fmt}: {exc}", _error_line(exc)) from None
    log.debug("parsed %d statements from %s", len(graph), path)
    return lambda: ((s, p, o, None) for s, p, o in graph)


def _error_line(exc: Exception) -> int | None:
    if isinstance(exc, BadSyntax):
        return exc.lines + 1  # rdflib counts Turtle lines from 0
    if isinstance(exc, SAXParseException):
        return exc.getLineNumber()
    return getattr(exc, "lineno", None)  # JSON decoding errors
