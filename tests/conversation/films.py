"""A small film graph for the conversation tests: 20 films with years, genres and people."""

from __future__ import annotations

from kgrec import GraphStore, Interaction, NodeLabel, NodeRecord, Triple

#: id, name, year, genres, {relation: [people]}
FILMS = [
    ("1", "Fargo (1996)", 1996, ["Crime", "Drama", "Thriller"],
     {"director": ["Joel Coen"], "starring": ["Frances McDormand", "Steve Buscemi"]}),
    ("2", "Godfather, The (1972)", 1972, ["Crime", "Drama"],
     {"director": ["Francis Ford Coppola"], "starring": ["Marlon Brando", "Al Pacino"]}),
    ("3", "Godfather: Part II, The (1974)", 1974, ["Crime", "Drama"],
     {"director": ["Francis Ford Coppola"], "starring": ["Al Pacino", "Robert De Niro"]}),
    ("4", "Seven (Se7en) (1995)", 1995, ["Crime", "Thriller"],
     {"director": ["David Fincher"], "starring": ["Brad Pitt", "Kevin Spacey"]}),
    ("5", "Usual Suspects, The (1995)", 1995, ["Crime", "Thriller"],
     {"director": ["Bryan Singer"], "starring": ["Kevin Spacey", "Gabriel Byrne"]}),
    ("6", "Top Gun (1986)", 1986, ["Action", "Romance"],
     {"director": ["Tony Scott"], "starring": ["Tom Cruise"]}),
    ("7", "Jerry Maguire (1996)", 1996, ["Drama", "Romance"],
     {"director": ["Cameron Crowe"], "starring": ["Tom Cruise"]}),
    ("8", "Scream (1996)", 1996, ["Horror", "Thriller"], {"director": ["Wes Craven"]}),
    ("9", "Shining, The (1980)", 1980, ["Horror"],
     {"director": ["Stanley Kubrick"], "starring": ["Jack Nicholson"]}),
    ("10", "Sense and Sensibility (1995)", 1995, ["Drama", "Romance"],
     {"director": ["Ang Lee"], "starring": ["Emma Thompson"]}),
    ("11", "Amélie (2001)", 2001, ["Comedy", "Romance"], {"director": ["Jean-Pierre Jeunet"]}),
    ("12", "L.A. Confidential (1997)", 1997, ["Crime", "Film-Noir", "Mystery", "Thriller"],
     {"director": ["Curtis Hanson"], "starring": ["Kevin Spacey", "Russell Crowe"]}),
    ("13", "Chasing Amy (1997)", 1997, ["Comedy", "Romance"], {}),
    ("14", "Chasing Amy (1997)", 1997, ["Comedy", "Romance"], {"director": ["Kevin Smith"]}),
    ("15", "Heavy (1995)", 1995, ["Drama"], {}),
    ("16", "American Beauty (1999)", 1999, ["Comedy", "Drama"],
     {"director": ["Sam Mendes"], "starring": ["Kevin Spacey"]}),
    ("17", "Evita (1996)", 1996, ["Drama", "Musical"],
     {"director": ["Alan Parker (director)"], "musicComposer": ["Alan Parker (musician)"]}),
    ("18", "Mississippi Burning (1988)", 1988, ["Crime", "Drama"],
     {"director": ["Alan Parker (director)"], "starring": ["Gene Hackman"]}),
    ("19", "Toy Story (1995)", 1995, ["Animation", "Children's", "Comedy"],
     {"director": ["John Lasseter"], "starring": ["Tom Hanks"]}),
    ("20", "Alien (1979)", 1979, ["Horror", "Sci-Fi"],
     {"director": ["Ridley Scott"], "starring": ["Sigourney Weaver"]}),
]
GENRES = ["Action", "Animation", "Children's", "Comedy", "Crime", "Drama", "Film-Noir", "Horror", "Musical",
          "Mystery", "Romance", "Sci-Fi", "Thriller"]


def person_id(name: str) -> str:
    return "person:" + name.lower().replace(" ", "_").replace("(", "").replace(")", "")


def film_graph(store: GraphStore) -> None:
    """Write the films, genres, people and a few users' interactions into ``store``."""
    store.upsert_nodes(
        "Item",
        [NodeRecord(i, f"{name}. Genres: {', '.join(g)}.", name, {"year": year})
         for i, name, year, g, _ in FILMS],
    )
    people = sorted({p for *_, rels in FILMS for names in rels.values() for p in names})
    store.upsert_nodes(
        "Entity",
        [NodeRecord(f"genre:{g}", f"{g} (film genre)", g) for g in GENRES]
        + [NodeRecord(person_id(p), p, p) for p in people],
    )
    triples = [Triple(i, "has_genre", f"genre:{g}", NodeLabel.ITEM) for i, _, _, gs, _ in FILMS for g in gs]
    triples += [
        Triple(i, rel, person_id(p), NodeLabel.ITEM)
        for i, *_, rels in FILMS
        for rel, names in rels.items()
        for p in names
    ]
    store.upsert_triples(triples)
    store.upsert_nodes("User", [NodeRecord(f"u{k}", f"user {k}") for k in range(4)])
    store.upsert_interactions(
        [Interaction(f"u{k}", i) for k in range(4) for i in ("1", "2", "4", "14")]
        + [Interaction("u0", i) for i in ("5", "6", "9")]
    )
