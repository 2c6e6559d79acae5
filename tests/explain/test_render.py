"""The explanation picture: a light HTML page with inline SVG, checked as HTML and, in headless
Chromium, as drawn (names present, visible, inside the page, not on top of one another)."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from html import escape as _escaped
from pathlib import Path

import pytest

from kgrec import InvalidValueError, MemoryGraphStore, NodeRecord
from kgrec.explain import ExplainedPath, Explanation, SentenceBuilder
from kgrec.explain.render import explanation_html, recommendations_html
from kgrec.graph.records import Interaction, Triple
from tests.conftest import IN_CI, ROOT
from tests.explain.test_recommender import recommender

_SCRIPT = ROOT / "scripts" / "explanation_screenshot.py"
_SPEC = importlib.util.spec_from_file_location("_screenshot", _SCRIPT)
screenshot_script = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(screenshot_script)

MAX_PAGE = 500 * 1024
LONG = "The Adventures of Priscilla, Queen of the Desert, an Extended Director's Cut (1994)"
NAMES = {
    "50": "Fargo (1996)",
    "60": "<b>Trainspotting</b> & Friends (1996)",  # markup in data is text, never markup
    "70": LONG,
    "e1": "Joel Coen",
    "e2": "Crime",
    "age": "25-34",
}


def _store() -> MemoryGraphStore:
    """``you`` liked 50; 50 and 70 share a director and a genre; ``peer`` (unnamed) liked 50,
    60 and 70; ``you`` and ``peer`` are both 25-34."""
    store = MemoryGraphStore()
    store.upsert_nodes("User", [NodeRecord("you"), NodeRecord("peer-4242")])
    store.upsert_nodes("Item", [NodeRecord(i, name=NAMES[i]) for i in ("50", "60", "70")])
    store.upsert_nodes("Entity", [NodeRecord(e, name=NAMES[e]) for e in ("e1", "e2", "age")])
    store.upsert_interactions(
        [Interaction("you", "50", split="train")]
        + [Interaction("peer-4242", i, split="train") for i in ("50", "60", "70")]
    )
    store.upsert_triples(
        [Triple(i, rel, e, "Item") for i in ("50", "70")
         for rel, e in (("director", "e1"), ("has_genre", "e2"))]
        + [Triple(u, "in_age_group", "age", "User") for u in ("you", "peer-4242")]
    )
    return store


def _explanations(store: MemoryGraphStore) -> list[Explanation]:
    """Real paths from the store, weighed heaviest first, with the library's sentences."""
    sentences = SentenceBuilder()
    found = store.paths("you", ["70", "60"], attributes=["in_age_group"])
    explanations = []
    for item in ("70", "60"):
        paths = sorted(found[item], key=lambda p: (-len(p), p.sort_key()))
        explained = tuple(
            ExplainedPath(p, 1.0 / (k + 1), p.relations[-1], sentences.sentence(p))
            for k, p in enumerate(paths)
        )
        explanations.append(Explanation("you", item, explained))
    return explanations


def test_an_explanation_page_draws_every_path_with_its_sentence():
    explanation = _explanations(_store())[0]
    assert len(explanation.paths) == 4  # the director, the genre, the co-user, the age group
    html = explanation.to_html()
    assert len(html.encode()) < MAX_PAGE
    assert f"<h1>{_escaped(explanation.sentence)}</h1>" in html
    listed = re.findall(r"<li>(.*?)</li>", html.split("<h2>Why</h2>")[1])
    assert listed == [_escaped(p.sentence) for p in explanation.paths]
    assert html.count('class="node recommended"') == 1 and "RECOMMENDED" in html
    assert html.count('class="node you"') == 1 and 'data-node="KgrecUser:you"' in html
    assert f"<title>{_escaped(LONG)}</title>" in html  # the full name behind a cut one
    for rel in ("director", "has genre", "in age group", "liked"):
        assert f">{rel}</" in html  # on the edges and in the legend
    assert "<script" not in html.lower() and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def _picture(html: str) -> str:
    return html.split("<figure>")[1].split("</figure>")[0]  # the sentences are SentenceBuilder's


