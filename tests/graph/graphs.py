"""Small graphs the graph tests build on either store."""

from __future__ import annotations

import random

from kgrec import GraphStore, Interaction, NodeLabel, NodeRecord, Triple

GENRES = ["Action", "Drama", "SciFi"]
RELATIONS = ["director", "starring", "has_genre"]


def toy_graph(store: GraphStore) -> None:
    """Two users, four films, a director and a genre::

        alice -> Alien, Brazil(test)      bob -> Alien, Blade Runner
        Alien, Blade Runner -[director]-> Ridley Scott
        Alien, Blade Runner, Dune -[has_genre]-> SciFi
    """
    store.upsert_nodes(
        "User", [NodeRecord("alice", "a 30-year-old engineer"), NodeRecord("bob", name="Bob")]
    )
    store.upsert_nodes(
        "Item",
        [
            NodeRecord("alien", "Alien (1979), sci-fi horror", "Alien (1979)", {"year": 1979}),
            NodeRecord("blade", "Blade Runner (1982)", "Blade Runner (1982)", {"year": 1982}),
            NodeRecord("brazil", "Brazil (1985)", "Brazil (1985)"),
            NodeRecord("dune", "Dune (1984)", "Dune (1984)", {"tags": ["desert", "spice"]}),
        ],
    )
    store.upsert_nodes(
        "Entity",
        [NodeRecord("ridley", "Ridley Scott", "Ridley Scott"), NodeRecord("scifi", name="SciFi")],
    )
    store.upsert_interactions(
        [
            Interaction("alice", "alien", rating=5.0, timestamp=100),
            Interaction("alice", "brazil", rating=4.0, timestamp=200, split="test"),
            Interaction("bob", "alien", rating=4.0, weight=0.5),
            Interaction("bob", "blade", rating=5.0, timestamp=300),
        ]
    )
    store.upsert_triples(
        [
            Triple("alien", "director", "ridley", NodeLabel.ITEM),
            Triple("blade", "director", "ridley", NodeLabel.ITEM),
            Triple("alien", "has_genre", "scifi", NodeLabel.ITEM),
            Triple("blade", "has_genre", "scifi", NodeLabel.ITEM),
            Triple("dune", "has_genre", "scifi", NodeLabel.ITEM),
        ]
    )


def random_graph(store: GraphStore, seed: int, users: int = 12, items: int = 20, entities: int = 8):
    """A seeded random graph with all three labels, every split and item-item relations."""
    rng = random.Random(seed)
    store.upsert_nodes("User", [NodeRecord(f"u{k}", f"user {k}") for k in range(users)])
    store.upsert_nodes("Item", [NodeRecord(str(k), f"item {k}", f"Item {k}") for k in range(items)])
    store.upsert_nodes("Entity", [NodeRecord(f"e{k}", name=f"Entity {k}") for k in range(entities)])
    store.upsert_interactions(
        Interaction(
            f"u{u}",
            str(i),
            rating=float(rng.randint(1, 5)),
            timestamp=rng.randint(0, 10**9),
            split=rng.choice(["train", "train", "train", "valid", "test"]),
        )
        for u in range(users)
        for i in rng.sample(range(items), 5)
    )
    triples = [
        Triple(str(rng.randrange(items)), rng.choice(RELATIONS), f"e{rng.randrange(entities)}", "Item")
        for _ in range(40)
    ]
    triples += [Triple(str(rng.randrange(items)), "sequel_of", str(rng.randrange(items)), "Item", "Item") for _ in range(5)]
    triples += [Triple(f"e{rng.randrange(entities)}", "part_of", f"e{rng.randrange(entities)}") for _ in range(5)]
    store.upsert_triples(triples)


def users_behind(snapshot, path, splits=("train",)) -> set[str]:
    """The users a path ``user -> a <- peer -> item`` stands for, from ``snapshot`` alone: the
    users other than ``user`` linked to ``a`` by the path's second relation (an interaction in
    ``splits`` or the same attribute relation) who interacted with ``item`` in ``splits``."""
    users = snapshot.node_ids["user"]
    played = snapshot.interactions.edge_index(splits)

    def holders(relation: str, node) -> set[str]:
        if relation == "INTERACTED":
            edges, row = played, snapshot.node_ids["item"].index(node.id)
        else:
            edges = snapshot.triples[("user", relation, "entity")]
            row = snapshot.node_ids["entity"].index(node.id)
        return {users[u] for u in edges[0][edges[1] == row].tolist()}

    a, item = path.nodes[1], path.nodes[3]
    return (holders(path.relations[1], a) & holders("INTERACTED", item)) - {path.nodes[0].id}


def check_support(store, user: str, items: list[str], splits, **kwargs) -> list[int]:
    """Assert that every path ``store.paths`` returns through another user counts the users it
    stands for (:func:`users_behind`), that the others count nothing, and, without ``peers``,
    that the paths of one aggregate go through exactly those users; returns the supports."""
    snapshot = store.snapshot()
    seen = []
    for paths in store.paths(user, items, splits=splits, limit=10_000, **kwargs).values():
        behind: dict[tuple, set[str]] = {}
        through: dict[tuple, set[str]] = {}
        for p in paths:
            if p.peer is None:
                assert p.support is None, p
                continue
            users = behind.setdefault(p.aggregate_key(), users_behind(snapshot, p, splits))
            assert p.peer.id in users and p.support == len(users), (p, users)
            through.setdefault(p.aggregate_key(), set()).add(p.peer.id)
            seen.append(p.support)
        if "peers" not in kwargs:
            assert through == behind
    return seen
