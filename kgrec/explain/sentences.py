"""Readable sentences for graph paths, from templates per relation type and direction.

A path ``you -INTERACTED-> Alien -director-> Ridley Scott <-director- Blade Runner`` reads
"Because you liked Alien (1979), directed by Ridley Scott, who also directed Blade Runner (1982)."
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
from kgrec.graph.schema import INTERACTED, NodeLabel

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

#: A path's facts: ``nodes`` as (label, id, name) and ``relations`` as (type, forward).
PathFacts = dict[str, list[tuple[str, ...]]]
Generator = Callable[[PathFacts, str], str]


def _split_camel(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", name).lower()


def display_name(node: NodeRef) -> str:
    """The node's name, or a readable stand-in built from its label and id."""
    return node.name or f"{node.label.value.lower()} {node.id}"


class SentenceBuilder:
    """Turns a :class:`~kgrec.graph.records.GraphPath` from a user into one sentence.

    Args:
        phrases: relation templates (default :data:`MOVIE_PHRASES`).
        generator: optional rephrasing hook ``(facts, sentence) -> sentence``.
    """

    def __init__(
        self,
        phrases: Mapping[str, RelationPhrase] | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.phrases = dict(MOVIE_PHRASES if phrases is None else phrases)
        self.generator = generator

    def phrase(self, relation: str) -> RelationPhrase:
        words = _split_camel(relation)
        return self.phrases.get(
            relation, RelationPhrase(f"linked to {{entity}} ({words})", f"is also linked ({words}) to")
        )

    def sentence(self, path: GraphPath) -> str:
        text = self._template(path)
        if self.generator is None:
            return text
        facts: PathFacts = {
            "nodes": [(n.label.value, n.id, display_name(n)) for n in path.nodes],
            "relations": [(r, "forward" if f else "backward") for r, f in zip(path.relations, path.forward)],
        }
        rephrased = self.generator(facts, text)
        names = [display_name(n) for n in path.nodes[1:]]
        if isinstance(rephrased, str) and all(name in rephrased for name in names):
            return rephrased
        log.warning("generator output dropped a fact of the path; keeping the template sentence")
        return text

    def _template(self, path: GraphPath) -> str:
        nodes, rels = path.nodes, path.relations
        names = [display_name(n) for n in nodes]
        if len(nodes) == 2:
            return f"You already interacted with {names[1]}."
        liked = names[1]
        target = names[-1]
        if len(nodes) == 3:  # you -> liked item -[rel]- target item
            verb = self.phrase(rels[1])
            return f"Because you liked {liked}, which is linked to {target} ({_split_camel(verb.active)})."
        middle = nodes[2]
        if middle.label is NodeLabel.USER and rels[1] == rels[2] == INTERACTED:
            return f"Because you liked {liked}: {names[2]}, who also liked it, liked {target}."
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
