"""Readable sentences for graph paths, from templates per relation type and direction.

A path ``you -INTERACTED-> Alien -director-> Ridley Scott <-director- Blade Runner`` reads
"Because you liked Alien (1979), directed by Ridley Scott, who also directed Blade Runner (1982)."
A path through other users reads as the evidence it stands for (its ``support``, see
:class:`~kgrec.graph.records.GraphPath`): ``you -> Fargo <- another user -> Trainspotting`` reads
"Because you liked Fargo (1996): 37 people who liked it also liked Trainspotting (1996).", and
``you -[in_age_group]-> 25-34 <- another user -> Fargo`` "12 people in your age group (25-34)
liked Fargo (1996)." The user the path goes through stays anonymous, to the generator too.
Relations without a template fall back to a neutral phrase built from the relation name. An
optional ``generator`` (any callable, e.g. a transformers text2text pipeline wrapped in a
function) may rephrase a sentence; it receives only the path's facts and the template sentence,
and its output is kept only if it still names every node of the path.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable, Mapping

from kgrec.graph.records import GraphPath, NodeRef
from kgrec.graph.schema import NodeLabel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelationPhrase:
    """How an item relates to an entity: ``passive`` ("directed by {entity}", may use
    ``{article}``, "a" or "an" for the entity) describes the item, ``active`` ("also directed")
    is what the entity did to another item."""

    passive: str
    active: str


#: Templates for the relations of the MovieLens/DBpedia graph; extend or replace per dataset.
MOVIE_PHRASES: dict[str, RelationPhrase] = {
    "director": RelationPhrase("directed by {entity}", "also directed"),
    "starring": RelationPhrase("starring {entity}", "also stars in"),
    "writer": RelationPhrase("written by {entity}", "also wrote"),
    "producer": RelationPhrase("produced by {entity}", "also produced"),
    "musicComposer": RelationPhrase("with music by {entity}", "also scored"),
    "cinematography": RelationPhrase("shot by {entity}", "also shot"),
    "editing": RelationPhrase("edited by {entity}", "also edited"),
    "distributor": RelationPhrase("distributed by {entity}", "also distributed"),
    "has_genre": RelationPhrase("{article} {entity} film", "also includes"),
}

#: Templates for paths through a user attribute, per attribute relation (those of the
#: MovieLens loader): ``{entity}`` is the attribute's name, ``{item}`` the item's, ``{people}``
#: who liked it ("12 people", "1 other person", or "people" when the count is unknown) and
#: ``{count}`` their number (empty when unknown). The sentence's first letter is capitalized.
ATTRIBUTE_PHRASES: dict[str, str] = {
    "has_occupation": "{people} with your occupation ({entity}) liked {item}.",
    "in_age_group": "{people} in your age group ({entity}) liked {item}.",
    "has_gender": "{people} of your gender ({entity}) liked {item}.",
}

#: A path's facts: ``nodes`` as (label, id, name) and ``relations`` as (type, forward).
PathFacts = dict[str, list[tuple[str, ...]]]
Generator = Callable[[PathFacts, str], str]


def split_camel(name: str) -> str:
    """``musicComposer`` -> ``music composer``, ``has_genre`` -> ``has genre``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", name).lower()


def _attribute_words(relation: str) -> str:
    """What an attribute relation names: ``has_occupation`` -> ``occupation``,
    ``inAgeGroup`` -> ``age group``, ``favourite_genre`` -> ``favourite genre``."""
    words = split_camel(relation).split()
    if len(words) > 1 and words[0] in ("has", "in", "is"):
        words = words[1:]
    return " ".join(words)


def people(count: int | None) -> str:
    """Who a path through other users stands for: "37 people", "1 other person", or "people"
    when the count is unknown (``None``)."""
    if count is None:
        return "people"
    return "1 other person" if count == 1 else f"{count} people"


def display_name(node: NodeRef) -> str:
    """The node's name, or a readable stand-in built from its label and id."""
    return node.name or f"{node.label.value.lower()} {node.id}"


