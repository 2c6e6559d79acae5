"""The paged export of a Neo4j store's graph into a :class:`~kgrec.graph.snapshot.Snapshot`.

Every pass walks one label's nodes in id order with keyset pagination (``WHERE n.id > $after
... ORDER BY n.id LIMIT $page``: the uniqueness constraint's index serves the order, so a page
costs its own rows), each page its own read transaction returning one record (the page's rows
collected), so that no result holds more than ``page_size`` nodes and their relationships. The
passes: the nodes of each label; the users with their interactions; the nodes of each label
with their knowledge-graph triples and user attributes. Each page becomes NumPy columns in a
:class:`~kgrec.graph.snapshot.SnapshotBuilder` before the next one is read, with Python's
cyclic garbage collector paused (the pages are millions of small lists, none in a cycle: it
would rescan them again and again, doubling the export's time).

The pages are separate transactions (as the export's three queries were before it was paged):
writes during an export may show in some pages and not in others, and a relationship to a node
created after the node pass fails the export with a :class:`~kgrec.errors.KgrecError`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, Sequence

from tqdm.auto import tqdm

from kgrec.checks import int_in_range
from kgrec.errors import KgrecError, UnknownIdError
from kgrec.graph import cypher
from kgrec.graph.batches import gc_paused
from kgrec.graph.schema import Namespace, NodeLabel
from kgrec.graph.snapshot import NodeColumns, Snapshot, SnapshotBuilder

#: Nodes per page of :func:`export_snapshot`. A page of users brings all their interactions: at
#: 15 per user, 10,000 users are ~150k interactions, ~60 MB of Python rows while they are read.
#: On the generated 10^6-interaction graph, pages of 1,000 to 50,000 nodes export in about the
#: same time, and the peak memory grows with the page (+120 MB at 10,000, +410 MB at 50,000).
SNAPSHOT_PAGE = 10_000

#: ``read(query, **parameters)``: the records of ``query``, run in one read transaction.
ReadQuery = Callable[..., Sequence[Mapping[str, Any]]]


def _pages(read: ReadQuery, query: str, page_size: int) -> Iterator[tuple[int, list[list[Any]]]]:
    """``(nodes, rows)`` of each page of a keyset-paged ``query`` (one record: ``size``,
    ``last`` id and ``rows``; parameters ``$after`` and ``$page``), in id order."""
    after = ""  # ids are non-empty strings: every id sorts after ""
    while True:
        page = read(query, after=after, page=page_size)[0]
        if page["size"]:
            yield page["size"], page["rows"]
        if page["size"] < page_size:
            return
        after = page["last"]


def export_snapshot(
    read: ReadQuery,
    namespace: Namespace,
    page_size: int = SNAPSHOT_PAGE,
    progress_threshold: int = 0,
) -> Snapshot:
    """The snapshot of ``namespace``'s graph, read in pages of ``page_size`` nodes through
    ``read``, with a tqdm bar over the node visits of the three passes when there are at least
    ``progress_threshold`` of them."""
    page_size = int_in_range(page_size, "page_size")
    counts = {
        label: read(cypher.render(cypher.COUNT_NODES, namespace, label=label))[0]["n"]
        for label in NodeLabel
    }
    visits = 2 * sum(counts.values()) + counts[NodeLabel.USER]
    show = visits >= progress_threshold

    def rows(template: str, label: NodeLabel) -> Iterator[list[list[Any]]]:
        for size, page in _pages(read, cypher.render(template, namespace, label=label), page_size):
            if page:
                yield page
            bar.update(size)

    bar = tqdm(total=visits, desc="snapshot: nodes", unit="node", disable=not show)
    with gc_paused(), bar:
        nodes = {}
        for label in NodeLabel:
            columns = [[], [], []]
            for page in rows(cypher.SNAPSHOT_NODES, label):
                for column, values in zip(columns, zip(*page)):
                    column.extend(values)
            nodes[label.key] = NodeColumns(*columns)
        builder = SnapshotBuilder(nodes)
        del nodes  # the builder holds the ids in their order
        try:
            bar.set_description("snapshot: interactions")
            for page in rows(cypher.SNAPSHOT_INTERACTIONS, NodeLabel.USER):
                builder.add_interactions(*zip(*page))
            bar.set_description("snapshot: triples")
            for label in NodeLabel:
                for page in rows(cypher.SNAPSHOT_TRIPLES, label):
                    _add_triples(builder, label, page)
        except UnknownIdError as exc:
            raise KgrecError(
                f"the graph changed while the snapshot was read ({exc}: created after the node "
                "pass); take the snapshot again"
            ) from exc
    return builder.snapshot()


def _add_triples(builder: SnapshotBuilder, label: NodeLabel, page: list[list[Any]]) -> None:
    """Add a page of ``label`` nodes' ``[head, relation, tail label, tail]`` rows."""
    grouped: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for head, relation, tail_label, tail in page:
        heads, tails = grouped.setdefault((relation, tail_label), ([], []))
        heads.append(head)
        tails.append(tail)
    for (relation, tail_label), (heads, tails) in grouped.items():
        builder.add_triples((label.key, relation, NodeLabel.parse(tail_label).key), heads, tails)
