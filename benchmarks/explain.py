"""Explained recommendations on ml100k: latency, throughput, faithfulness, vector retrieval.

    python benchmarks/explain.py [--requests 1000] [--repeats 3] [--checkpoint runs/explain]
                                 [--skip-neo4j]

One run, one trained model (loaded from ``--checkpoint`` when it fits the graph, else trained
and saved there), both stores side by side:
- ``recommend(k=20, explain=True)`` latency over random users after untimed warm-up requests,
  served with one torch thread: p50/p95/p99, split into scoring (``explain=False``), path
  retrieval (``candidate_paths``) and ranking (the rest); medians over repeats;
- offline throughput of ``recommend_batch`` (users per second);
- Fidelity@20 (share of recommended items with a path; over all users, and apart over users
  with and without train interactions, the latter explained through their attributes:
  occupation, age group, gender) and path diversity over all users;
- the deletion test: removing the edges of an item's top-ranked path vs a random path of the
  same item, rebuilding the model's graph and re-scoring; mean score drops and their ratio. A
  path through other users is one unit, the edges of every user it stands for;
- Neo4j's vector index (``db.index.vector.queryNodes``) recall@20 against exact cosine top-20;
- the size of the explanation pages (``kgrec.explain.render``) of 50 users' top-10:
  ``html_kb``, the largest, whether a whole top-10 or one item's;
- score calibration: the methods of :mod:`kgrec.explain.calibration` compared on the valid
  split (two folds of users), and the served one's reliability on the TEST split (the top-20
  of every test user, 10 equal-mass bins; ECE against ``sigmoid(logit)``'s).

Writes ``benchmarks/results/explain.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from _env import SHARED, machine, neo4j_server, versions, write_result
from kgrec import MemoryGraphStore, Neo4jGraphStore, Recommender
from kgrec.errors import KgrecError
from kgrec.explain.calibration import compare_methods, reliability
from kgrec.explain.render import explanation_html, recommendations_html
from kgrec.graph.records import GraphPath
from kgrec.graph.schema import INTERACTED
from kgrec.graph.snapshot import Snapshot
from kgrec.loaders import load_movielens100k
from kgrec.models import KGRecModel, training_graph
from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
from kgrec.train import KGREC_TRAINING, TrainConfig, Trainer, seed_everything

log = logging.getLogger("benchmarks.explain")
K = 20
ALL_PATHS = 10**9  # the deletion test's random path is drawn from all of an item's paths


SPLIT = SHARED / "benchmarks" / "ml100k" / "split.tsv"


def load(store, split_file: Path = SPLIT) -> None:
    data = SHARED / "data"
    load_movielens100k(
        store,
        data / "movielens-100k",
        kg_dir=data / "movielens-dbpedia-kg",
        split_file=split_file,
    )


def trained(store: MemoryGraphStore, checkpoint: Path, epochs: int) -> tuple[Recommender, object]:
    """A calibrated recommender on ``store``, from ``checkpoint`` if it fits, else trained,
    calibrated on the valid split and saved."""
    snapshot = store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), Path.home() / ".cache" / "kgrec"))
    graph = training_graph(snapshot, text)
    try:
        rec = Recommender.from_checkpoint(checkpoint, store)
        if rec.calibration is None:  # saved before calibration existed
            rec.calibrate()
        return rec, graph
    except (KgrecError, FileNotFoundError) as exc:
        log.info("training a model (%s)", exc)
    seed_everything(2020)
    model = KGRecModel(graph)
    Trainer(model, snapshot, TrainConfig(**KGREC_TRAINING, epochs=epochs, patience=10)).fit(checkpoint)
    rec = Recommender(model, store, snapshot)
    rec.calibrate()
    rec.save(checkpoint, text_model="default")
    return rec, graph


def rounded(row: dict) -> dict:
    return {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}


def calibration(rec: Recommender) -> dict:
    """The served calibration's reliability on the test split (top-``K`` of every test user,
    10 equal-mass bins), ``sigmoid(logit)``'s ECE on the same pairs, and the valid-split
    comparison of the methods that chose it."""
    test = reliability(rec.calibration, rec.model, rec.snapshot, k=K)
    return {
        **rounded({k: v for k, v in test.items() if k != "bins"}),
        "bins": [rounded(row) for row in test["bins"]],
        "ece_sigmoid_logit": round(reliability(None, rec.model, rec.snapshot, k=K)["ece"], 5),
        "fitted_on": rec.calibration.fitted_on,
        "valid_two_fold": {m: rounded(v) for m, v in compare_methods(rec.model, rec.snapshot, k=K).items()},
    }


def percentiles(values: list[float]) -> dict[str, float]:
    q = np.percentile(np.asarray(values) * 1000, [50, 95, 99])
    return {"p50": round(q[0], 2), "p95": round(q[1], 2), "p99": round(q[2], 2)}


PARTS = ("scoring", "path_retrieval", "ranking")


def latency(rec: Recommender, users: list[str], warmup: list[str], repeats: int) -> dict:
    """:func:`latency_once` ``repeats`` times over the same requests; every figure is the
    median over the repeats (each repeat's percentiles are kept under ``"repeats"``)."""
    for user in warmup:
        rec.recommend(user, k=K)
    runs = [latency_once(rec, users) for _ in range(repeats)]
    quantiles = ("p50", "p95", "p99")

    def median(rows: list[dict]) -> dict[str, float]:
        return {q: round(statistics.median(row[q] for row in rows), 2) for q in quantiles}

    return {
        **median(runs),
        **{part: median([run[part] for run in runs]) for part in PARTS},
        "requests": len(users),
        "warmup_requests": len(warmup),
        "repeats": [{q: run[q] for q in quantiles} for run in runs],
    }


def latency_once(rec: Recommender, users: list[str]) -> dict:
    """Per request: scoring alone, retrieval alone, then the whole explained request."""
    total, scoring, retrieval = [], [], []
    for user in users:
        t0 = time.perf_counter()
        items = [r.item_id for r in rec.recommend(user, k=K, explain=False)]
        t1 = time.perf_counter()
        rec.candidate_paths(user, items)
        t2 = time.perf_counter()
        rec.recommend(user, k=K)
        t3 = time.perf_counter()
        scoring.append(t1 - t0)
        retrieval.append(t2 - t1)
        total.append(t3 - t2)
    ranking = [max(t - s - r, 0.0) for t, s, r in zip(total, scoring, retrieval)]
    return {
        **percentiles(total),
        "scoring": percentiles(scoring),
        "path_retrieval": percentiles(retrieval),
        "ranking": percentiles(ranking),
    }


def throughput(rec: Recommender, users: list[str], batch: int = 64) -> dict:
    out = {}
    for explain in (False, True):
        start = time.perf_counter()
        for k in range(0, len(users), batch):
            rec.recommend_batch(users[k : k + batch], k=K, explain=explain)
        out["explained" if explain else "scores_only"] = round(len(users) / (time.perf_counter() - start), 1)
    return out


def page_sizes(rec: Recommender, users: list[str], k: int = 10) -> dict:
    """The explanation pages of ``users``' top-``k`` in KB: each user's "why these k" page
    (:func:`recommendations_html`) and each item's own page (:func:`explanation_html`)."""
    top_k, single = [], []
    for user in users:
        recs = rec.recommend(user, k=k)
        top_k.append(len(recommendations_html(recs).encode()) / 1024)
        single += [len(explanation_html(r.explanation).encode()) / 1024 for r in recs]
    return {"users": len(users), "k": k, "top_k_page_kb_max": round(max(top_k), 1),
            "top_k_page_kb_median": round(statistics.median(top_k), 1),
            "item_page_kb_max": round(max(single), 1), "item_page_kb_median": round(statistics.median(single), 1)}


def fidelity_and_diversity(rec: Recommender, users: list[str]) -> dict:
    """Fidelity@K over all users, over users with train interactions and over those without
    (whose only paths go through their attributes), and path diversity."""
    with_path = {True: 0, False: 0}  # by "user has train interactions"
    items = {True: 0, False: 0}
    cold = []
    entities, relations = [], []
    train_users = set(rec.snapshot.interactions.edge_index(("train",))[0].tolist())
    for user in users:
        recs = rec.recommend(user, k=K)
        warm = int(rec.snapshot.index_of("user", [user])[0]) in train_users
        cold += [] if warm else [user]
        items[warm] += len(recs)
        with_path[warm] += sum(bool(r.explanation.paths) for r in recs)
        paths = [p for r in recs for p in r.explanation.paths]
        entities.append(len({n.id for p in paths for n in p.path.nodes if n.label.value == "Entity"}))
        relations.append(len({rel for p in paths for rel in p.path.relations}))
    return {
        f"fidelity@{K}": round(sum(with_path.values()) / sum(items.values()), 4),
        f"fidelity@{K}_users_with_train_interactions": round(with_path[True] / items[True], 4),
        f"fidelity@{K}_users_without_train_interactions": (
            round(with_path[False] / items[False], 4) if items[False] else None
        ),
        "users_without_train_interactions": cold,
        "distinct_entities_per_user": round(statistics.mean(entities), 2),
        "distinct_relation_types_per_user": round(statistics.mean(relations), 2),
    }


def hop_edges(path: GraphPath, snapshot: Snapshot) -> list[tuple[tuple[str, str, str], int, int]]:
    """The path's edges as (edge type, head index, tail index) in the training graph."""
    edges = []
    for k, (rel, forward) in enumerate(zip(path.relations, path.forward)):
        a, b = path.nodes[k], path.nodes[k + 1]
        head, tail = (a, b) if forward else (b, a)
        edges.append(
            (
                (head.label.key, rel, tail.label.key),
                int(snapshot.index_of(head.label.key, [head.id])[0]),
                int(snapshot.index_of(tail.label.key, [tail.id])[0]),
            )
        )
    return edges


def unit_edges(path: GraphPath, snapshot: Snapshot) -> list[tuple[tuple[str, str, str], int, int]]:
    """The edges whose deletion deletes ``path`` as one unit: its own (:func:`hop_edges`), and
    for a path through other users (``u -> a <- peer -> i``, an aggregate: see
    ``GraphPath.support``) the peer's two edges for every user it stands for, i.e. every
    other user with the same edge to ``a`` and a train interaction with ``i``."""
    edges = hop_edges(path, snapshot)
    if path.peer is None:
        return edges

    def holders(edge_type: tuple[str, str, str], tail: int) -> set[int]:
        index = (
            snapshot.interactions.edge_index(("train",))
            if edge_type[1] == INTERACTED
            else snapshot.triples[edge_type]
        )
        return set(index[0][index[1] == tail].tolist())

    (to_a, _, a), (to_i, _, i) = edges[1], edges[2]
    users = (holders(to_a, a) & holders(to_i, i)) - {edges[0][1]}
    if len(users) != path.support:
        raise RuntimeError(f"{path} stands for {len(users)} users in the snapshot, not its support")
    return edges[:1] + [(to_a, c, a) for c in sorted(users)] + [(to_i, c, i) for c in sorted(users)]


def score_without(rec: Recommender, graph, edges, user: int, item: int) -> float:
    """The model's logit for (user, item) after deleting ``edges`` (and their inverses)."""
    graph = graph.clone()
    for (h, rel, t), i, j in edges:
        for edge_type, x, y in (((h, rel, t), i, j), ((t, f"rev_{rel}", h), j, i)):
            index = graph[edge_type].edge_index
            graph[edge_type].edge_index = index[:, ~((index[0] == x) & (index[1] == y))]
    model = type(rec.model)(graph, **rec.model.hparams())
    model.load_state_dict(rec.model.state_dict())
    model.eval()
    with torch.no_grad():
        return float(model.score(model.encode(), torch.tensor([user]), torch.tensor([item]))[0, 0])


def deletion_test(rec: Recommender, graph, users: list[str], items_per_user: int, seed: int) -> dict:
    rng = random.Random(seed)
    snapshot = rec.snapshot
    with torch.no_grad():
        base = rec.model.score(rec.model.encode(), snapshot.index_of("user", users))
    top_drops, random_drops, supports = [], [], {"top": [], "random": []}
    for row, user in enumerate(users):
        for r in rec.recommend(user, k=items_per_user):
            everything = rec.store.paths(user, [r.item_id], limit=ALL_PATHS)[r.item_id]
            units = {p.aggregate_key(): p for p in everything}  # a path through users is one
            if not r.explanation.paths or len(units) < 2:
                continue
            top = r.explanation.paths[0].path
            other = rng.choice([p for key, p in units.items() if key != top.aggregate_key()])
            for kind, p in (("top", top), ("random", other)):
                if p.peer is not None:
                    supports[kind].append(p.support)
            u = int(snapshot.index_of("user", [user])[0])
            i = int(snapshot.index_of("item", [r.item_id])[0])
            before = float(base[row, i])
            top_drops.append(before - score_without(rec, graph, unit_edges(top, snapshot), u, i))
            random_drops.append(before - score_without(rec, graph, unit_edges(other, snapshot), u, i))
    top_mean, random_mean = statistics.mean(top_drops), statistics.mean(random_drops)
    return {
        "pairs": len(top_drops),
        "mean_drop_top_path": round(top_mean, 5),
        "mean_drop_random_path": round(random_mean, 5),
        "deletion_drop_ratio": round(top_mean / random_mean, 3) if random_mean > 0 else None,
        "top_beats_random_share": round(statistics.mean(t > x for t, x in zip(top_drops, random_drops)), 3),
        # paths through other users, deleted as one unit: how many, and the users behind them
        "aggregated_paths": {
            kind: {"pairs": len(found), "mean_support": round(statistics.mean(found), 1) if found else None}
            for kind, found in supports.items()
        },
    }


def vector_recall(rec: Recommender, neo4j: Neo4jGraphStore, users: list[str]) -> dict:
    """Recall@K of the Neo4j vector index against exact cosine top-K, user -> items."""
    emb = rec.node_embeddings
    items = rec.snapshot.node_ids["item"]
    item_vectors = emb["item"].detach().numpy()
    neo4j.write_embeddings("Item", items, item_vectors)
    neo4j.create_vector_index("Item", dimensions=item_vectors.shape[1], replace=True)
    normed = item_vectors / np.linalg.norm(item_vectors, axis=1, keepdims=True)
    user_vectors = emb["user"].detach().numpy()[rec.snapshot.index_of("user", users).numpy()]
    recalls, seconds = [], []
    for vector in user_vectors:
        exact = {items[j] for j in np.argsort(-(normed @ vector))[:K]}
        start = time.perf_counter()
        found = {i for i, _ in neo4j.query_vector_index("Item", vector, K)}
        seconds.append(time.perf_counter() - start)
        recalls.append(len(found & exact) / K)
    return {f"recall@{K}": round(statistics.mean(recalls), 4), "latency_ms": percentiles(seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100, help="untimed requests before timing")
    ap.add_argument("--repeats", type=int, default=3, help="latency runs; medians are reported")
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/explain"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--deletion-users", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-neo4j", action="store_true")
    ap.add_argument(
        "--serving-threads",
        type=int,
        default=1,
        help="torch intra-op threads while serving (a request's tensors are tiny; a second "
        "thread only spins against the Neo4j server on a 2-core box)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    memory = MemoryGraphStore()
    load(memory)
    rec, graph = trained(memory, args.checkpoint, args.epochs)
    all_users = rec.snapshot.node_ids["user"]
    rng = random.Random(args.seed)
    requests = [rng.choice(all_users) for _ in range(args.requests + args.warmup)]
    requests, warmup = requests[: args.requests], requests[args.requests :]

    result: dict = {"machine": machine(), "versions": versions("torch", "torch-geometric", "neo4j")}
    result["data"] = "ml100k + DBpedia KG, split ../shared/benchmarks/ml100k/split.tsv"
    result["seed"] = args.seed
    result["k"] = K
    torch.set_num_threads(args.serving_threads)  # training above used the default
    result["serving_torch_threads"] = args.serving_threads
    result["recommender"] = {
        "anchors_per_item": rec.explainer.anchors_per_item,
        "peers": rec.explainer.peers,
        "paths_considered": rec.explainer.paths_considered,
        "paths_per_item": rec.explainer.paths_per_item,
    }
    result["latency_ms"] = {"embedded": latency(rec, requests, warmup, args.repeats)}
    result["throughput_users_per_s"] = {"embedded": throughput(rec, all_users)}
    result.update(fidelity_and_diversity(rec, all_users))
    result["deletion"] = deletion_test(rec, graph, rng.sample(all_users, args.deletion_users), 3, args.seed)
    result["deletion_drop_ratio"] = result["deletion"]["deletion_drop_ratio"]
    result["calibration"] = calibration(rec)
    result["html_pages"] = page_sizes(rec, rng.sample(all_users, 50))
    result["html_kb"] = max(result["html_pages"]["top_k_page_kb_max"], result["html_pages"]["item_page_kb_max"])

    if not args.skip_neo4j:
        with neo4j_server() as uri, Neo4jGraphStore.connect(uri) as neo4j:
            neo4j.clear()
            load(neo4j)
            served = Recommender(rec.model, neo4j, calibration=rec.calibration)
            same = [served.recommend(u, k=K) == rec.recommend(u, k=K) for u in all_users[:50]]
            result["stores_agree_on_50_users"] = all(same)
            result["latency_ms"]["neo4j"] = latency(served, requests, warmup, args.repeats)
            result["throughput_users_per_s"]["neo4j"] = throughput(served, all_users)
            result["vector_index"] = vector_recall(rec, neo4j, all_users)
            result["versions"] = versions("torch", "torch-geometric", "neo4j", driver=neo4j.driver)

    path = write_result("explain", result)
    print(f"\n{'store':<10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'score p50':>11}{'paths p50':>11}{'rank p50':>10}{'users/s':>9}")
    for store, lat in result["latency_ms"].items():
        tp = result["throughput_users_per_s"][store]["explained"]
        print(
            f"{store:<10}{lat['p50']:>9}{lat['p95']:>9}{lat['p99']:>9}{lat['scoring']['p50']:>11}"
            f"{lat['path_retrieval']['p50']:>11}{lat['ranking']['p50']:>10}{tp:>9}"
        )
    print(
        f"Fidelity@{K} {result[f'fidelity@{K}']} (users with train interactions: "
        f"{result[f'fidelity@{K}_users_with_train_interactions']}, without: "
        f"{result[f'fidelity@{K}_users_without_train_interactions']})  deletion {result['deletion']}"
    )
    print(f"diversity: {result['distinct_entities_per_user']} entities, {result['distinct_relation_types_per_user']} relation types per user")
    cal = result["calibration"]
    print(f"largest explanation page {result['html_kb']} KB ({result['html_pages']})")
    print(f"calibration {cal['method']}: test ECE@{K} {cal['ece']} (sigmoid(logit) {cal['ece_sigmoid_logit']})")
    if "vector_index" in result:
        print(f"vector index {result['vector_index']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
