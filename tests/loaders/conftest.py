"""Small datasets in each loader's format, written into ``tmp_path`` by the tests that use them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from kgrec import DataFormatError, GraphStore
from kgrec.loaders import InteractionsCsv, LoadReport, NodesCsv, TriplesCsv, load_csv


def write_files(base: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``base``; returns ``base``."""
    for name, content in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return base


def _rejects_untouched(store: GraphStore, load: Callable[[], object], **where) -> DataFormatError:
    """Run ``load()``, expect a :class:`DataFormatError` whose attributes match ``where``
    (``problem`` as a substring, ``path`` by file name), and check the store did not change."""
    before, stats = store.snapshot(), store.stats()
    with pytest.raises(DataFormatError) as caught:
        load()
    error = caught.value
    assert where.pop("problem") in error.problem
    if "path" in where:
        assert Path(error.path).name == where.pop("path")
    for key, value in where.items():
        assert getattr(error, key) == value, str(error)
    assert store.stats() == stats
    assert store.snapshot().equals(before)
    return error


@pytest.fixture
def expect_rejected() -> Callable[..., DataFormatError]:
    """``expect_rejected(store, load, problem=..., path=..., line=...)``: the load fails with a
    :class:`DataFormatError` matching those fields and leaves ``store`` as it was."""
    return _rejects_untouched


@dataclass
class MovieLensFiles:
    data_dir: Path
    kg_dir: Path
    split_file: Path


ML_FILES = {
    "ml/u.genre": "unknown|0\nAction|1\nChildren's|2\nComedy|3\n\n",
    "ml/u.user": "1|24|M|technician|85711\n2|53|F|other|94043\n3|18|M|student|32067\n",
    "ml/u.item": (
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1|1\n"
        "2|GoldenEye (1995)|01-Jan-1995||http://x|0|1|0|0\n"
        "3|Café Society (1993)|01-Jan-1993||http://x|0|0|0|1\n"
        "4|unknown|||http://x|1|0|0|0\n"
    ).encode("latin-1"),
    "ml/u.data": (
        "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n"
        "3\t3\t2\t881250949\n3\t4\t1\t881250950\n"
    ),
    "split.tsv": (
        "user_id\titem_id\trating\ttimestamp\tsplit\n"
        "1\t1\t5\t874965758\ttrain\n2\t1\t4\t888550871\ttest\n3\t3\t4\t881250949\tvalid\n"
    ),
    "kg/derived/ml100k_item2dbpedia.tsv": (
        "ml100k_item_id\tml100k_title\tml1m_movie_id\tml1m_title\tdbpedia_uri\tmatch\thas_kg_triples\n"
        "1\tToy Story (1995)\t1\tToy Story (1995)\thttp://dbpedia.org/resource/Toy_Story\texact_title\t1\n"
        "2\tGoldenEye (1995)\t10\tGoldenEye (1995)\thttp://dbpedia.org/resource/GoldenEye\texact_title\t1\n"
        "4\tunknown\t10\tGoldenEye (1995)\thttp://dbpedia.org/resource/GoldenEye\tnormalised\t1\n"
    ),
    "kg/derived/entities.tsv": (
        "uri\tlabel\ttype\tml1m_movie_ids\n"
        "http://dbpedia.org/resource/Toy_Story\tToy Story\tmovie\t1\n"
        "http://dbpedia.org/resource/GoldenEye\tGoldenEye\tmovie\t10\n"
        "http://dbpedia.org/resource/Tom_Hanks\tTom Hanks\tentity\t\n"
        "http://dbpedia.org/resource/John_Lasseter\tJohn Lasseter\tentity\t\n"
        "http://dbpedia.org/resource/Pierce_Brosnan\tPierce Brosnan\tentity\t\n"
        "http://dbpedia.org/resource/Heat_(1995_film)\tHeat (1995 film)\tmovie\t6\n"
        "http://dbpedia.org/resource/Michael_Mann\tMichael Mann\tentity\t\n"
    ),
    "kg/derived/triples.tsv": (
        "head\trelation\ttail\n"
        "http://dbpedia.org/resource/Toy_Story\tdbo:starring\thttp://dbpedia.org/resource/Tom_Hanks\n"
        "http://dbpedia.org/resource/Toy_Story\tdbo:director\thttp://dbpedia.org/resource/John_Lasseter\n"
        "http://dbpedia.org/resource/GoldenEye\tdbo:starring\thttp://dbpedia.org/resource/Pierce_Brosnan\n"
        "http://dbpedia.org/resource/Heat_(1995_film)\tdbo:director\thttp://dbpedia.org/resource/Michael_Mann\n"
    ),
}


@pytest.fixture
def movielens(tmp_path) -> MovieLensFiles:
    """Three users, four items (one Latin-1 title), four genres, a split file and a DBpedia KG
    in which item 4 links to the same film as item 2 and Heat is linked by no item."""
    write_files(tmp_path, ML_FILES)
    return MovieLensFiles(tmp_path / "ml", tmp_path / "kg", tmp_path / "split.tsv")


KGAT_FILES = {
    "train.txt": "0 0 1\n1 2\n2\n",
    "test.txt": "0 2\n1 0\n",
    "kg_final.txt": "0 0 3\n1 0 3\n2 1 4\n3 1 4\n",
}

