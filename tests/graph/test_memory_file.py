"""The embedded store on disk (``MemoryGraphStore.open``): a journal that other store objects
and processes replay on ``sync()``, reopening to the same graph, idempotent reloads, compaction
by ``save()``, and corrupt or foreign folders refused with the file named."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kgrec import DataFormatError, Interaction, MemoryGraphStore
from kgrec.graph import memory_file
from kgrec.graph.memory_file import JOURNAL_FILE, MANIFEST_FILE, PersistentMemoryGraphStore
from kgrec.loaders import load_movielens100k
from tests.loaders.conftest import movielens  # noqa: F401 - the fixture


def load(store, movielens) -> None:
    load_movielens100k(store, movielens.data_dir, kg_dir=movielens.kg_dir, split_file=movielens.split_file)


def embed(store) -> None:
    store.write_embeddings("Item", ["1", "2"], np.array([[1.0, 0.5], [0.25, -1.0]]))
    store.create_vector_index("Item", 2)


def test_a_second_store_on_the_folder_sees_writes_after_sync_only(tmp_path, movielens):
    folder = tmp_path / "graph"
    writer, reader = MemoryGraphStore.open(folder), MemoryGraphStore.open(folder)
    load(writer, movielens)
    embed(writer)
    assert reader.stats().nodes == {"User": 0, "Item": 0, "Entity": 0}  # not synced yet
    reader.sync()
    assert reader.snapshot().equals(writer.snapshot()) and reader.stats() == writer.stats()
    assert reader.query_vector_index("Item", np.array([1.0, 0.5]), 2) == writer.query_vector_index(
        "Item", np.array([1.0, 0.5]), 2
    )
    # and the other way round, on top of what it replayed
    reader.upsert_interactions([{"user": "3", "item": "1", "timestamp": 7, "split": "test"}])
    writer.sync()
    assert writer.snapshot().equals(reader.snapshot())
    assert writer.get_nodes("User", ["3"]) == reader.get_nodes("User", ["3"])


def test_a_write_first_replays_what_others_appended_so_every_store_holds_one_order(tmp_path):
    """Both write the same node's text, unsynced: the later write wins in both stores."""
    a, b = MemoryGraphStore.open(tmp_path), MemoryGraphStore.open(tmp_path)
    a.upsert_nodes("Item", [{"id": "x", "text": "first"}])
    b.upsert_nodes("Item", [{"id": "x", "text": "second"}])
    a.sync()
    assert (
        [n.text for n in a.get_nodes("Item", ["x"])]
        == [n.text for n in b.get_nodes("Item", ["x"])]
        == ["second"]
    )


def test_reopening_gives_the_same_graph_before_and_after_save(tmp_path, movielens):
    store = MemoryGraphStore.open(tmp_path / "g")
    load(store, movielens)
    embed(store)
    store.upsert_nodes("Item", [{"id": "1", "properties": {"tags": ["a", "b"], "year": 1995}}])
    expected = store.snapshot()
    for _ in range(2):
        reopened = MemoryGraphStore.open(tmp_path / "g")
        assert reopened.snapshot().equals(expected) and reopened.stats() == store.stats()
        assert reopened.get_nodes("Item", ["1", "4"]) == store.get_nodes("Item", ["1", "4"])
        assert np.array_equal(
            reopened.read_embeddings("Item", ["1", "2"]), store.read_embeddings("Item", ["1", "2"])
        )
        assert reopened.query_vector_index("Item", np.array([0.0, 1.0]), 1) == store.query_vector_index(
            "Item", np.array([0.0, 1.0]), 1
        )
        store.save()


def test_reloading_the_same_data_appends_nothing_and_save_compacts(tmp_path, movielens):
    folder = tmp_path / "g"
    store = MemoryGraphStore.open(folder)
    journal = folder / JOURNAL_FILE
    load(store, movielens)
    size = journal.stat().st_size
    load(store, movielens)
    load(MemoryGraphStore.open(folder), movielens)
    assert journal.stat().st_size == size
    for k in range(50):  # many small writes: the journal grows ...
        store.upsert_nodes("User", [{"id": "1", "text": f"text {k}"}])
    grown = journal.stat().st_size
    store.save()  # ... and compaction keeps the state only
    assert journal.stat().st_size < grown
    assert MemoryGraphStore.open(folder).get_nodes("User", ["1"])[0].text == "text 49"


def test_a_store_reloads_after_another_compacted_the_journal(tmp_path, movielens):
    a, b = MemoryGraphStore.open(tmp_path / "g"), MemoryGraphStore.open(tmp_path / "g")
    load(a, movielens)
    b.sync()
    a.clear()
    a.upsert_nodes("Item", [{"id": "only"}])
    a.save()
    a.upsert_nodes("Item", [{"id": "after"}])
    b.sync()
    assert b.snapshot().node_ids["item"] == ["after", "only"] and b.stats() == a.stats()


def test_sync_without_changes_reads_nothing(tmp_path, monkeypatch):
    store = MemoryGraphStore.open(tmp_path)
    store.upsert_nodes("User", [{"id": "u"}])
    calls = []
    other = MemoryGraphStore.open(tmp_path)
    catch_up = PersistentMemoryGraphStore._catch_up
    monkeypatch.setattr(
        PersistentMemoryGraphStore, "_catch_up", lambda self: calls.append(self) or catch_up(self)
    )
    store.sync()
    assert calls == []
    other.upsert_nodes("User", [{"id": "v"}])
    store.sync()
    assert calls.count(store) == 1 and store.snapshot().node_ids["user"] == ["u", "v"]


