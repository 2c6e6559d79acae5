"""The words that say what a request wants of the things it names ("I loved", "no",
"something like", "I've seen"), and where a clause ends.

A cue is a sequence of folded words (:func:`~kgrec.conversation.words.fold`: "didn't" is
"didnt") with the :class:`~kgrec.conversation.request.Role` it gives the things named in its
clause. The parser matches the longest cue first, so "didn't like" is a dislike, not a like,
and "would like" a want.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kgrec.conversation.request import Role


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue's ``role``; ``similar`` when it asks for things like the one named ("something
    like", "more like", a bare "like"), not says the person likes it."""

    role: Role
    similar: bool = False


def _cues(role: Role, phrases: str, similar: bool = False) -> dict[tuple[str, ...], Cue]:
    return {tuple(p.split()): Cue(role, similar) for p in phrases.split(",") if p.strip()}


CUES: dict[tuple[str, ...], Cue] = {
    **_cues(
        Role.EXCLUDE,
        """no, not, without, nothing, nothing with, nothing by, nothing from, nothing starring,
        nothing featuring, nothing like, none, never, neither, avoid, skip, except, excluding,
        exclude, other than, apart from, anything but, everything but, anything except, no more,
        dont want, do not want, dont show, do not show, dont recommend, do not recommend,
        dont give, do not give, not interested in, rather not, instead of, minus""",
    ),
    **_cues(
        Role.DISLIKE,
        """hate, hated, hates, dislike, disliked, dislikes, didnt like, did not like, dont like,
        do not like, doesnt like, didnt enjoy, did not enjoy, dont enjoy, do not enjoy,
        didnt love, did not love, cant stand, cannot stand, can not stand, couldnt stand,
        not a fan of, not a big fan of, not really a fan of, not into, not keen on, detest,
        detested, loathe, loathed, sick of, tired of, fed up with, bored me, was boring, was bad,
        was awful, was terrible, was overrated, is boring, is overrated, were boring, sucked,
        sucks, boring, awful, terrible, overrated, disappointing, bad, worst""",
    ),
    **_cues(
        Role.SEEN,
        """seen, saw, watched, rewatched, have seen, already seen, already watched, already saw,
        seen already""",
    ),
    **_cues(
        Role.NEUTRAL,
        """havent seen, have not seen, not seen, never seen, didnt see, did not see, never saw,
        not watched, havent watched, never watched, dont know, do not know, never heard of,
        havent heard of, not sure about""",
    ),
    **_cues(
        Role.LIKE,
        """liked, likes, love, loved, loves, enjoy, enjoyed, enjoys, adore, adored, adores,
        fan of, big fan of, huge fan of, favorite, favourite, favorites, favourites, really into,
        im into, am into, was great, was amazing, was awesome, was brilliant, was fantastic,
        was good, was excellent, was perfect, is great, is amazing, were great, appreciate""",
    ),
    **_cues(
        Role.LIKE,
        """like, something like, anything like, more like, similar to, similar, in the style of,
        along the lines of, same as, in the vein of, reminiscent of, more of, more films like,
        more movies like, such as""",
        similar=True,
    ),
    **_cues(
        Role.WANT,
        """want, wanna, looking for, look for, in the mood for, show me, give me, recommend,
        suggest, would like, id like, would love, id love, feel like, need, prefer, only,
        nothing but, find me, how about, what about, something, anything, im after, hoping for,
        search for, searching for, interested in""",
    ),
}

LONGEST_CUE = max(len(words) for words in CUES)

#: Words that, right before a cue (adverbs skipped), make it the person's own statement: "no
#: horror I love comedies" likes comedies, "not like Fargo" does not like Fargo.
SUBJECTS = frozenset({"i", "we", "ive", "weve", "id", "im"})
ADVERBS = frozenset(
    {"really", "also", "just", "already", "absolutely", "totally", "actually", "kinda", "so",
     "do", "did", "have", "always", "quite", "still", "truly", "genuinely"}
)

#: Where a clause ends and the next one starts afresh ("I liked Fargo. Horror please").
RESETS = frozenset({".", "!", "?", ";", "but", "though", "although", "however", "yet", "whereas"})
#: Where a clause ends and the next, when it has no cue of its own, says the same ("I liked
#: Fargo and Heat", "no horror, gore or slashers").
CONTINUES = frozenset({",", "and", "plus", "/", ":"})


def cue_at(norms: Sequence[str], start: int) -> tuple[int, Cue] | None:
    """The longest cue that starts at ``norms[start]``, as ``(number of words, cue)``."""
    for size in range(min(LONGEST_CUE, len(norms) - start), 0, -1):
        cue = CUES.get(tuple(norms[start : start + size]))
        if cue is not None:
            return size, cue
    return None


def said_by_subject(norms: Sequence[str], start: int) -> bool:
    """Whether the cue at ``norms[start]`` follows a subject ("I", "we"), adverbs skipped."""
    k = start - 1
    while k >= 0 and norms[k] in ADVERBS:
        k -= 1
    return k >= 0 and norms[k] in SUBJECTS
