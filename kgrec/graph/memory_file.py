"""The embedded store on disk: a :class:`~kgrec.graph.memory.MemoryGraphStore` kept in a folder.

``MemoryGraphStore.open(folder)`` returns a :class:`PersistentMemoryGraphStore`. The folder holds

- ``kgrec-store.json``: ``{"format": "kgrec-memory-store", "version": 1}``, what marks the
  folder as kgrec's (a non-empty folder without it is refused);
- ``journal.jsonl``: a header line ``{"kgrec_journal": 1, "generation": "<hex>"}``, then one
  JSON line per write batch (``{"op": "nodes" | "interactions" | "triples" | "embeddings" |
  "vector_index" | "drop_vector_index" | "clear", ...}``), appended in write order;
- ``lock``: taken (``flock``) by every append and by :meth:`save`.

The store in memory is the replay of the journal. A write appends only the rows that change
the store (an upsert of what is already there appends nothing, so re-running a load leaves the
journal as it was), under the lock and after catching up with what other processes appended,
so every process replays one order. :meth:`sync` replays the lines other processes appended
since (a ``stat`` when nothing changed). :meth:`save` compacts the journal into the current
state under a new generation (atomic rename, fsync'd); a process that sees a new generation
reloads the whole journal. Appends are flushed to the OS (they survive the process, not a power
cut); :meth:`save` is durable. A corrupt journal or manifest raises
:class:`~kgrec.errors.DataFormatError` naming the file (and line).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from kgrec.errors import DataFormatError, KgrecError, shown
from kgrec.graph.journal_entries import (
    OPS,
    encode,
    chunks,
    node_changes,
    triple_key,
    triple_row,
    interaction_entry,
    embedding_entry,
    index_entry,
)
from kgrec.graph.memory import MemoryGraphStore
from kgrec.graph.records import Interaction, NodeRecord, Triple
from kgrec.graph.schema import NodeLabel, validate_embedding_property

log = logging.getLogger(__name__)

MANIFEST_FILE = "kgrec-store.json"
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "lock"
MANIFEST = {"format": "kgrec-memory-store", "version": 1}
JOURNAL_VERSION = 1


class PersistentMemoryGraphStore(MemoryGraphStore):
    """A :class:`MemoryGraphStore` whose writes go to the journal in ``folder`` (created if
    missing); see the module docstring. Several processes may open one folder: each sees the
    others' writes after :meth:`sync`. Thread-safe for one writer per process."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.manifest_file = self.folder / MANIFEST_FILE
        self.journal_file = self.folder / JOURNAL_FILE
        self._file_guard = threading.RLock()
        self._lock_depth = 0
        self._generation = ""
        self._position = (0, 0)  # (inode, bytes applied) of the journal
        self._lines = 0  # journal lines applied, the header included
        with self._locked():
            self._initialize()
            self._catch_up()
        log.info("opened the embedded store in %s", self.folder)

    # -- the folder ----------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's writer lock and the folder's ``flock`` (re-entrant in one thread)."""
        with self._file_guard:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                handle = open(self.folder / LOCK_FILE, "a")
            except (FileExistsError, NotADirectoryError):
                raise DataFormatError(self.folder, "not a folder: cannot hold an embedded store") from None
            with handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._lock_depth = 1
                try:
                    yield
                finally:
                    self._lock_depth = 0

    def _initialize(self) -> None:
        """Check the manifest, or make a fresh store of an empty folder."""
        if self.manifest_file.exists():
            self._check_manifest()
            if not self.journal_file.is_file():
                raise DataFormatError(self.journal_file, "journal missing from the embedded store folder")
            return
        others = sorted(p.name for p in self.folder.iterdir() if p.name != LOCK_FILE)
        if others:
            raise DataFormatError(
                self.manifest_file,
                f"missing: {self.folder} is not an embedded kgrec store (it holds {shown(others[:5])}); "
                "open an empty or new folder",
            )
        self._write_journal([])
        self.manifest_file.write_text(json.dumps(MANIFEST))

    def _check_manifest(self) -> None:
        try:
            manifest = json.loads(self.manifest_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise DataFormatError(self.manifest_file, f"unreadable manifest: {exc}") from None
        if manifest != MANIFEST:
            raise DataFormatError(self.manifest_file, f"expected {MANIFEST}, got {shown(manifest)}")

    # -- replaying the journal ------------------------------------------------------------------
    def sync(self) -> None:
        """Replay what other processes appended to the journal since the last call (or reload
        it all after their :meth:`save`); a ``stat`` when nothing changed."""
        try:
            stat = self.journal_file.stat()
        except FileNotFoundError:
            raise DataFormatError(
                self.journal_file, "journal missing from the embedded store folder"
            ) from None
        if (stat.st_ino, stat.st_size) == self._position:
            return
        with self._locked():
            self._catch_up()

    def _catch_up(self) -> None:
        """Under the lock: apply the complete journal lines not applied yet; after another
        process's :meth:`save` (a new generation), reload the whole journal."""
        with open(self.journal_file, "rb") as f:
            inode = os.fstat(f.fileno()).st_ino
            header = f.readline()
            generation = self._header_generation(header)
            if generation != self._generation or inode != self._position[0]:
                if self._generation:
                    log.info("%s was compacted by another process: reloading it", self.journal_file)
                MemoryGraphStore.__init__(self)
                self._generation, self._position, self._lines = generation, (inode, len(header)), 1
            f.seek(self._position[1])
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line without its end is still being written, or debris
        for line in data[:end].splitlines():
            self._lines += 1
            self._apply(self._decode(line, self._lines), self._lines)
        self._position = (inode, self._position[1] + end)

    def _header_generation(self, header: bytes) -> str:
        try:
            parsed = json.loads(header)
            if parsed.get("kgrec_journal") == JOURNAL_VERSION and isinstance(parsed.get("generation"), str):
                return parsed["generation"]
        except (ValueError, AttributeError):
            pass
        raise DataFormatError(self.journal_file, f"not a kgrec journal header: {shown(header[:80])}", 1)

    def _decode(self, line: bytes, line_no: int) -> dict[str, Any]:
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise DataFormatError(self.journal_file, f"corrupt journal line: {exc}", line_no) from None
        if not isinstance(entry, dict) or entry.get("op") not in OPS:
            raise DataFormatError(self.journal_file, f"unknown journal entry {shown(entry)}", line_no)
        return entry

    def _apply(self, entry: dict[str, Any], line_no: int) -> None:
        """Apply one journal entry to the store in memory, checked as a load checks its rows."""
        try:
            op = entry["op"]
            if op == "nodes":
                label = NodeLabel.parse(entry["label"])
                rows = [NodeRecord(i, t, n, p).validated() for i, t, n, p in entry["rows"]]
                MemoryGraphStore._write_nodes(self, label, rows)
            elif op == "interactions":
                rows = [Interaction(**dict(zip(entry["fields"], row))).validated() for row in entry["rows"]]
                self._require_replayed(
                    {NodeLabel.USER: {r.user for r in rows}, NodeLabel.ITEM: {r.item for r in rows}}
                )
                MemoryGraphStore._write_interactions(self, rows)
            elif op == "triples":
                rows = [
                    Triple(h, r, t, NodeLabel.parse(hl), NodeLabel.parse(tl)).validated()
                    for hl, h, r, tl, t in entry["rows"]
                ]
                self._require_replayed(
                    {
                        label: {t.head for t in rows if t.head_label is label}
                        | {t.tail for t in rows if t.tail_label is label}
                        for label in NodeLabel
                    }
                )
                MemoryGraphStore._write_triples(self, rows)
            elif op == "embeddings":
                label = NodeLabel.parse(entry["label"])
                rows = [(i, np.asarray(v, dtype=np.float32)) for i, v in entry["rows"]]
                self._require_replayed({label: {i for i, _ in rows}})
                MemoryGraphStore._write_embeddings(
                    self, label, validate_embedding_property(entry["property"]), rows
                )
            elif op == "vector_index":
                label = NodeLabel.parse(entry["label"])
                MemoryGraphStore._create_vector_index(
                    self, label, entry["name"], entry["dimensions"], entry["similarity"], entry["property"]
                )
            elif op == "drop_vector_index":
                self._vector_indexes.pop(entry["name"], None)
            else:  # clear
                MemoryGraphStore.clear(self)
        except (KgrecError, KeyError, TypeError, ValueError) as exc:
            raise DataFormatError(
                self.journal_file, f"invalid {entry.get('op')} entry: {exc}", line_no
            ) from None

    def _require_replayed(self, ids: dict[NodeLabel, set[str]]) -> None:
        missing = self._missing_ids({label: sorted(group) for label, group in ids.items() if group})
        for label, absent in missing.items():
            if absent:
                raise ValueError(
                    f"it references {label.value} id(s) written nowhere before: {shown(absent[:5])}"
                )

    # -- writes: applied in memory and appended ---------------------------------------------------
    def _append(self, entry: dict[str, Any]) -> None:
        """Under the lock, after :meth:`_catch_up`: append one entry, as one ``write``."""
        line = encode(entry)
        with open(self.journal_file, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size != self._position[1]:  # a writer died mid-line: drop its partial line
                log.warning(
                    "%s: dropping %d bytes of an unfinished line", self.journal_file, size - self._position[1]
                )
                f.truncate(self._position[1])
                f.seek(self._position[1])
            f.write(line)
            f.flush()
        self._position = (self._position[0], self._position[1] + len(line))
        self._lines += 1

    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None:
        with self._locked():
            self._catch_up()
            nodes = self._nodes[label]
            changed = [r for r in batch if r.id not in nodes or node_changes(nodes[r.id], r)]
            if changed:
                self._append(
                    {
                        "op": "nodes",
                        "label": label.value,
                        "rows": [[r.id, r.text, r.name, dict(r.properties)] for r in changed],
                    }
                )
                super()._write_nodes(label, changed)

    def _write_interactions(self, batch: Sequence[Interaction]) -> None:
        with self._locked():
            self._catch_up()
            changed = [r for r in batch if self._interactions.get((r.user, r.item)) != r]
            if changed:
                self._append(interaction_entry(changed))
                super()._write_interactions(changed)

    def _write_triples(self, batch: Sequence[Triple]) -> None:
        with self._locked():
            self._catch_up()
            changed = [t for t in batch if triple_key(t) not in self._triples]
            if changed:
                self._append({"op": "triples", "rows": [triple_row(t) for t in changed]})
                super()._write_triples(changed)

    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        with self._locked():
            self._catch_up()
            nodes = self._nodes[label]
            changed = [
                (i, v)
                for i, v in batch
                if not np.array_equal(nodes[i].embeddings.get(property), np.asarray(v, dtype=np.float32))
            ]
            if changed:
                self._append(embedding_entry(label, property, changed))
                super()._write_embeddings(label, property, changed)

    def _create_vector_index(
        self, label: NodeLabel, name: str, dimensions: int, similarity: str, property: str
    ) -> None:
        with self._locked():
            self._catch_up()
            if name not in self._vector_indexes:
                self._append(index_entry(name, (label, dimensions, similarity, property)))
                super()._create_vector_index(label, name, dimensions, similarity, property)

    def _drop_vector_index(self, name: str) -> None:
        with self._locked():
            self._catch_up()
            self._append({"op": "drop_vector_index", "name": name})
            super()._drop_vector_index(name)

    def clear(self) -> None:
        """Empty the store (vector indexes stay), in memory and in the journal."""
        with self._locked():
            self._catch_up()
            self._append({"op": "clear"})
            MemoryGraphStore.clear(self)

    # -- compaction -----------------------------------------------------------------------------
    def save(self) -> Path:
        """Rewrite the journal as the store's current state (one entry per batch of rows,
        under a new generation; written to a temporary file, fsync'd, renamed over the
        journal); returns the folder. Other processes reload it at their next :meth:`sync`."""
        with self._locked():
            self._catch_up()
            self._generation, self._lines = self._write_journal(self._state_entries())
            self._position = (self.journal_file.stat().st_ino, self.journal_file.stat().st_size)
        log.info("saved the embedded store in %s", self.folder)
        return self.folder

    def _state_entries(self) -> Iterator[dict[str, Any]]:
        """The store's state as journal entries, in replay order."""
        for label, nodes in self._nodes.items():
            for chunk in chunks(nodes.items()):
                yield {
                    "op": "nodes",
                    "label": label.value,
                    "rows": [[i, n.text, n.name, n.properties] for i, n in chunk],
                }
        for chunk in chunks(self._interactions.values()):
            yield interaction_entry(chunk)
        for chunk in chunks(self._triples):
            yield {"op": "triples", "rows": [[hl.value, h, rel, tl.value, t] for hl, h, rel, tl, t in chunk]}
        for label, nodes in self._nodes.items():
            properties = sorted({p for n in nodes.values() for p in n.embeddings})
            for property in properties:
                rows = ((i, n.embeddings[property]) for i, n in nodes.items() if property in n.embeddings)
                for chunk in chunks(rows):
                    yield embedding_entry(label, property, chunk)
        for name, index in self._vector_indexes.items():
            yield index_entry(name, index)

    def _write_journal(self, entries: Iterator[dict[str, Any]] | list) -> tuple[str, int]:
        """Write a new journal holding ``entries``, atomically; returns its generation and
        its number of lines."""
        temporary = self.journal_file.with_suffix(".tmp")
        header = {"kgrec_journal": JOURNAL_VERSION, "generation": uuid.uuid4().hex}
        lines = 0
        with open(temporary, "wb") as f:
            for entry in itertools.chain([header], entries):
                f.write(encode(entry))
                lines += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.journal_file)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return header["generation"], lines
