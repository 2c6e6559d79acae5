"""ml100k-cold benchmark: new items and new users, kgrec (cold-start API) against simple peers.

    python benchmarks/cold.py [--models ...] [--seeds 2020 2021 2022] [--epochs 150]
        [--patience 15] [--jobs 1] [--threads 1] [--results-dir benchmarks/results] [--reuse-models]

Protocol of ``../shared/benchmarks/README.md`` (ml100k-cold): ``cold_item_*``: each user with
positives in the phase ranks only that phase's cold items; ``cold_user_*``: each cold user ranks
the warm catalogue (the referee's candidates: items with a non-excluded row, cold items left
out), their 3 ``cold_user_seed`` items masked. Recall and NDCG at 10 and 20.

kgrec never sees a cold item or user in training: they are left out of filtered copies of
``u.item``, ``u.user``, the link files and the split (only ``train``/``valid``/``test`` rows),
which ``load_movielens100k`` loads into a MemoryGraphStore. Each kgrec variant is trained with
early stopping on warm valid NDCG@20; then, on its own copy of the store,
``Recommender.add_item`` adds every cold item with the loader's text, name, properties and
links (read from a second, complete load; links to entities only cold items reach are dropped)
and users are scored against the phase's cold items; ``Recommender.add_user`` adds each cold
user with their age/gender/occupation text and seed items (``<model>``, whose logits are
``ColdStart.blended``: the standardized logits plus 0.25 x the standardized liked-only fold-in,
the weight picked on ``cold_user_valid``), and
``Recommender.recommend_for_items`` ranks from the seeds alone (``<model>/items-only``).

Peers (``_cold_baselines``): genre-KNN, KG-KNN (genres + DBpedia, rejected links dropped),
text-KNN (the loader's item text through the same MiniLM encoder), popularity, random (seeded)
and, for cold users, EASE fold-in with lambda picked on ``cold_user_valid``. Users' known items:
their ``train`` positives for cold items, their seeds for cold users.

Writes ``RESULTS_DIR/cold.json`` and the top-20 files ``RESULTS_DIR/cold/<model>_<phase>_seed<seed>.tsv``
(original ids), each re-scored by ``../shared/benchmarks/referee.py``: the run fails if the
referee disagrees with the harness by more than 1e-6.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cold_baselines as peers  # noqa: E402
from _env import machine, versions  # noqa: E402

from kgrec import MemoryGraphStore, Recommender  # noqa: E402
from kgrec.graph.snapshot import Snapshot  # noqa: E402
from kgrec.loaders import load_movielens100k  # noqa: E402
from kgrec.models import KGRecModel, training_graph  # noqa: E402
from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors  # noqa: E402
from kgrec.train import KGREC_TRAINING, Trainer, TrainConfig, metrics_table, seed_everything  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
KGREC = "kgrec"
K = 20
KS = (10, 20)
PHASES = ("cold_item_valid", "cold_item_test", "cold_user_valid", "cold_user_test")
WARM_SPLITS = ("train", "valid", "test")
GENRE_RELATION = "has_genre"
log = logging.getLogger("cold")

KGREC_MODEL = dict(channels=64, num_layers=2, temperature=0.4)
#: name -> (KGRecModel keyword overrides, text features, knowledge graph)
VARIANTS: dict[str, tuple[dict[str, Any], bool, bool]] = {
    KGREC: ({}, True, True),
    "kgrec-no-text": ({"feature_mode": "id"}, False, True),
    "kgrec-no-kg": ({}, True, False),
    "kgrec-no-z": ({"use_relation_vectors": False}, True, True),
}
PEERS = ("genre-knn", "kg-knn", "text-knn", "popularity", "random", "ease-fold-in")
EASE_L2 = (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)


# -- the split ----------------------------------------------------------------------------------
@dataclass
class ColdSplit:
    """``positives[split][user]``: item ids; the cold items and users; the cold-user candidates."""

    path: Path
    positives: dict[str, dict[str, set[str]]]

    @classmethod
    def read(cls, path: Path) -> "ColdSplit":
        positives: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        with open(path, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                positives[row["split"]][row["user_id"]].add(row["item_id"])
        return cls(path, positives)

    def items(self, *splits: str) -> set[str]:
        return {i for s in splits for items in self.positives[s].values() for i in items}

    @property
    def cold_items(self) -> set[str]:
        """Items never in ``train``: those of the cold-item phases and the few whose only
        positives are cold users' (``excluded``)."""
        return self.items("cold_item_valid", "cold_item_test", "excluded")

    @property
    def cold_users(self) -> set[str]:
        return set(self.positives["cold_user_seed"])

    @property
    def warm_candidates(self) -> set[str]:
        """What a cold user may be recommended (the referee's candidate set)."""
        return self.items(*(s for s in self.positives if s != "excluded")) - self.cold_items


