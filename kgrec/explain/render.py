"""Explanations as a self-contained HTML page: one inline SVG picture
(:mod:`kgrec.explain.picture`), no script, no external assets (a few kilobytes a page).

:func:`explanation_html` draws one :class:`~kgrec.explain.explanation.Explanation` (its sentence
as the title); :func:`recommendations_html` draws a whole top-k in one picture, ranked items in
the right column, with the ranked list and every path's sentence under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from kgrec.errors import InvalidValueError, shown
from kgrec.explain.picture import draw
from kgrec.explain.sentences import display_name
from kgrec.graph.records import NodeRef
from kgrec.graph.schema import NodeLabel

if TYPE_CHECKING:
    from kgrec.explain.explanation import Explanation, Recommendation


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;
margin:0 auto;padding:16px 24px;max-width:1280px;background:#fff}
h1{font-size:1.5rem;line-height:1.3;margin:0 0 12px}
figure{margin:0}
svg text{font-family:inherit}
.name{font-size:14px;text-anchor:middle;fill:#1a1a1a}
.name.you{fill:#fff;font-weight:700;font-size:16px}
.tag{font-size:11px;font-weight:700;fill:#8A6100;letter-spacing:.04em}
.heading{font-size:15px;font-weight:700;text-anchor:middle;fill:#555}
.rel{font-size:12px;text-anchor:middle;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:6px;
stroke-linejoin:round}
.legend{list-style:none;padding:0;margin:8px 0 16px;display:flex;flex-wrap:wrap;gap:6px 18px;
font-size:.9rem}
.legend li{display:flex;align-items:center;gap:6px}
ol{padding-left:1.6em;line-height:1.5}
ol ol{margin:2px 0 8px;color:#333}
"""


def _page(title: str, svg: str, legend: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><figure>{svg}</figure>{legend}{body}</body></html>\n"
    )


def _reasons(explanation: "Explanation") -> str:
    if not explanation.paths:
        return f"<p>{escape(explanation.sentence)}</p>"
    return "<ol>" + "".join(f"<li>{escape(p.sentence)}</li>" for p in explanation.paths) + "</ol>"


def explanation_html(explanation: "Explanation") -> str:
    """One explanation as an HTML page: its sentence as the title, the picture of its paths,
    a legend, and every path's sentence in the explanation's order."""
    body = "<h2>Why</h2>" + _reasons(explanation)
    return _page(explanation.sentence, *draw([explanation], [None], ranked=False), body)


def recommendations_html(recommendations: Sequence["Recommendation"], title: str | None = None) -> str:
    """A whole top-k (what :meth:`kgrec.Recommender.recommend` returns with ``explain=True``)
    as one HTML page: every item in one picture, ranked in the right column, shared nodes drawn
    once; then the ranked list with each item's sentences. ``title`` defaults to "Why these
    <k> recommendations". Raises :class:`InvalidValueError` for an empty list, a
    recommendation without an explanation, or recommendations for different users."""
    recs = list(recommendations)
    if not recs:
        raise InvalidValueError("recommendations_html needs at least one recommendation, got none")
    for r in recs:
        if getattr(r, "explanation", None) is None:
            raise InvalidValueError(
                f"recommendation {shown(getattr(r, 'item_id', r))} has no explanation: "
                "recommend with explain=True"
            )
    users = sorted({r.explanation.user_id for r in recs})
    if len(users) > 1:
        raise InvalidValueError(
            f"recommendations for several users {shown(users)}: one page draws one user"
        )
    items = "".join(
        f"<li><strong>{escape(r.name or display_name(NodeRef(NodeLabel.ITEM, r.item_id)))}</strong>"
        f"{_reasons(r.explanation)}</li>"
        for r in recs
    )
    heading = title if title is not None else f"Why these {len(recs)} recommendations"
    body = f"<h2>The list</h2><ol>{items}</ol>"
    return _page(heading, *draw([r.explanation for r in recs], [r.name for r in recs], ranked=True), body)
