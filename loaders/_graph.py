"""A parsed dataset and how it is written: nodes first, then interactions, then triples.

Loaders parse and check a whole dataset into :class:`GraphData` before calling
:func:`write_graph`, so a file that is rejected leaves the store as it was. Writes are store
upserts, so writing the same data twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, ParamSpec, Sequence, TypeVar

from kgrec.graph import GraphStore, Interaction, NodeLabel, NodeRecord, Triple

from ._io import collecting_warnings

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one load wrote.

    ``nodes`` counts distinct ids per label (``"User"``, ``"Item"``, ``"Entity"``);
    ``interactions`` and ``triples`` count distinct rows written; ``skipped`` counts source
    rows left out on purpose (the loader's docstring says which); ``relations`` maps each
    source relation (predicate IRI, CURIE, name or numeric id) to the relation name it was
    stored as. ``unreferenced`` counts, per label, node-table rows left out because nothing
    loaded refers to them (``only_referenced``; also counted in ``skipped``). ``warnings``
    lists what was loaded but looks wrong, e.g. a last line with no line end (a truncated
    file?), each naming file and line (each is also logged at WARNING).
    """

    nodes: Mapping[str, int]
    interactions: int
    triples: int
    skipped: int = 0
    relations: Mapping[str, str] = field(default_factory=dict)
    unreferenced: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class GraphData:
    """A dataset parsed into records whose references are all resolved.

    ``triple_chunks`` is an iterable of triple lists, each written with one
    :meth:`~kgrec.graph.store.GraphStore.upsert_triples` call: one list for a dataset held in
    memory, a stream of lists for a file read in batches.
    """

    nodes: dict[NodeLabel, list[NodeRecord]]
    interactions: list[Interaction] = field(default_factory=list)
    triple_chunks: Iterable[Sequence[Triple]] = ()
    skipped: int = 0
    relations: dict[str, str] = field(default_factory=dict)
    unreferenced: dict[str, int] = field(default_factory=dict)


def reports_warnings(load: Callable[P, LoadReport]) -> Callable[P, LoadReport]:
    """Decorate a loader so that its :class:`LoadReport` lists the warnings its files gave."""

    @functools.wraps(load)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> LoadReport:
        with collecting_warnings() as found:
            report = load(*args, **kwargs)
        return dataclasses.replace(report, warnings=(*report.warnings, *found))

    return wrapper


def chunked(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` rows (the last may be shorter), read lazily."""
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_graph(store: GraphStore, data: GraphData, batch_size: int) -> LoadReport:
    """Write ``data`` into ``store`` in batches of ``batch_size`` rows and report the counts."""
    nodes = {
        label.value: store.upsert_nodes(label, data.nodes.get(label, []), batch_size)
        for label in NodeLabel
    }
    interactions = store.upsert_interactions(data.interactions, batch_size)
    triples = sum(store.upsert_triples(chunk, batch_size) for chunk in data.triple_chunks)
    report = LoadReport(
        nodes, interactions, triples, data.skipped, dict(data.relations), dict(data.unreferenced)
    )
    log.info(
        "loaded %s nodes, %d interactions, %d triples (%d rows skipped)",
        nodes,
        interactions,
        triples,
        data.skipped,
    )
    return report
