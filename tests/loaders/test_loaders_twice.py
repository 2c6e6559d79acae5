"""Every loader, run twice on the same files, leaves the store as the first run did."""

from __future__ import annotations

import pytest

from kgrec.loaders import load_kgat, load_kgcn, load_movielens100k, load_rdf

LOADS = {
    "movielens": (
        "movielens",
        lambda store, ml: load_movielens100k(
            store, ml.data_dir, kg_dir=ml.kg_dir, split_file=ml.split_file
        ),
    ),
    "kgat": ("kgat_dir", load_kgat),
    "kgcn": ("kgcn_dir", load_kgcn),
    "rdf": ("nt_file", lambda store, path: load_rdf(store, path, batch_size=2)),
    "csv": ("load_csv_tables", lambda store, load: load(store)),
}


@pytest.mark.parametrize("loader", LOADS)
def test_loading_twice_changes_nothing(store, request, loader):
    fixture, load = LOADS[loader]
    files = request.getfixturevalue(fixture)
    first = load(store, files)
    stats, snapshot = store.stats(), store.snapshot()
    assert load(store, files) == first
    assert store.stats() == stats
    assert store.snapshot().equals(snapshot)