class SentenceBuilder:
    """Turns a :class:`~kgrec.graph.records.GraphPath` from a user into one sentence.

    Args:
        phrases: relation templates (default :data:`MOVIE_PHRASES`).
        generator: optional rephrasing hook ``(facts, sentence) -> sentence``.
        attribute_phrases: templates of paths through a user attribute, per attribute
            relation (default :data:`ATTRIBUTE_PHRASES`).
    """

    def __init__(
        self,
        phrases: Mapping[str, RelationPhrase] | None = None,
        generator: Generator | None = None,
        attribute_phrases: Mapping[str, str] | None = None,
    ) -> None:
        self.phrases = dict(MOVIE_PHRASES if phrases is None else phrases)
        self.generator = generator
        self.attribute_phrases = dict(
            ATTRIBUTE_PHRASES if attribute_phrases is None else attribute_phrases
        )

    def phrase(self, relation: str) -> RelationPhrase:
        words = split_camel(relation)
        return self.phrases.get(
            relation, RelationPhrase(f"linked to {{entity}} ({words})", f"is also linked ({words}) to")
        )

    def attribute_phrase(self, relation: str) -> str:
        """The template of a path through attribute ``relation``; without one, "{people} who
        share your <relation words> ({entity}) liked {item}." """
        fallback = f"{{people}} who share your {_attribute_words(relation)} ({{entity}}) liked {{item}}."
        return self.attribute_phrases.get(relation, fallback)

    def sentence(self, path: GraphPath) -> str:
        text = self._template(path)
        if self.generator is None:
            return text
        nodes = [(n.label.value, n.id, display_name(n)) for n in path.nodes]
        if path.peer is not None:  # the other users stay anonymous: only their number is told
            nodes[2] = (NodeLabel.USER.value, "", people(path.support))
        facts: PathFacts = {
            "nodes": nodes,
            "relations": [(r, "forward" if f else "backward") for r, f in zip(path.relations, path.forward)],
        }
        rephrased = self.generator(facts, text)
        named = [n for n in path.nodes[1:] if n is not path.peer]  # the peer is not named
        names = [display_name(n) for n in named]
        if isinstance(rephrased, str) and all(name in rephrased for name in names):
            return rephrased
        log.warning("generator output dropped a fact of the path; keeping the template sentence")
        return text

    def _template(self, path: GraphPath) -> str:
        nodes, rels = path.nodes, path.relations
        names = [display_name(n) for n in nodes]
        if path.starts_with_attribute:  # you -> attribute <- other users -> target item
            text = self.attribute_phrase(rels[0]).format(
                entity=names[1],
                item=names[-1],
                people=people(path.support),
                count="" if path.support is None else path.support,
            )
            return text[:1].upper() + text[1:]
        if len(nodes) == 2:
            return f"You already interacted with {names[1]}."
        liked = names[1]
        target = names[-1]
        if len(nodes) == 3:  # you -> liked item -[rel]- target item
            verb = self.phrase(rels[1])
            return f"Because you liked {liked}, which is linked to {target} ({split_camel(verb.active)})."
        middle = nodes[2]
        if path.peer is not None:  # you -> liked item <- other users -> target item
            return f"Because you liked {liked}: {people(path.support)} who liked it also liked {target}."
        item_to_entity = path.forward[1] and not path.forward[2]
        if middle.label is NodeLabel.ENTITY and item_to_entity:
            first, last = self.phrase(rels[1]), self.phrase(rels[2])
            article = "an" if names[2][:1].lower() in "aeiou" else "a"
            described = first.passive.format(entity=names[2], article=article)
            if rels[1] == rels[2] and rels[1] == "has_genre":
                return f"Because you liked {liked}, {described}, like {target}."
            return f"Because you liked {liked}, {described}, who {last.active} {target}."
        return (
            f"Because you liked {liked}, linked to {names[2]}, which is linked to {target}."
        )
