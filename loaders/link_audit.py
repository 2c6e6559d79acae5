"""Audit item -> knowledge-graph links before loading them: which links look wrong?

Entity linking by title match is cheap and often wrong in ways a glance at the linked
resource shows: the resource is a film of another year (a remake, a namesake), its label names
another work (a sequel, a spin-off), or several items point at the one resource.
:func:`audit_links` reports those links so a person can check them, before they are loaded.

Titles are compared after normalisation (case, accents, punctuation, ``&`` -> ``and``,
parenthesised parts such as ``(1995)`` or ``(1925 film)``, a leading article or a trailing
``", The"``) with rapidfuzz's normalised Indel similarity (``fuzz.ratio``, 0-100).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from rapidfuzz import fuzz

from kgrec.errors import InvalidValueError, shown

#: Articles dropped from the start of a title or from a trailing ``", The"`` (MovieLens style).
ARTICLES = ("the", "a", "an", "la", "le", "les", "l", "il", "el", "los", "las", "das", "der", "die")
_ARTICLE = "|".join(ARTICLES)
_TRAILING_ARTICLE = re.compile(rf",\s*(?:{_ARTICLE})'?\s*$")
_LEADING_ARTICLE = re.compile(rf"^(?:{_ARTICLE})\s+")
_PARENTHESISED = re.compile(r"\([^)]*\)")
_TITLE_YEAR = re.compile(r"\((\d{4})\)\s*$")
_LABEL_YEAR = re.compile(r"\((\d{4})(?:\s[^)]*)?\)")
#: A last word that numbers a sequel or marks a variant: "Clerks II", "Basic Instinct 2", "... 3D".
_SEQUEL = re.compile(r"^(?:\d{1,2}|ii|iii|iv|v|vi|vii|viii|ix|x|3d|part \w+)$")


class LinkProblem(StrEnum):
    """Why :func:`audit_links` finds a link suspicious."""

    #: The resource's release year differs from the item's by more than the tolerance.
    YEAR = "year_mismatch"
    #: The resource's label names another work: not similar enough to the item's title, or
    #: the same title with another sequel number ("Clerks" -> "Clerks II").
    TITLE = "title_mismatch"
    #: The resource is linked from more than one item.
    SHARED = "shared_resource"


@dataclass(frozen=True, slots=True)
class ItemLink:
    """One item linked to one KG resource, with what each side says about itself.

    ``title`` is the item's title and ``label`` the resource's label. A year left as None is
    read from the text where it can be: the item's from a trailing ``(1995)`` in its title, the
    resource's from a parenthesised ``(1925 film)`` / ``(1925)`` in its label; without one on
    both sides the year is not checked.
    """

    item: str
    title: str
    resource: str
    label: str
    item_year: int | None = None
    resource_year: int | None = None

    def __post_init__(self) -> None:
        for name in ("item", "title", "resource", "label"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidValueError(f"ItemLink.{name} must be a string, got {shown(value)}")
        for name in ("item", "resource"):
            if not getattr(self, name).strip():
                raise InvalidValueError(f"ItemLink.{name} must not be empty")
        for name in ("item_year", "resource_year"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidValueError(
                    f"ItemLink.{name} must be an int or None, got {shown(value)}"
                )


@dataclass(frozen=True, slots=True)
class LinkFinding:
    """One suspicious link: ``item`` -> ``resource``, why, and the values that show it."""

    item: str
    resource: str
    reason: LinkProblem
    evidence: str


def normalise_title(title: str) -> str:
    """``"Net, The (1995)"`` -> ``"net"``; ``"The Lion King (1994 film)"`` -> ``"lion king"``."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _PARENTHESISED.sub(" ", text).replace("&", " and ")
    text = _TRAILING_ARTICLE.sub("", text.strip())
    text = " ".join(re.sub(r"[^\w]+", " ", text).split())
    return _LEADING_ARTICLE.sub("", text)