def write_warm_inputs(split: ColdSplit, data_dir: Path, kg_dir: Path, out: Path) -> tuple[Path, Path, Path]:
    """Copies of the ml-100k folder, the KG folder and the split without the cold items and
    users (the split keeps its warm rows only): ``(data dir, kg dir, split file)``."""
    data, kg = out / "ml-100k", out / "kg"
    data.mkdir(parents=True)
    kg.mkdir()
    cold_items = split.cold_items
    drop = {"u.user": split.cold_users, "u.item": cold_items}
    for name in ("u.user", "u.item", "u.genre"):
        lines = (data_dir / name).read_bytes().splitlines(keepends=True)
        cold = drop.get(name, set())
        kept = [ln for ln in lines if ln.split(b"|", 1)[0].decode() not in cold]
        (data / name).write_bytes(b"".join(kept))
    derived = kg_dir / "derived" if (kg_dir / "derived").is_dir() else kg_dir
    for name in ("entities.tsv", "triples.tsv"):
        (kg / name).symlink_to(derived / name)
    for name in ("ml100k_item2dbpedia.tsv", "ml100k_item2dbpedia_rejected.tsv"):
        lines = (derived / name).read_text().splitlines(keepends=True)
        kept = [ln for ln in lines[1:] if ln.split("\t", 1)[0] not in cold_items]
        (kg / name).write_text(lines[0] + "".join(kept))
    split_file = out / "split.tsv"
    lines = split.path.read_text().splitlines(keepends=True)
    kept = [ln for ln in lines[1:] if ln.rstrip("\n").rsplit("\t", 1)[1] in WARM_SPLITS]
    split_file.write_text(lines[0] + "".join(kept))
    return data, kg, split_file


def item_links(snapshot: Snapshot) -> dict[str, list[tuple[str, str]]]:
    """Item id -> its ``(relation, entity id)`` links in ``snapshot``."""
    links: dict[str, list[tuple[str, str]]] = defaultdict(list)
    items, entities = snapshot.node_ids["item"], snapshot.node_ids["entity"]
    for (head, relation, tail), edges in snapshot.triples.items():
        if (head, tail) == ("item", "entity"):
            for i, e in edges.t().tolist():
                links[items[i]].append((relation, entities[e]))
    return links


# -- scoring ------------------------------------------------------------------------------------
def metrics(relevant: dict[str, set[str]], ranked: dict[str, list[str]]) -> dict[str, float]:
    """Recall@K and NDCG@K averaged over the users of ``relevant`` (absent users score 0)."""
    sums = {f"{m}@{k}": 0.0 for k in KS for m in ("recall", "ndcg")}
    for user, items in relevant.items():
        top = ranked.get(user, [])
        for k in KS:
            hits = [r for r, i in enumerate(top[:k]) if i in items]
            ideal = sum(1 / math.log2(r + 2) for r in range(min(k, len(items))))
            sums[f"recall@{k}"] += len(hits) / len(items)
            sums[f"ndcg@{k}"] += sum(1 / math.log2(r + 2) for r in hits) / ideal
    return {key: value / len(relevant) for key, value in sums.items()}


