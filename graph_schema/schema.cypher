// kgrec graph schema, version 1: a template, rendered per label namespace by
// kgrec.graph.schema.schema_statements(). {User}, {Item} and {Entity} stand for the namespaced
// labels (KgrecUser... by default, plain User... with namespace ""), {ns} for the name prefix
// ("Kgrec_" by default, "" with namespace ""). Every statement is idempotent (IF NOT EXISTS):
// applying it twice changes nothing. Applied by Neo4jGraphStore.apply_schema() (and on
// construction). Vector indexes are created per label by Neo4jGraphStore.create_vector_index
// (dimension, similarity), because their dimension comes from the text encoder.

// Node keys: one node per external id and label.
CREATE CONSTRAINT {ns}user_id IF NOT EXISTS FOR (n:{User}) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT {ns}item_id IF NOT EXISTS FOR (n:{Item}) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT {ns}entity_id IF NOT EXISTS FOR (n:{Entity}) REQUIRE n.id IS UNIQUE;

// No index on INTERACTED properties: queries filter r.split while traversing from a bound
// node, never by lookup, and such indexes cost ~20% of interaction load time.

// Name lookups for the conversational agent (request text -> entities).
CREATE TEXT INDEX {ns}item_name IF NOT EXISTS FOR (n:{Item}) ON (n.name);
CREATE TEXT INDEX {ns}entity_name IF NOT EXISTS FOR (n:{Entity}) ON (n.name);