def _with_support(explanation: Explanation, support: int | None) -> Explanation:
    paths = tuple(
        dataclasses.replace(p, path=dataclasses.replace(p.path, support=support))
        if p.path.nodes[2:3] and p.path.nodes[2].label.value == "User" else p
        for p in explanation.paths
    )
    return dataclasses.replace(explanation, paths=paths)


def test_names_from_data_are_escaped_and_other_users_never_shown_by_id():
    explanation = _explanations(_store())[1]  # 60 is reached only through the other user
    html = explanation_html(explanation)
    assert "<b>" not in html and _escaped(NAMES["60"]) in html
    through_peer = [p.path for p in explanation.paths if p.path.nodes[2].label.value == "User"]
    assert len(re.findall(r'<g class="node people"', html)) == len(through_peer) >= 2
    assert "peer-4242" not in _picture(html)
    for path in through_peer:  # a store counts the people a co-user path stands for
        assert path.support == 1 and ">1 person</text>" in _picture(html)
    anonymous = _picture(explanation_html(_with_support(explanation, None)))
    assert "peer-4242" not in anonymous and anonymous.count(">another user</text>") == len(through_peer)


def test_a_counted_co_user_path_is_drawn_as_its_people():
    picture = _picture(explanation_html(_with_support(_explanations(_store())[1], 1234)))
    assert ">1,234 people</text>" in picture and "peer-4242" not in picture


def test_a_top_k_page_draws_each_item_once_at_its_rank(memory_store):
    recs = recommender(memory_store).recommend("u1", k=10)
    html = recommendations_html(recs)
    assert len(html.encode()) < MAX_PAGE and "<h1>Why these 10 recommendations</h1>" in html
    ranked = re.findall(
        r'<g class="node recommended" data-node="KgrecItem:([^"]+)">.*?RECOMMENDED #(\d+)', html
    )
    assert ranked == [(r.item_id, str(r.rank)) for r in recs]
    drawn = re.findall(r'data-node="([^"]+)"', html)
    assert len(drawn) == len(set(drawn))  # a node shared by several paths is drawn once
    for r in recs:
        assert f"<strong>{_escaped(r.name)}</strong>" in html
        for p in r.explanation.paths:
            assert _escaped(p.sentence) in html
    assert not re.search(r">user u?\d+<|u\d+</text>", html)  # no other user drawn by id
    assert recommendations_html(recs, title="Why <these>").count("<h1>Why &lt;these&gt;</h1>") == 1


def test_a_top_k_page_refuses_what_it_cannot_draw(memory_store):
    rec = recommender(memory_store)
    with pytest.raises(InvalidValueError, match="none"):
        recommendations_html([])
    with pytest.raises(InvalidValueError, match="explain=True"):
        recommendations_html(rec.recommend("u1", k=3, explain=False))
    mixed = rec.recommend("u1", k=2) + rec.recommend("u2", k=2)
    with pytest.raises(InvalidValueError, match="'u1', 'u2'"):
        recommendations_html(mixed)


# Everything drawn in the page, from the browser: each node's full name (its <title>), the text
# of its drawn lines and their boxes, and the viewport.
DRAWN = """
const nodes = [...document.querySelectorAll('svg g.node')].map(g => {
  const texts = [...g.querySelectorAll('text')];
  return {
    title: g.querySelector('title').textContent,
    kind: g.getAttribute('class').split(' ')[1],
    lines: texts.filter(t => t.classList.contains('name')).map(t => t.textContent),
    tags: texts.filter(t => t.classList.contains('tag')).map(t => t.textContent),
    boxes: texts.map(t => {
      const r = t.getBoundingClientRect();
      const s = getComputedStyle(t);
      return {x: r.left, y: r.top, w: r.width, h: r.height, fill: s.fill, visible: s.visibility,
              opacity: s.opacity, size: parseFloat(s.fontSize)};
    }),
  };
});
return {nodes, width: window.innerWidth, height: window.innerHeight,
        h1: document.querySelector('h1').getBoundingClientRect().height};
"""