def write_ranked(path: Path, ranked: dict[str, list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("user_id\titem_id\trank\n")
        for user, items in ranked.items():
            f.writelines(f"{user}\t{item}\t{r}\n" for r, item in enumerate(items, start=1))
    return path


def record(
    model: str, phase: str, seed: int | str, ranked: dict[str, list[str]], **extra: Any
) -> dict[str, Any]:
    """One (model, phase, seed) figure, its top-20 file written."""
    name = f"{model.replace('/', '_')}_{phase}_seed{seed}.tsv"
    tsv = write_ranked(_DATA["results_dir"] / "cold" / name, ranked)
    figures = metrics(_DATA["split"].positives[phase], ranked)
    log.info("%s %s seed %s: ndcg@20 %.4f recall@20 %.4f",
             model, phase, seed, figures["ndcg@20"], figures["recall@20"])
    return {"model": model, "phase": phase, "seed": seed, **figures, **extra, "top20": str(tsv)}


# -- kgrec --------------------------------------------------------------------------------------
# Set in the parent before the workers fork: the data every run shares.
_DATA: dict[str, Any] = {}


def run_kgrec(name: str, seed: int) -> list[dict[str, Any]]:
    """Train one kgrec variant on the warm graph, then serve the cold phases (in a worker)."""
    torch.set_num_threads(_DATA["threads"])
    snapshot = _DATA["snapshot"]
    overrides, with_text, with_kg = VARIANTS[name]
    seed_everything(seed)
    start = time.perf_counter()
    graph = training_graph(snapshot, _DATA["text"] if with_text else None, with_kg=with_kg)
    model = KGRecModel(graph, **{**KGREC_MODEL, **overrides})
    saved = _DATA["results_dir"] / "cold" / "models" / f"{name}_seed{seed}"
    if _DATA["reuse"] and saved.with_suffix(".pt").exists():
        model.load_state_dict(torch.load(saved.with_suffix(".pt"), weights_only=True))
        trained = json.loads(saved.with_suffix(".json").read_text())
        log.info("%s seed %d: reused the model trained in an earlier run (%s)", name, seed, saved)
    else:
        config = TrainConfig(**{**vars(_DATA["config"]), **KGREC_TRAINING, "seed": seed})
        result = Trainer(model, snapshot, config).fit(_DATA["results_dir"] / "curves" / f"cold_{name}_seed{seed}")
        trained = {"valid_ndcg@20": result.best_valid.get("ndcg@20", float("nan")),
                   "epochs_to_best": result.best_epoch, "train_s": time.perf_counter() - start,
                   "hparams": model.hparams()}
        saved.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), saved.with_suffix(".pt"))
        saved.with_suffix(".json").write_text(json.dumps(trained, default=str))
    log.info("%s seed %d trained: warm valid ndcg@20 %.4f (epoch %d)", name, seed,
             trained["valid_ndcg@20"], trained["epochs_to_best"])
    records = cold_items_kgrec(name, seed, model, warm_store(), snapshot, trained)
    return records + cold_users_kgrec(name, seed, model, warm_store(), snapshot, trained)


def warm_store() -> MemoryGraphStore:
    """A new store holding the warm graph (each cold phase family writes into its own)."""
    store = MemoryGraphStore()
    data_dir, kg_dir, split_file = _DATA["warm_inputs"]
    load_movielens100k(store, data_dir, kg_dir=kg_dir, split_file=split_file)
    return store


def cold_items_kgrec(name: str, seed: int, model: KGRecModel, store: MemoryGraphStore, snapshot: Snapshot,
                     trained: dict[str, Any]) -> list[dict[str, Any]]:
    """Add every cold item through ``Recommender.add_item``, then rank each phase's items."""
    split, known = _DATA["split"], set(snapshot.node_ids["entity"])
    rec = Recommender(model, store, snapshot, text_encoder=_DATA["encoder"])
    start = time.perf_counter()
    for item in sorted(split.cold_items, key=int):
        full = _DATA["cold_item_records"][item]
        links = [(r, e) for r, e in _DATA["cold_item_links"].get(item, []) if e in known]
        rec.add_item(item, text=full.text, name=full.name, properties=full.properties, links=links)
    add_s = (time.perf_counter() - start) / len(split.cold_items)
    out = []
    for phase in ("cold_item_valid", "cold_item_test"):
        users = sorted(split.positives[phase], key=int)
        items = sorted(split.items(phase), key=int)
        scores = rec.logits(users)[:, rec.snapshot.index_of("item", items)].numpy()
        order = peers.top_k(scores, K)
        ranked = {u: [items[c] for c in row] for u, row in zip(users, order)}
        out.append(record(name, phase, seed, ranked, **trained, add_item_s=add_s))
    return out