def test_an_unfinished_last_line_is_skipped_and_then_replaced(tmp_path):
    store = MemoryGraphStore.open(tmp_path)
    store.upsert_nodes("User", [{"id": "u"}])
    with open(tmp_path / JOURNAL_FILE, "ab") as f:
        f.write(b'{"op":"nodes","label":"User","rows":[["half')  # a writer died here
    assert MemoryGraphStore.open(tmp_path).snapshot().node_ids["user"] == ["u"]
    MemoryGraphStore.open(tmp_path).upsert_nodes("User", [{"id": "w"}])
    assert MemoryGraphStore.open(tmp_path).snapshot().node_ids["user"] == ["u", "w"]


def test_a_foreign_folder_is_refused_naming_the_manifest(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataFormatError) as caught:
        MemoryGraphStore.open(tmp_path)
    assert caught.value.path == tmp_path / MANIFEST_FILE and "notes.txt" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock", "notes.txt"]


@pytest.mark.parametrize(
    "damage, file, line, problem",
    [
        (lambda d: (d / MANIFEST_FILE).write_text('{"format": "other"}'), MANIFEST_FILE, None, "expected"),
        (lambda d: (d / JOURNAL_FILE).unlink(), JOURNAL_FILE, None, "journal missing"),
        (
            lambda d: (d / JOURNAL_FILE).write_text("not json\n"),
            JOURNAL_FILE,
            1,
            "not a kgrec journal header",
        ),
        (lambda d: _append(d, "{oops\n"), JOURNAL_FILE, 3, "corrupt journal line"),
        (lambda d: _append(d, '{"op":"drop_table"}\n'), JOURNAL_FILE, 3, "unknown journal entry"),
        (
            lambda d: _append(d, '{"op":"interactions","fields":["user","item"],"rows":[["u","nowhere"]]}\n'),
            JOURNAL_FILE,
            3,
            "written nowhere before",
        ),
        (
            lambda d: _append(d, '{"op":"nodes","label":"User","rows":[["",null,null,{}]]}\n'),
            JOURNAL_FILE,
            3,
            "node id",
        ),
    ],
)
def test_a_corrupt_folder_raises_data_format_error_naming_file_and_line(
    tmp_path, damage, file, line, problem
):
    MemoryGraphStore.open(tmp_path).upsert_nodes("User", [{"id": "u"}])
    damage(tmp_path)
    with pytest.raises(DataFormatError) as caught:
        MemoryGraphStore.open(tmp_path)
    assert caught.value.path == tmp_path / file and caught.value.line == line
    assert problem in caught.value.problem


def _append(folder, text: str) -> None:
    with open(folder / JOURNAL_FILE, "a") as f:
        f.write(text)


def test_a_file_is_not_a_store_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataFormatError, match="not a folder"):
        MemoryGraphStore.open(tmp_path / "file")


def test_the_journal_holds_only_what_changed_and_an_unopened_store_stays_in_memory(tmp_path):
    store = MemoryGraphStore.open(tmp_path)
    store.upsert_nodes("Item", [{"id": "a", "text": "t"}, {"id": "b"}])
    store.upsert_nodes("Item", [{"id": "a"}, {"id": "b", "name": "B"}])  # only b changes
    entries = [json.loads(line) for line in (tmp_path / JOURNAL_FILE).read_text().splitlines()[1:]]
    assert [[row[0] for row in e["rows"]] for e in entries] == [["a", "b"], ["b"]]
    plain = MemoryGraphStore()
    plain.sync()  # a no-op
    assert not isinstance(plain, PersistentMemoryGraphStore) and memory_file.JOURNAL_VERSION == 1


def test_every_field_of_an_interaction_is_kept(tmp_path):
    """Feedback events carry their kind and source: reopening and replaying keep them."""
    store = MemoryGraphStore.open(tmp_path)
    store.upsert_nodes("User", [{"id": "u"}])
    store.upsert_nodes("Item", [{"id": "i"}, {"id": "j"}])
    events = [
        Interaction("u", "i", 4.0, 1.0, 10, "feedback", kind="rating", source="api"),
        Interaction("u", "j", None, -1.0, 11, "feedback", kind="dislike", source="app"),
    ]
    store.upsert_interactions(events)
    assert MemoryGraphStore.open(tmp_path).user_interactions(["u"]) == {"u": events}
    store.save()
    assert MemoryGraphStore.open(tmp_path).user_interactions(["u"]) == {"u": events}


def test_concurrent_writer_processes_lose_nothing(tmp_path):
    """Two processes (as two service workers) write to one folder at the same time: every
    write of each is in the journal, and both replays give one graph."""
    store = MemoryGraphStore.open(tmp_path)
    store.upsert_nodes("Item", [{"id": "i"}])
    code = (
        "import sys; from kgrec import MemoryGraphStore; s = MemoryGraphStore.open(sys.argv[1]); w = sys.argv[2]\n"
        "for k in range(150):\n"
        "    s.upsert_nodes('User', [{'id': f'{w}{k}'}]); s.upsert_interactions([{'user': f'{w}{k}', 'item': 'i'}])\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), w], stderr=subprocess.PIPE) for w in "ab"
    ]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, worker.stderr.read()
    store.sync()
    users = store.snapshot().node_ids["user"]
    assert sorted(users) == sorted(f"{w}{k}" for w in "ab" for k in range(150))
    assert store.stats().relationships == {"INTERACTED": 300}
    assert MemoryGraphStore.open(tmp_path).snapshot().equals(store.snapshot())
