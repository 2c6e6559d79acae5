"""Linking a phrase to the item or entity of the graph it names: :class:`EntityLinker`.

Tiers, in order: a word of the alias table (``alias``: "funny" -> Comedy, "kids" ->
Children's, used only when the graph has that genre); the phrase is a node's name as stored
(``exact``); the name folded (``normalized``: case, accents, punctuation, a leading article,
a trailing "(1996)" or "(actor)", "Usual Suspects, The", an alternative title in parentheses,
a plural: "fargo" -> "Fargo (1996)", "thrillers" -> Thriller); a misspelling (``fuzzy``:
rapidfuzz, :data:`FUZZY_THRESHOLD`); what it means (``meaning``: a
:class:`~kgrec.conversation.meaning.MeaningSearch`, when one is given).

Ambiguity: when several nodes share the matched key ("Chasing Amy (1997)" is two ml100k items,
"Alan Marshall" two entities), the linker takes the most connected node (interactions of every
split plus knowledge-graph edges), then the item, then the smallest id.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np
import torch
from rapidfuzz import fuzz, process

from kgrec.conversation.meaning import MeaningSearch
from kgrec.conversation.request import Mention
from kgrec.conversation.words import (
    STOP_WORDS,
    YEAR,
    can_name,
    name_keys,
    phrase_key,
    singular,
    words,
)
from kgrec.checks import int_in_range
from kgrec.errors import InvalidValueError, shown
from kgrec.graph.schema import NodeLabel
from kgrec.graph.snapshot import Snapshot, id_order
from kgrec.graph.store import GraphStore
from kgrec.text.node_vectors import Encodes

log = logging.getLogger(__name__)

#: The least rapidfuzz ``fuzz.ratio`` (0-100) of a fuzzy match. One letter dropped or doubled
#: scores 1 - 1 / (2n - 1) in a key of n letters, one replaced or swapped 1 - 2 / 2n, so 86
#: admits a dropped letter from 5 letters on and a replaced one from 8 on. Measured on the ml100k
#: names (9,639 keys; 3,000 sampled, one random typo each): the right node for 100% of keys of
#: 12+ letters, 99.9% of 8-11, 52% of 5-7 (85 would take 78% of those, but also "snakes" ->
#: Sneakers and "vacation" -> Action), a wrong node for 0.1%; of 157 request phrases that are no
#: title ("great acting", "serial killer", "vacation"), only "ghosts" (-> Ghost) passes.
FUZZY_THRESHOLD = 86.0

#: Phrases scored per rapidfuzz ``cdist`` call (a [batch, keys] float32 matrix: 10 MB for ml100k).
FUZZY_BATCH = 256

#: The shortest key a fuzzy match is tried for, in characters (a shorter one cannot reach the
#: threshold with any other key).
FUZZY_MIN_CHARS = 4

#: Genre words of English requests and the genre they mean, as name keys (the genre's folded
#: name). An alias whose genre the graph does not have is ignored.
GENRE_ALIASES: Mapping[str, str] = {
    "scary": "horror",
    "spooky": "horror",
    "funny": "comedy",
    "comedic": "comedy",
    "hilarious": "comedy",
    "romantic": "romance",
    "love story": "romance",
    "love stories": "romance",
    "animated": "animation",
    "cartoon": "animation",
    "anime": "animation",
    "kids": "childrens",
    "children": "childrens",
    "family": "childrens",
    "science fiction": "sci fi",
    "scifi": "sci fi",
    "noir": "film noir",
    "gangster": "crime",
    "suspense": "thriller",
    "suspenseful": "thriller",
    "thrilling": "thriller",
    "dramatic": "drama",
    "cowboy": "western",
    "whodunit": "mystery",
    "documentaries": "documentary",
}


@dataclass(frozen=True, slots=True)
class LinkedNode:
    """A node a phrase can link to: its label, id, name, how connected it is, and the
    relation types linking items to it (entities only)."""

    label: NodeLabel
    id: str
    name: str
    degree: int
    relations: tuple[str, ...]

    def rank(self) -> tuple:
        """Most connected first, then items, then by id."""
        return (-self.degree, self.label is not NodeLabel.ITEM, id_order(self.id))

    def mention(self, phrase: str, how: str, score: float) -> Mention:
        return Mention(phrase, self.label, self.id, self.name, how, score, self.relations)


def _graph_nodes(snapshot: Snapshot) -> list[LinkedNode]:
    """The named items of ``snapshot``, and its named entities with a knowledge-graph edge to an
    item or entity (not those that only users link to, such as an occupation: no item could be
    recommended for them), with their degree and relations."""
    kinds = ("item", "entity")
    degree = {t: torch.zeros(snapshot.num_nodes(t), dtype=torch.long) for t in kinds}
    degree["item"] += torch.bincount(snapshot.interactions.item, minlength=snapshot.num_nodes("item"))
    relations: dict[int, set[str]] = defaultdict(set)
    for (head, relation, tail), edge_index in snapshot.triples.items():
        if head not in kinds or tail not in kinds:
            continue
        for end, node_type in ((0, head), (1, tail)):
            degree[node_type] += torch.bincount(edge_index[end], minlength=snapshot.num_nodes(node_type))
        if {head, tail} == {"item", "entity"}:
            for k in edge_index[1 if tail == "entity" else 0].unique().tolist():
                relations[k].add(relation)
    nodes = []
    for label in (NodeLabel.ITEM, NodeLabel.ENTITY):
        names = snapshot.node_name[label.key]
        for k, (node_id, name) in enumerate(zip(snapshot.node_ids[label.key], names)):
            if not name or (label is NodeLabel.ENTITY and not int(degree["entity"][k])):
                continue
            rels = tuple(sorted(relations[k])) if label is NodeLabel.ENTITY else ()
            nodes.append(LinkedNode(label, node_id, name, int(degree[label.key][k]), rels))
    return nodes


class EntityLinker:
    """Links phrases to the named items of ``snapshot`` and its named entities that have a
    knowledge-graph edge to an item or entity (an entity only users link to, such as an
    occupation, is left out); see the module docstring for the tiers and the rule for
    ambiguous names.

    ``meaning`` adds the meaning tier; ``fuzzy_threshold`` is the least rapidfuzz ratio of a
    fuzzy match (:data:`FUZZY_THRESHOLD`); ``aliases`` maps phrase keys to genre keys
    (:data:`GENRE_ALIASES`). A phrase made only of stop words, describing words or numbers
    ("a", "the", "nothing too heavy", "1995") never links by name or spelling.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        meaning: MeaningSearch | None = None,
        fuzzy_threshold: float = FUZZY_THRESHOLD,
        aliases: Mapping[str, str] = GENRE_ALIASES,
    ) -> None:
        if isinstance(fuzzy_threshold, bool) or not isinstance(fuzzy_threshold, (int, float)) or not (
            0 < fuzzy_threshold <= 100
        ):
            raise InvalidValueError(f"fuzzy_threshold must be in (0, 100], got {shown(fuzzy_threshold)}")
        self.meaning = meaning
        self.fuzzy_threshold = float(fuzzy_threshold)
        self._nodes: dict[tuple[NodeLabel, str], LinkedNode] = {}
        exact: dict[str, list[LinkedNode]] = defaultdict(list)
        keys: dict[str, list[LinkedNode]] = defaultdict(list)
        for node in _graph_nodes(snapshot):
            self._nodes[(node.label, node.id)] = node
            exact[node.name].append(node)
            for key in name_keys(node.name, alternatives=node.label is NodeLabel.ITEM).keys:
                keys[key].append(node)
        self._exact = {name: sorted(nodes, key=LinkedNode.rank) for name, nodes in exact.items()}
        self._keys = {key: sorted(nodes, key=LinkedNode.rank) for key, nodes in keys.items()}
        genres = {
            alias: [n for n in self._keys.get(genre, ()) if n.label is NodeLabel.ENTITY]
            for alias, genre in aliases.items()
        }
        self._aliases = {phrase_key(words(alias)): nodes for alias, nodes in genres.items() if nodes}
        self._choices = sorted(self._keys)
        #: The most words of any key: longer phrases never match by name.
        self.max_words = max((key.count(" ") + 1 for key in self._keys), default=0)

    @classmethod
    def from_store(
        cls,
        store: GraphStore,
        *,
        encoder: Encodes | None = None,
        text_vectors: Mapping[str, torch.Tensor | None] | None = None,
        meaning_labels: Sequence[NodeLabel | str] = (NodeLabel.ENTITY,),
        **options,
    ) -> "EntityLinker":
        """A linker over ``store``'s current graph. With an ``encoder`` (what encodes the
        phrases of requests), the text vectors of ``meaning_labels`` are written to the store
        and indexed for the meaning tier (:meth:`MeaningSearch.index`): ``text_vectors``, the
        snapshot's :func:`~kgrec.text.node_text_vectors` by the same model, saves encoding
        them again (about 4 minutes of CPU for the 6,303 ml100k entities)."""
        snapshot = store.snapshot()
        meaning = None
        if encoder is not None:
            meaning = MeaningSearch(store, encoder, labels=meaning_labels)
            meaning.index(snapshot, text_vectors)
        return cls(snapshot, meaning=meaning, **options)

    def name_of(self, label: NodeLabel | str, node_id: str) -> str | None:
        """The display name of a node the linker links, else ``None``."""
        node = self._nodes.get((NodeLabel.parse(label), node_id))
        return None if node is None else node.name

    # -- tiers over folded words (the parser's entry points) ------------------------------------
    def match_name(
        self, phrase: str, norms: Sequence[str], surface: Sequence[str] = ()
    ) -> Mention | None:
        """The alias, exact or normalized match of a phrase whose folded words are ``norms``.
        ``surface`` are spellings of the phrase as written, tried for the exact tier (default:
        ``phrase``); an exact match's phrase is the spelling that matched."""
        for how, text, nodes in self._name_tiers(phrase, norms, surface):
            return nodes[0].mention(text, how, 1.0)
        return None

    def _name_tiers(
        self, phrase: str, norms: Sequence[str], surface: Sequence[str]
    ) -> Iterator[tuple[str, str, list[LinkedNode]]]:
        """``(how, matched phrase, nodes in ambiguity order)`` of each name tier that matches,
        most literal first (:meth:`match_name` takes the first)."""
        key = phrase_key(norms)
        nameable = self._nameable(norms)
        if key in self._aliases:
            yield "alias", phrase, self._aliases[key]
        if nameable:
            for text in surface or (phrase,):
                if text in self._exact:
                    yield "exact", text, self._exact[text]
            if key in self._keys:
                yield "normalized", phrase, self._keys[key]
        one = singular(key)  # "thrillers", "cartoons"
        if one in self._aliases:
            yield "alias", phrase, self._aliases[one]
        if nameable and one in self._keys:
            yield "normalized", phrase, self._keys[one]

    def match_spelling(self, phrase: str, norms: Sequence[str]) -> Mention | None:
        """The fuzzy match of a phrase whose folded words are ``norms``: the key with the
        highest ratio of at least :attr:`fuzzy_threshold` (ties: :meth:`LinkedNode.rank`)."""
        return self.match_spellings([(phrase, norms)])[0]

    def match_spellings(self, phrases: Sequence[tuple[str, Sequence[str]]]) -> list[Mention | None]:
        """:meth:`match_spelling` of each ``(phrase, norms)``, scored in batches by one
        rapidfuzz ``cdist`` each (several times faster than one search per phrase)."""
        found: list[Mention | None] = [None] * len(phrases)
        keys = [phrase_key(norms) for _, norms in phrases]
        todo = [
            k for k, (key, (_, norms)) in enumerate(zip(keys, phrases))
            if len(key) >= FUZZY_MIN_CHARS and self._nameable(norms)
        ]
        for start in range(0, len(todo), FUZZY_BATCH):
            batch = todo[start : start + FUZZY_BATCH]
            scores = process.cdist(
                [keys[k] for k in batch],
                self._choices,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=self.fuzzy_threshold,
                dtype=np.float32,
                workers=1,
            )
            for k, row in zip(batch, scores):
                best = float(row.max(initial=0.0))
                if best < self.fuzzy_threshold:
                    continue
                tied = np.flatnonzero(row == row.max())
                nodes = [n for c in tied for n in self._keys[self._choices[c]]]
                node = min(nodes, key=LinkedNode.rank)
                found[k] = node.mention(phrases[k][0], "fuzzy", round(best / 100, 4))
        return found

    def match_meaning(self, phrase: str) -> Mention | None:
        """The meaning match of ``phrase`` (``None`` without a :attr:`meaning` search)."""
        if self.meaning is None or all(w in STOP_WORDS for w in words(phrase)):
            return None
        hit = self.meaning.best(phrase)
        if hit is None:
            return None
        node = self._nodes.get((hit.label, hit.id))
        if node is None:  # a node the linker leaves out (a user attribute) or added since
            log.debug("meaning search found %s %r, which the linker does not link", hit.label.value, hit.id)
            return None
        return node.mention(phrase, "meaning", min(1.0, max(0.0, round(hit.score, 4))))

    # -- whole phrases --------------------------------------------------------------------------
    def link(self, phrase: str) -> Mention | None:
        """The node ``phrase`` names, trying each tier in turn; ``None`` when it names nothing."""
        if not isinstance(phrase, str):
            raise InvalidValueError(f"phrase must be a string, got {shown(phrase)}")
        norms = words(phrase)
        return (
            self.match_name(phrase, norms, (phrase.strip(),))
            or self.match_spelling(phrase, norms)
            or self.match_meaning(phrase)
        )

    def search(self, phrase: str, limit: int = 10) -> list[Mention]:
        """Up to ``limit`` nodes ``phrase`` may name, best first, each once: every node of each
        name tier that matches (alias, exact, normalized; a shared name in ambiguity order),
        then every fuzzy match (highest ratio first), then the meaning match. :meth:`link`
        returns the first of them."""
        if not isinstance(phrase, str):
            raise InvalidValueError(f"phrase must be a string, got {shown(phrase)}")
        int_in_range(limit, "limit")
        norms = words(phrase)
        found: dict[tuple[NodeLabel, str], Mention] = {}
        for how, text, nodes in self._name_tiers(phrase, norms, (phrase.strip(),)):
            for node in nodes:
                found.setdefault((node.label, node.id), node.mention(text, how, 1.0))
        key = phrase_key(norms)
        if len(key) >= FUZZY_MIN_CHARS and self._nameable(norms):
            spelled = process.extract(
                key, self._choices, scorer=fuzz.ratio, processor=None,
                score_cutoff=self.fuzzy_threshold, limit=None,
            )
            near = [(score, node) for choice, score, _ in spelled for node in self._keys[choice]]
            for score, node in sorted(near, key=lambda hit: (-hit[0], hit[1].rank())):
                found.setdefault((node.label, node.id), node.mention(phrase, "fuzzy", round(score / 100, 4)))
        meant = self.match_meaning(phrase) if len(found) < limit else None
        if meant is not None:
            found.setdefault(meant.key, meant)
        return list(found.values())[:limit]

    def _nameable(self, norms: Sequence[str]) -> bool:
        """Whether a phrase may name a node: a word of it can (:func:`can_name`), or it ends in
        a year after a title ("Heavy 1995")."""
        return any(can_name(w) for w in norms) or (len(norms) > 1 and YEAR.fullmatch(norms[-1]) is not None)