def title_year(title: str) -> int | None:
    """The year of a trailing ``(1995)`` in ``title``, else None."""
    found = _TITLE_YEAR.search(title)
    return int(found.group(1)) if found else None


def title_similarity(title: str, label: str) -> float:
    """Similarity 0-100 of two titles after :func:`normalise_title` (rapidfuzz ``fuzz.ratio``)."""
    return fuzz.ratio(normalise_title(title), normalise_title(label))


def audit_links(
    links: Iterable[ItemLink],
    *,
    min_title_similarity: float = 80.0,
    year_tolerance: int = 1,
) -> list[LinkFinding]:
    """The suspicious links among ``links``, in input order (a link may have several findings).

    A link is reported when the resource's year and the item's differ by more than
    ``year_tolerance`` years (:attr:`LinkProblem.YEAR`), when :func:`title_similarity` of the
    item's title and the resource's label is below ``min_title_similarity`` or one of them is
    the other plus a sequel number such as ``II``, ``2`` or ``3D`` (:attr:`LinkProblem.TITLE`;
    titles that normalise to nothing are not compared), or when
    its resource is linked from several distinct items (:attr:`LinkProblem.SHARED`). Nothing is
    read from or written to a store. Raises :class:`InvalidValueError` on a threshold out of
    range or a link that is not an :class:`ItemLink`.
    """
    if isinstance(min_title_similarity, bool) or not (
        isinstance(min_title_similarity, (int, float)) and 0 <= min_title_similarity <= 100
    ):
        raise InvalidValueError(
            f"min_title_similarity must be a number in [0, 100], got {shown(min_title_similarity)}"
        )
    if type(year_tolerance) is not int or year_tolerance < 0:  # a bool is no tolerance
        raise InvalidValueError(f"year_tolerance must be an int >= 0, got {shown(year_tolerance)}")
    links = list(links)
    items_of: dict[str, set[str]] = defaultdict(set)
    for link in links:
        if not isinstance(link, ItemLink):
            raise InvalidValueError(f"audit_links takes ItemLink records, got {shown(link)}")
        items_of[link.resource].add(link.item)
    findings = []
    for link in links:
        found = _year_finding(link, year_tolerance), _title_finding(link, min_title_similarity)
        findings += [f for f in found if f is not None]
        others = sorted(items_of[link.resource] - {link.item})
        if others:
            listed = ", ".join(shown(i) for i in others[:5]) + (" ..." if len(others) > 5 else "")
            evidence = f"also linked from {listed}"
            findings.append(LinkFinding(link.item, link.resource, LinkProblem.SHARED, evidence))
    return findings


def _year_finding(link: ItemLink, tolerance: int) -> LinkFinding | None:
    item_year = link.item_year if link.item_year is not None else title_year(link.title)
    resource_year = link.resource_year
    if resource_year is None and (found := _LABEL_YEAR.search(link.label)):
        resource_year = int(found.group(1))
    if item_year is None or resource_year is None or abs(item_year - resource_year) <= tolerance:
        return None
    evidence = f"item year {item_year}, resource year {resource_year}"
    return LinkFinding(link.item, link.resource, LinkProblem.YEAR, evidence)


def _title_finding(link: ItemLink, threshold: float) -> LinkFinding | None:
    title, label = normalise_title(link.title), normalise_title(link.label)
    if not title or not label:
        return None
    similarity = fuzz.ratio(title, label)
    if similarity < threshold:
        why = f"similarity {similarity:.0f}"
    elif _is_sequel_of(title, label) or _is_sequel_of(label, title):
        why = "another sequel number"
    else:
        return None
    evidence = f"title {shown(link.title)} vs label {shown(link.label)}: {why}"
    return LinkFinding(link.item, link.resource, LinkProblem.TITLE, evidence)


def _is_sequel_of(sequel: str, original: str) -> bool:
    """``sequel`` is ``original`` followed by a sequel number (both normalised)."""
    rest = sequel.removeprefix(original)
    return rest != sequel and rest.startswith(" ") and bool(_SEQUEL.match(rest.strip()))