def cold_users_kgrec(name: str, seed: int, model: KGRecModel, store: MemoryGraphStore, snapshot: Snapshot,
                     trained: dict[str, Any]) -> list[dict[str, Any]]:
    """Each cold user through ``recommend_for_items`` (seeds only, nothing written) and through
    ``add_user`` (attribute text + seeds; users are added one after another, valid phase first)."""
    split = _DATA["split"]
    rec = Recommender(model, store, snapshot, text_encoder=_DATA["encoder"])
    candidates = sorted(split.warm_candidates, key=int)
    out = []
    for phase in ("cold_user_valid", "cold_user_test"):
        users = sorted(split.positives[phase], key=int)
        seeds = {u: sorted(split.positives["cold_user_seed"][u], key=int) for u in users}
        start = time.perf_counter()
        ranked = {u: [r.item_id for r in rec.recommend_for_items(seeds[u], k=K, filters=candidates)] for u in users}
        out.append(record(f"{name}/items-only", phase, seed, ranked, **trained,
                          request_s=(time.perf_counter() - start) / len(users)))
        start, ranked = time.perf_counter(), {}
        for u in users:
            rec.add_user(u, text=_DATA["cold_user_text"][u], liked=seeds[u])
            columns = rec.snapshot.index_of("item", candidates)
            scores = rec.logits([u])[:, columns].numpy()
            masked = np.isin(np.array(candidates), seeds[u])[None, :]
            ranked[u] = [candidates[c] for c in peers.top_k(scores, K, masked)[0]]
        out.append(record(name, phase, seed, ranked, **trained, add_user_s=(time.perf_counter() - start) / len(users)))
    return out


# -- peers --------------------------------------------------------------------------------------
def run_peers(full: Snapshot, text_vectors: np.ndarray, seeds: list[int]) -> list[dict[str, Any]]:
    """Every peer on every phase it applies to (all but random are deterministic)."""
    split = _DATA["split"]
    items = full.node_ids["item"]
    col = {i: k for k, i in enumerate(items)}
    genres = np.zeros((len(items), full.num_nodes("entity")))
    kg = np.zeros_like(genres)
    for (head, relation, tail), edges in full.triples.items():
        if (head, tail) == ("item", "entity"):
            kg[edges[0], edges[1]] = 1
            if relation == GENRE_RELATION:
                genres[edges[0], edges[1]] = 1
    train_users = sorted(split.positives["train"], key=int)
    train = history(split.positives["train"], train_users, col)
    out = []
    for phase in PHASES:
        cold_item = phase.startswith("cold_item")
        users = sorted(split.positives[phase], key=int)
        known = split.positives["train" if cold_item else "cold_user_seed"]
        hist = history(known, users, col)
        names = sorted(split.items(phase) if cold_item else split.warm_candidates, key=int)
        cand = np.array([col[i] for i in names])
        masked = None if cold_item else hist[:, cand] > 0
        scorers = {
            "genre-knn": lambda: peers.feature_knn(hist, genres, cand),
            "kg-knn": lambda: peers.feature_knn(hist, kg, cand),
            "text-knn": lambda: peers.text_knn(hist, text_vectors, cand),
        }
        if not cold_item:
            scorers["popularity"] = lambda: peers.popularity(train, len(users), cand)
        for model, scores in scorers.items():
            out.append(record(model, phase, "all", rank(users, names, scores(), masked)))
        for seed in seeds:
            scores = peers.random_scores(len(users), cand, seed)
            out.append(record("random", phase, seed, rank(users, names, scores, masked)))
    out += ease_fold_in(train, col)
    return out


