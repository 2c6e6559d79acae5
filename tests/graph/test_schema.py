"""graph_schema/: the Cypher applies idempotently, and its Turtle description matches it."""

from __future__ import annotations

import re

import pytest
import rdflib

from kgrec import Neo4jGraphStore, NodeLabel
from kgrec.graph.schema import INTERACTED, Namespace, schema_statements, schema_turtle

KGREC = rdflib.Namespace("https://kgrec.dev/schema#")


def cypher_names(namespace: Namespace = Namespace("")) -> tuple[set[str], set[str]]:
    text = "\n".join(schema_statements(namespace))
    labels = set(re.findall(r"\(\w+:(\w+)\)", text))
    types = set(re.findall(r"\[\w+:(\w+)\]", text))
    return labels, types


def test_turtle_describes_the_same_schema():
    graph = rdflib.Graph().parse(data=schema_turtle(), format="turtle")
    ttl_labels = {str(o) for o in graph.objects(None, KGREC.label)}
    ttl_types = {str(o) for o in graph.objects(None, KGREC.relationshipType)}
    labels, types = cypher_names()
    assert ttl_labels == labels == {label.value for label in NodeLabel}
    assert ttl_types == {INTERACTED}
    assert types <= ttl_types
    # every constrained label is keyed by id on both sides
    for cls in graph.subjects(KGREC.label, None):
        assert (cls, KGREC.key, KGREC.id) in graph
    # the text-indexed properties agree
    text = "\n".join(schema_statements(Namespace("")))
    cypher_text = set(re.findall(r"TEXT INDEX \w+ IF NOT EXISTS FOR \(n:(\w+)\) ON \(n\.(\w+)\)", text))
    ttl_text = {
        (str(graph.value(cls, KGREC.label)), str(prop).rsplit("#", 1)[1])
        for cls, prop in graph.subject_objects(KGREC.textIndexedProperty)
    }
    assert cypher_text == ttl_text == {("Item", "name"), ("Entity", "name")}


def test_statements_are_idempotent_by_construction():
    for statement in schema_statements():
        assert "IF NOT EXISTS" in statement, statement


def test_the_template_renders_each_namespace_apart():
    labels, _ = cypher_names(Namespace())
    assert labels == {"KgrecUser", "KgrecItem", "KgrecEntity"}
    names = [re.search(r"(?:CONSTRAINT|INDEX) (\w+) IF", s).group(1) for s in schema_statements()]
    assert names == ["Kgrec_user_id", "Kgrec_item_id", "Kgrec_entity_id", "Kgrec_item_name", "Kgrec_entity_name"]
    other = "\n".join(schema_statements(Namespace("Other")))
    assert "Kgrec" not in other and "(n:OtherItem)" in other
    assert Namespace("").schema_name("item_id") == "item_id"


@pytest.mark.neo4j
def test_schema_applies_twice_and_constrains(neo4j_driver):
    store = Neo4jGraphStore(neo4j_driver)
    store.apply_schema()
    store.apply_schema()
    records, _, _ = neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties")
    constrained = {(r["labelsOrTypes"][0], tuple(r["properties"])) for r in records}
    assert {(f"Kgrec{label.value}", ("id",)) for label in NodeLabel} <= constrained
    records, _, _ = neo4j_driver.execute_query("SHOW INDEXES YIELD name")
    names = {r["name"] for r in records}
    assert {"Kgrec_item_name", "Kgrec_entity_name"} <= names
