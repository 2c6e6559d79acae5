"""The link audit: each reason on small records, normalisation, and bad input."""

from __future__ import annotations

import pytest

from kgrec.errors import InvalidValueError
from kgrec.loaders import ItemLink, LinkFinding, LinkProblem, audit_links
from kgrec.loaders.link_audit import normalise_title, title_similarity

DBR = "http://dbpedia.org/resource/"


def reasons(links, **options) -> dict[tuple[str, str], set[LinkProblem]]:
    found: dict[tuple[str, str], set[LinkProblem]] = {}
    for f in audit_links(links, **options):
        found.setdefault((f.item, f.resource), set()).add(f.reason)
    return found


def test_a_right_link_has_no_finding():
    links = [
        ItemLink("1", "Godfather, The (1972)", DBR + "G", "The Godfather", resource_year=1972),
        ItemLink("2", "Twelve Monkeys (1995)", DBR + "12_Monkeys", "Twelve Monkeys (1995 film)"),
        ItemLink("3", "Cité des enfants perdus, La (1995)", DBR + "C", "La Cite des Enfants Perdus"),
    ]
    assert audit_links(links) == []


@pytest.mark.parametrize(
    ("link", "evidence"),
    [
        # The year read from the label's disambiguator and from the title.
        (
            ItemLink("22", "Braveheart (1995)", DBR + "B", "Braveheart (1925 film)"),
            "item year 1995, resource year 1925",
        ),
        # Given years win over the text; 2 years apart is beyond the default tolerance of 1.
        (
            ItemLink("9", "Heat (1996)", DBR + "H", "Heat (1990 film)", item_year=1995, resource_year=1993),
            "item year 1995, resource year 1993",
        ),
    ],
)
def test_release_year_mismatch(link, evidence):
    assert audit_links([link]) == [LinkFinding(link.item, link.resource, LinkProblem.YEAR, evidence)]


def test_year_tolerance():
    link = ItemLink("9", "Heat (1995)", DBR + "H", "Heat (1996 film)")
    assert audit_links([link]) == []  # one year apart: a festival vs a cinema release
    assert reasons([link], year_tolerance=0) == {("9", DBR + "H"): {LinkProblem.YEAR}}
    no_year = ItemLink("9", "Heat", DBR + "H", "Heat (film)")
    assert audit_links([no_year]) == []  # nothing to compare


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Lion King, The (1994)", "Leo the Lion: King of the Jungle"),
        ("Terminator, The (1984)", "Terminator Salvation"),
        ("Net, The (1995)", "NetForce (film)"),
        ("Clerks (1994)", "Clerks II"),  # similar, but another sequel number
        ("Basic Instinct (1992)", "Basic Instinct 2"),
        ("Fox and the Hound 2 (2006)", "The Fox and the Hound"),
    ],
)
def test_label_naming_another_work(title, label):
    [finding] = audit_links([ItemLink("7", title, DBR + "x", label)])
    assert finding.reason is LinkProblem.TITLE
    assert repr(title) in finding.evidence and repr(label) in finding.evidence


def test_title_threshold():
    link = ItemLink("7", "Sneakers (1992)", DBR + "Sneaker", "Sneaker")
    assert audit_links([link]) == []  # 93 similar: a plural is beyond what the audit sees
    flagged = reasons([link], min_title_similarity=95)
    assert flagged == {("7", DBR + "Sneaker"): {LinkProblem.TITLE}}


def test_resource_linked_from_several_items():
    links = [
        ItemLink("1", "Chasing Amy (1997)", DBR + "Chasing_Amy", "Chasing Amy"),
        ItemLink("2", "Chasing Amy (1997)", DBR + "Chasing_Amy", "Chasing Amy"),
        ItemLink("2", "Chasing Amy (1997)", DBR + "Chasing_Amy", "Chasing Amy"),  # a repeated row
        ItemLink("3", "Heat (1995)", DBR + "Heat_(1995_film)", "Heat (1995 film)"),
    ]
    findings = audit_links(links)
    assert [(f.item, f.reason, f.evidence) for f in findings] == [
        ("1", LinkProblem.SHARED, "also linked from '2'"),
        ("2", LinkProblem.SHARED, "also linked from '1'"),
        ("2", LinkProblem.SHARED, "also linked from '1'"),
    ]


def test_one_link_can_have_every_finding():
    links = [
        ItemLink("1", "Godfather, The (1972)", DBR + "G", "Godfather (1991 film)"),
        ItemLink("2", "Terminator, The (1984)", DBR + "G", "Godfather (1991 film)"),
    ]
    assert reasons(links)[("2", DBR + "G")] == set(LinkProblem)
    assert reasons(links)[("1", DBR + "G")] == {LinkProblem.YEAR, LinkProblem.SHARED}


@pytest.mark.parametrize(
    ("title", "normal"),
    [
        ("Net, The (1995)", "net"),
        ("The Lion King (1994 film)", "lion king"),
        ("Postino, Il (1994)", "postino"),
        ("Secrets & Lies (1996)", "secrets and lies"),
        ("M*A*S*H (1970)", "m a s h"),
        ("Cité des enfants perdus, La", "cite des enfants perdus"),
        ("Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)", "shanghai triad"),
    ],
)
def test_normalise_title(title, normal):
    assert normalise_title(title) == normal


def test_title_similarity_ignores_form():
    assert title_similarity("Godfather, The (1972)", "The Godfather") == 100
    assert title_similarity("Terminator, The (1984)", "Terminator Salvation") < 80


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (dict(item=7), "ItemLink.item must be a string, got 7"),
        (dict(item="  "), "ItemLink.item must not be empty"),
        (dict(label=None), "ItemLink.label must be a string, got None"),
        (dict(item_year="1995"), "ItemLink.item_year must be an int or None, got '1995'"),
        (dict(resource_year=True), "ItemLink.resource_year must be an int or None, got True"),
        (dict(title=5.5), "ItemLink.title must be a string, got 5.5"),
    ],
)
def test_bad_link_is_a_clear_error(fields, problem):
    base = dict(item="1", title="Heat (1995)", resource=DBR + "Heat", label="Heat")
    with pytest.raises(InvalidValueError) as caught:
        ItemLink(**{**base, **fields})
    assert str(caught.value) == problem


def test_bad_options_are_clear_errors():
    link = ItemLink("1", "Heat (1995)", DBR + "Heat", "Heat")
    with pytest.raises(InvalidValueError, match="min_title_similarity must be a number in"):
        audit_links([link], min_title_similarity=101)
    with pytest.raises(InvalidValueError, match="year_tolerance must be an int >= 0, got -1"):
        audit_links([link], year_tolerance=-1)
    with pytest.raises(InvalidValueError, match="audit_links takes ItemLink records, got 'x"):
        audit_links([link, "x" * 10_000])
    with pytest.raises(InvalidValueError) as caught:
        audit_links([("1", "x" * 10_000)])
    assert len(str(caught.value)) < 200  # a huge value is cut, not echoed