KGAT_LISTS = {
    "user_list.txt": "org_id remap_id\nA1 0\nA2 1\nA3 2\n",
    "item_list.txt": "org_id remap_id freebase_id\nB1 0 m.1\nB2 1 m.2\nB3 2 m.3\n",
    "entity_list.txt": "org_id remap_id\nm.1 0\nm.2 1\nm.3 2\nm.4 3\nm.5 4\n",
    "relation_list.txt": "org_id remap_id\nfilm.film.genre 0\nfilm.genre.parent 1\n",
}


@pytest.fixture
def kgat_dir(tmp_path) -> Path:
    """Three users (user 2 has no interactions), items 0-2, entities 3-4, relations 0-1."""
    return write_files(tmp_path / "kgat", KGAT_FILES)


@pytest.fixture
def kgat_lists() -> dict[str, str]:
    """The optional ``*_list.txt`` files for :func:`kgat_dir`."""
    return dict(KGAT_LISTS)


KGCN_RATINGS = [[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 0, 0], [2, 2, 0]]

KGCN_FILES = {
    "raw/item_index2entity_id_rehashed.txt": "0002005018\t0\r\n0060973129\t1\r\n0374157065\t2\r\n",
    "preprocessed/kg_final.txt": "0\t0\t3\n3\t1\t4\n1\t0\t4\n",
}


@pytest.fixture
def kgcn_dir(request, tmp_path) -> Path:
    """Users 0-2 (user 2 has only a negative), items 0-2, entities 3-4, ratings as ``.txt``
    (default) or ``.npy`` (parametrize indirectly with ``"npy"``)."""
    base = write_files(tmp_path / "kgcn", KGCN_FILES)
    if getattr(request, "param", "txt") == "txt":
        text = "".join("\t".join(map(str, row)) + "\n" for row in KGCN_RATINGS)
        (base / "preprocessed" / "ratings_final.txt").write_text(text)
    else:
        np.save(base / "preprocessed" / "ratings_final.npy", np.array(KGCN_RATINGS, dtype=np.int32))
    return base


@pytest.fixture
def csv_tables(tmp_path) -> Path:
    """movies.csv (items), people.tsv (entities), ratings.csv, kg.tsv; ``kg.tsv`` links items,
    entities and an item to an item."""
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres,year\n10,"Heat, the film",Crime|Drama,1995\n11,Up,Animation,\n'
    )
    (tmp_path / "people.tsv").write_text("id\tname\np1\tMichael Mann\np2\tPete Docter\n")
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,ts,fold\nu1,10,4.5,100,train\nu1,11,,,test\nu2,11,3,200,\n"
    )
    (tmp_path / "kg.tsv").write_text(
        "h\tr\tt\n10\tdirected by\tp1\n11\tdirected by\tp2\n10\tsequel\t11\np1\tknows\tp2\n"
    )
    return tmp_path


@pytest.fixture
def load_csv_tables(csv_tables) -> Callable[..., LoadReport]:
    """``load(store, **triple_options)``: every table of :func:`csv_tables` with its column
    mapping; ``triple_options`` go to :class:`TriplesCsv`."""

    def load(store: GraphStore, **triple_options) -> LoadReport:
        return load_csv(
            store,
            nodes=[
                NodesCsv(
                    csv_tables / "movies.csv",
                    "item",
                    id="movieId",
                    name="title",
                    text=("title", "genres"),
                    properties=("year",),
                ),
                NodesCsv(csv_tables / "people.tsv", "entity", name="name", text=("name",)),
            ],
            interactions=InteractionsCsv(
                csv_tables / "ratings.csv",
                user="userId",
                item="movieId",
                rating="rating",
                timestamp="ts",
                split="fold",
            ),
            triples=TriplesCsv(
                csv_tables / "kg.tsv",
                head="h",
                relation="r",
                tail="t",
                **{"shared_ids": True, "relation_map": {"directed by": "director"}, **triple_options},
            ),
        )

    return load


NT_TEXT = """\
# a comment
<http://ex.org/film/1> <http://ex.org/onto/starring> <http://ex.org/person/Ann> .
<http://ex.org/film/1> <http://ex.org/onto/director> <http://ex.org/person/Bob> .
<http://ex.org/film/2> <http://ex.org/onto/starring> <http://ex.org/person/Ann> .
<http://ex.org/film/1> <http://www.w3.org/2000/01/rdf-schema#label> "Film One"@en .
<http://ex.org/person/Ann> <http://www.w3.org/2000/01/rdf-schema#label> "Ann Actor" .
<http://ex.org/person/Ann> <http://ex.org/onto/born> "1970"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://ex.org/film/1> <http://ex.org/onto/genre> "drama" .
<http://ex.org/film/1> <http://ex.org/onto/genre> "crime" .
<http://ex.org/film/2> <http://ex.org/onto/sequelOf> <http://ex.org/film/1> .
_:b1 <http://ex.org/onto/starring> <http://ex.org/person/Ann> .
"""


@pytest.fixture
def nt_file(tmp_path) -> Path:
    """Two films, two people, labels, literal properties and one blank-node statement."""
    path = tmp_path / "films.nt"
    path.write_text(NT_TEXT)
    return path
