"""EntityLinker: each tier, ambiguity, what never links, relations."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError, NodeLabel
from kgrec.conversation import EntityLinker, Mention
from kgrec.conversation.words import name_keys


@pytest.mark.parametrize(
    ("phrase", "name", "how"),
    [
        ("Fargo (1996)", "Fargo (1996)", "exact"),
        ("Kevin Spacey", "Kevin Spacey", "exact"),
        ("Fargo", "Fargo (1996)", "normalized"),
        ("fargo", "Fargo (1996)", "normalized"),
        ("FARGO 1996", "Fargo (1996)", "normalized"),
        ("the usual suspects", "Usual Suspects, The (1995)", "normalized"),
        ("Godfather", "Godfather, The (1972)", "normalized"),
        ("godfather part ii", "Godfather: Part II, The (1974)", "normalized"),
        ("Se7en", "Seven (Se7en) (1995)", "normalized"),
        ("Amelie", "Amélie (2001)", "normalized"),
        ("LA Confidential", "L.A. Confidential (1997)", "normalized"),
        ("thriller", "Thriller", "normalized"),
        ("thrillers", "Thriller", "normalized"),
        ("comedies", "Comedy", "normalized"),
        ("film noir", "Film-Noir", "normalized"),
        ("childrens", "Children's", "normalized"),
        ("funny", "Comedy", "alias"),
        ("kids", "Children's", "alias"),
        ("science fiction", "Sci-Fi", "alias"),
        ("Kevn Spacey", "Kevin Spacey", "fuzzy"),
        ("Godfater", "Godfather, The (1972)", "fuzzy"),
        ("Usual Suspect", "Usual Suspects, The (1995)", "fuzzy"),
        ("Frances McDormund", "Frances McDormand", "fuzzy"),
    ],
)
def test_tiers(linker, phrase, name, how):
    mention = linker.link(phrase)
    assert (mention.name, mention.how, mention.phrase) == (name, how, phrase)
    assert mention.score == 1.0 if how != "fuzzy" else 0.86 <= mention.score < 1.0


def test_mention_fields(linker):
    spacey = linker.link("Kevin Spacey")
    assert spacey == Mention("Kevin Spacey", NodeLabel.ENTITY, "person:kevin_spacey", "Kevin Spacey", "exact", 1.0, ("starring",))
    assert linker.link("thrillers").relations == ("has_genre",)
    assert linker.link("alan parker").relations == ("director",)
    assert linker.link("Fargo").relations == ()  # items have none
    assert linker.link("Fargo").key == (NodeLabel.ITEM, "1")


def test_ambiguous_names_go_to_the_most_connected_node(linker):
    # Two items share the title: "14" has four users and a director, "13" nothing.
    assert linker.link("Chasing Amy").id == "14"
    # "Alan Parker (director)" directs two films, "Alan Parker (musician)" scored one.
    assert linker.link("Alan Parker").id == "person:alan_parker_director"
    assert linker.link("Alan Parker (musician)").id == "person:alan_parker_musician"


@pytest.mark.parametrize(
    "phrase",
    ["a", "the", "The", "it", "movie", "1995", "heavy", "nothing too heavy", "great acting",
     "asdf qwerty", "'}) DETACH DELETE n //", "", "   "],
)
def test_what_never_links(linker, phrase):
    assert linker.link(phrase) is None


def test_a_title_that_is_a_describing_word_links_with_its_year(linker):
    assert linker.link("Heavy (1995)").id == "15"
    assert linker.link("heavy 1995").id == "15"


def test_name_keys():
    assert name_keys("Usual Suspects, The (1995)", alternatives=True).keys == ("usual suspects", "usual suspects 1995")
    assert name_keys("Seven (Se7en) (1995)", alternatives=True).keys == ("seven", "se7en", "seven 1995")
    assert name_keys("Alan Parker (musician)", alternatives=False).keys == ("alan parker",)
    assert name_keys("Haine, La (1995)", alternatives=True).keys == ("la haine", "la haine 1995")
    assert name_keys("M*A*S*H (1970)", alternatives=True).keys == ("mash", "mash 1970")


def test_entities_only_users_link_to_are_left_out(film_store):
    from kgrec import NodeRecord

    film_store.upsert_nodes("Entity", [NodeRecord("occupation:writer", name="writer")])
    linker = EntityLinker(film_store.snapshot())
    assert linker.link("writer") is None
    assert linker.name_of("entity", "occupation:writer") is None
    assert linker.name_of("item", "1") == "Fargo (1996)"


def test_bad_arguments(film_store, linker):
    with pytest.raises(InvalidValueError, match="phrase must be a string"):
        linker.link(None)
    with pytest.raises(InvalidValueError, match="fuzzy_threshold must be in"):
        EntityLinker(film_store.snapshot(), fuzzy_threshold=0)
