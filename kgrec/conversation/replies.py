"""What a conversation says back: each item's reasons from the request, and the turn's reply."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from kgrec.conversation.request import Mention, Request
from kgrec.explain.sentences import SentenceBuilder
from kgrec.graph.candidate_query import RequestCandidate
from kgrec.graph.snapshot import Snapshot

if TYPE_CHECKING:
    from kgrec.conversation.conversation import ConversationState

_SENTENCES = SentenceBuilder()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class ItemLinks:
    """The relation type of each (item, entity) knowledge-graph link of a snapshot
    (``relation[(item id, entity id)]``) and each entity's most frequent one (``usual``), so
    that a reason says "starring Kevin Spacey" for a film he plays in and "directed by" for the
    one he directed."""

    def __init__(self, snapshot: Snapshot) -> None:
        items, entities = snapshot.node_ids["item"], snapshot.node_ids["entity"]
        self.relation: dict[tuple[str, str], str] = {}
        counts: dict[str, Counter] = defaultdict(Counter)
        for (head, relation, tail), edge_index in sorted(snapshot.triples.items()):
            if (head, tail) == ("item", "entity"):
                pairs = edge_index.t().tolist()
            elif (head, tail) == ("entity", "item"):
                pairs = edge_index.flip(0).t().tolist()
            else:
                continue
            for i, e in pairs:
                self.relation.setdefault((items[i], entities[e]), relation)
                counts[entities[e]][relation] += 1
        self.usual = {e: c.most_common(1)[0][0] for e, c in counts.items()}


def describe(mention: Mention, relation: str | None = None, sentences: SentenceBuilder = _SENTENCES) -> str:
    """How an item relates to an entity asked for, through ``relation`` (default the mention's
    first): "directed by Stanley Kubrick", "a Thriller film" (the explanation templates)."""
    relation = relation or (mention.relations[0] if mention.relations else None)
    if relation is None:
        return mention.name
    return sentences.phrase(relation).passive.format(entity=mention.name, article=_article(mention.name))


def years_phrase(years: tuple[int | None, int | None]) -> str:
    """ "from the 1990s", "from 1990 to 1995", "from 1995 on", "up to 1980", or ``""``."""
    low, high = years
    if low is not None and high is not None:
        if low % 10 == 0 and high == low + 9:
            return f"from the {low}s"
        return f"from {low}" if low == high else f"from {low} to {high}"
    if low is not None:
        return f"from {low} on"
    return f"up to {high}" if high is not None else ""


def item_reasons(
    candidate: RequestCandidate | None, state: ConversationState, year: object, links: ItemLinks
) -> tuple[str, ...]:
    """What the request asked for that the item has, one phrase each: matched entities
    ("starring Kevin Spacey, as you asked"; "close to ..." for a two-hop match), liked items it
    shares a graph neighbour with, and the year range it falls in."""
    reasons = []
    if candidate is not None:
        for entity_id, hops in candidate.entities:
            mention = state.wanted.get(entity_id)
            if mention is not None:
                relation = links.relation.get((candidate.item, entity_id))
                said = describe(mention, relation) if hops == 1 else f"close to {mention.name}"
                reasons.append(f"{said}, as you asked")
        for item_id in candidate.items:
            reasons.append(f"shares people or a genre with {state.liked.get(item_id, item_id)}, which you liked")
    if state.years != (None, None) and isinstance(year, int):
        reasons.append(f"released in {year}, {years_phrase(state.years)}, as you asked")
    return tuple(reasons)


def reply(request: Request, state: ConversationState, shown: int, matched: bool, links: ItemLinks) -> str:
    """A short answer to the turn: what is shown and for what, what was not understood, and
    any contradiction."""
    if not request.english:
        return ("I can only read requests in English for now. Try naming a film you liked, a "
                "genre, a person or a decade.")
    parts = []
    asked = [describe(m, links.usual.get(m.id)) for m in state.wanted.values()]
    asked += [f"like {name}" for name in state.liked.values()]
    if years_phrase(state.years):
        asked.append(years_phrase(state.years))
    asked += [f"without {m.name}" for m in state.excluded.values()]
    if shown == 0:
        parts.append("Nothing in the catalogue passes all of that"
                     + (f" ({'; '.join(asked)})" if asked else "") + ". Try dropping a constraint.")
    elif not request.understood and not asked:
        parts.append(f"I found nothing I know in that, so here are {shown} picks for you. Name a "
                     "film you liked, a genre, a person or a decade to steer them.")
    elif not matched and (state.wanted or state.liked):
        parts.append(f"Nothing matches {'; '.join(asked)} exactly; here are the {shown} closest.")
    else:
        picks = "Here is 1 pick" if shown == 1 else f"Here are {shown} picks"
        parts.append(picks + (f": {'; '.join(asked)}." if asked else "."))
    if request.unmatched:
        parts.append("I could not find " + ", ".join(f'"{p}"' for p in request.unmatched[:5]) + ".")
    if request.conflicts:
        parts.append("Note: " + "; ".join(request.conflicts) + ".")
    return " ".join(parts)