@pytest.fixture(scope="module")
def browser():
    binaries = (screenshot_script.CHROMIUM, screenshot_script.CHROMEDRIVER)
    missing = [str(p) for p in binaries if not p.exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    if missing:
        if IN_CI:
            pytest.fail(
                f"headless Chromium is required under CI=true; missing {', '.join(missing)}", pytrace=False
            )
        pytest.skip(f"headless Chromium not available and CI is not set: missing {', '.join(missing)}")
    with screenshot_script.headless_chromium(1280, 2400) as driver:
        yield driver


def _drawn(browser, html: str, tmp_path: Path) -> dict:
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    browser.get(page.as_uri())
    return browser.execute_script(DRAWN)


def _check_readable(drawn: dict) -> None:
    """Every text box is non-empty, visible, at least 9 px high, inside the viewport, and no
    two nodes' texts overlap."""
    boxes = []
    for node in drawn["nodes"]:
        for box in node["boxes"]:
            assert box["w"] > 0 and box["h"] >= 9 and box["size"] >= 9, node
            assert box["visible"] == "visible" and float(box["opacity"]) > 0.5 and box["fill"] != "none"
            assert 0 <= box["x"] and box["x"] + box["w"] <= drawn["width"], node
            assert 0 <= box["y"] and box["y"] + box["h"] <= drawn["height"], node
            boxes.append((node["title"], box))
    for i, (a_title, a) in enumerate(boxes):
        for b_title, b in boxes[i + 1 :]:
            if a_title != b_title:
                apart_x = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
                assert apart_x or apart_y, (a_title, b_title)


def test_the_names_are_drawn_and_visible_in_chromium(browser, tmp_path):
    explanation = _explanations(_store())[0]
    drawn = _drawn(browser, explanation.to_html(), tmp_path)
    _check_readable(drawn)
    by_title = {n["title"]: n for n in drawn["nodes"]}
    for name in ("Fargo (1996)", "Joel Coen", "Crime", "25-34"):
        assert " ".join(by_title[name]["lines"]) == name
    long = by_title[LONG]  # cut to two lines, the full name in the title
    assert long["kind"] == "recommended" and long["tags"] == ["RECOMMENDED"] and len(long["lines"]) == 2
    assert " ".join(long["lines"]).rstrip(".") in LONG and long["lines"][-1].endswith("...")
    assert by_title["You"]["lines"] == ["You"]
    people = [n["lines"] for n in drawn["nodes"] if n["kind"] == "people"]
    assert people == [["1 person"]] * 2  # through Fargo, and through the age group


def test_a_top_k_page_is_readable_in_chromium(browser, memory_store, tmp_path):
    recs = recommender(memory_store).recommend("u1", k=10)
    drawn = _drawn(browser, recommendations_html(recs), tmp_path)
    _check_readable(drawn)
    ranked = [n for n in drawn["nodes"] if n["kind"] == "recommended"]
    assert [n["title"] for n in ranked] == [r.name for r in recs]
    assert [" ".join(n["lines"]) for n in ranked] == [r.name for r in recs]
    assert [n["tags"] for n in ranked] == [[f"RECOMMENDED #{r.rank}"] for r in recs]
    ys = [n["boxes"][0]["y"] for n in ranked]
    assert ys == sorted(ys)  # ranked top to bottom
    named = {n["title"] for n in drawn["nodes"]}
    for r in recs:
        for p in r.explanation.paths:
            assert {n.name for n in p.path.nodes if n.name} <= named