def ease_fold_in(train: np.ndarray, col: dict[str, int]) -> list[dict[str, Any]]:
    """EASE fold-in on the cold-user phases, lambda picked on ``cold_user_valid`` NDCG@20."""
    split = _DATA["split"]
    names = sorted(split.warm_candidates, key=int)
    cand = np.array([col[i] for i in names])

    def ranked(phase: str, l2: float) -> dict[str, list[str]]:
        users = sorted(split.positives[phase], key=int)
        hist = history(split.positives["cold_user_seed"], users, col)
        return rank(users, names, peers.ease_fold_in(hist, train, l2, cand), hist[:, cand] > 0)

    valid = {l2: metrics(split.positives["cold_user_valid"], ranked("cold_user_valid", l2))["ndcg@20"] for l2 in EASE_L2}
    best = max(valid, key=valid.get)
    log.info("EASE fold-in cold_user_valid ndcg@20 by l2: %s; picked %g",
             ", ".join(f"{l2:g}: {v:.4f}" for l2, v in valid.items()), best)
    return [record("ease-fold-in", phase, "all", ranked(phase, best), l2=best)
            for phase in ("cold_user_valid", "cold_user_test")]


def history(known: dict[str, set[str]], users: list[str], col: dict[str, int]) -> np.ndarray:
    """``[U, I]`` 0/1 matrix of the ``known`` items of ``users``."""
    out = np.zeros((len(users), len(col)))
    for row, u in enumerate(users):
        out[row, [col[i] for i in known.get(u, ())]] = 1
    return out


def rank(users: list[str], names: list[str], scores: np.ndarray, masked: np.ndarray | None) -> dict[str, list[str]]:
    return {u: [names[c] for c in row] for u, row in zip(users, peers.top_k(scores, K, masked))}


# -- referee and output -------------------------------------------------------------------------
def referee_check(split: Path, records: list[dict[str, Any]]) -> None:
    """Re-score every top-20 file with the shared referee (its command line); raise on any
    difference above 1e-6."""
    referee = SHARED / "benchmarks" / "referee.py"
    with tempfile.TemporaryDirectory() as tmp:
        for r in records:
            out = Path(tmp) / "judged.json"
            subprocess.run([sys.executable, str(referee), str(split), r["top20"], "--phase", r["phase"],
                            "--json", str(out)], check=True, capture_output=True)
            judged = json.loads(out.read_text())
            for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20"):
                if abs(judged[key] - r[key]) > 1e-6:
                    raise RuntimeError(f"referee disagrees on {r['model']} {r['phase']} seed {r['seed']} "
                                       f"{key}: {judged[key]} vs {r[key]}")
            r["referee_users"] = judged["users"]


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``{phase: {model: {metric: {mean, std}, runs}}}``."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        grouped[r["phase"]][r["model"]].append(r)
    out: dict[str, Any] = {}
    for phase in PHASES:
        out[phase] = {}
        for model, runs in grouped[phase].items():
            entry = {}
            for key in ("ndcg@20", "recall@20", "ndcg@10", "recall@10"):
                values = [r[key] for r in runs]
                entry[key] = {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
            out[phase][model] = {**entry, "runs": runs}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "movielens-100k")
    ap.add_argument("--kg-dir", type=Path, default=SHARED / "data" / "movielens-dbpedia-kg")
    ap.add_argument("--split", type=Path, default=SHARED / "benchmarks" / "ml100k-cold" / "split.tsv")
    ap.add_argument("--models", nargs="+", default=[*VARIANTS, "peers"], choices=[*VARIANTS, "peers"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[2020, 2021, 2022])
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "kgrec")
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="where top-20 files and curves go")
    ap.add_argument("--out", type=Path, default=None, help="default: RESULTS_DIR/cold.json")
    ap.add_argument("--reuse-models", action="store_true",
                    help="serve the models an earlier run saved under RESULTS_DIR/cold/models instead of training")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(name)s %(message)s")
    logging.getLogger("kgrec.train.trainer").setLevel(logging.WARNING)
    logging.getLogger("kgrec.cold.cold_start").setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load_average = machine()["load_average_at_start"]

    split = ColdSplit.read(args.split)
    full_store = MemoryGraphStore()  # everything, for the cold nodes' records and the peers
    load_movielens100k(full_store, args.data_dir, kg_dir=args.kg_dir)
    full = full_store.snapshot()
    tmp = tempfile.TemporaryDirectory()
    _DATA.update(warm_inputs=write_warm_inputs(split, args.data_dir, args.kg_dir, Path(tmp.name)))
    snapshot = warm_store().snapshot()
    encoder = EmbeddingCache(TextEncoder(), args.cache_dir)
    text = node_text_vectors(snapshot, encoder)
    cold_items = sorted(split.cold_items, key=int)
    cold_users = sorted(split.cold_users, key=int)
    links = item_links(full)
    known = set(snapshot.node_ids["entity"])
    users = dict(zip(cold_users, full_store.get_nodes("User", cold_users)))
    encoder.encode([r.text for r in full_store.get_nodes("Item", cold_items)] + [u.text for u in users.values()])
    _DATA.update(
        split=split, snapshot=snapshot, text=text, encoder=encoder, threads=args.threads, reuse=args.reuse_models,
        results_dir=args.results_dir, config=TrainConfig(epochs=args.epochs, patience=args.patience, progress=False),
        cold_item_records=dict(zip(cold_items, full_store.get_nodes("Item", cold_items))),
        cold_item_links={i: links.get(i, []) for i in cold_items},
        cold_user_text={u: r.text for u, r in users.items()},
    )
    cold_links = sum(len(links.get(i, [])) for i in cold_items)
    kept_links = sum(e in known for i in cold_items for _, e in links.get(i, []))
    log.info("warm graph: %d users, %d items, %d entities; cold items' links kept %d of %d",
             snapshot.num_nodes("user"), snapshot.num_nodes("item"), snapshot.num_nodes("entity"), kept_links, cold_links)

    records: list[dict[str, Any]] = []
    if "peers" in args.models:
        item_vectors = encoder.encode(full.node_text["item"]).numpy()
        records += run_peers(full, item_vectors, args.seeds)
    jobs = [(name, seed) for seed in args.seeds for name in VARIANTS if name in args.models]
    if jobs:
        with multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
            for out in pool.starmap(run_kgrec, jobs, chunksize=1):
                records += out
    tmp.cleanup()
    referee_check(args.split, records)

    results = {
        "kgrec": KGREC,
        "phases": summarize(records),
        "protocol": {
            "split": "ml100k-cold, shared/benchmarks/README.md; cold nodes absent from the training graph",
            "kgrec": "warm training with early stopping on warm valid ndcg@20 "
                     f"(patience {args.patience}, at most {args.epochs} epochs); cold items through "
                     "Recommender.add_item (all 289 added, then each phase ranked); cold users through "
                     "Recommender.add_user(text, liked=seeds) one after another (<model>; scored "
                     "with ColdStart.blended, the liked-only fold-in weighted LIKED_ONLY_WEIGHT) and "
                     "recommend_for_items(seeds) (<model>/items-only)",
            "kgrec_model": KGREC_MODEL, "kgrec_training": KGREC_TRAINING, "variants": VARIANTS,
            "peers": "benchmarks/_cold_baselines.py; known items: train positives (cold items), seeds (cold users)",
            "ease_l2_grid": EASE_L2,
            "referee": "every top-20 file re-scored with ../shared/benchmarks/referee.py --phase PHASE, |diff| <= 1e-6",
        },
        "seeds": args.seeds,
        "data": {"split": str(args.split), "data_dir": str(args.data_dir), "kg_dir": str(args.kg_dir),
                 "warm_users": snapshot.num_nodes("user"), "warm_items": snapshot.num_nodes("item"),
                 "warm_entities": snapshot.num_nodes("entity"), "cold_items": len(cold_items),
                 "cold_users": len(cold_users), "cold_item_links": cold_links, "cold_item_links_kept": kept_links},
        "machine": {**machine(), "load_average_at_start": load_average, "jobs": args.jobs, "threads_per_job": args.threads},
        "versions": versions("torch", "torch_geometric", "transformers", "numpy"),
        "wall_minutes": (time.perf_counter() - started) / 60,
    }
    out = args.out or args.results_dir / "cold.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    for phase in PHASES:
        print(f"\n{phase}")
        print(metrics_table({m: {k: v["mean"] for k, v in e.items() if isinstance(v, dict)}
                             for m, e in results["phases"][phase].items()},
                            ("recall@10", "ndcg@10", "recall@20", "ndcg@20")))
    print(f"wall time {results['wall_minutes']:.1f} min; all figures confirmed by the referee")


if __name__ == "__main__":
    main()
