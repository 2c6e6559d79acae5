// kgrec graph schema, version 1. Every statement is idempotent (IF NOT EXISTS): applying the
// file twice changes nothing. Applied by Neo4jGraphStore.apply_schema() (and on connect).
// Vector indexes are created per label by Neo4jGraphStore.create_vector_index(dimension,
// similarity), because their dimension comes from the text encoder.

// Node keys: one node per external id and label.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (n:Item) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;

// No index on INTERACTED properties: queries filter r.split while traversing from a bound
// node, never by lookup, and such indexes cost ~20% of interaction load time.

// Name lookups for the conversational agent (request text -> entities).
CREATE TEXT INDEX item_name IF NOT EXISTS FOR (n:Item) ON (n.name);
CREATE TEXT INDEX entity_name IF NOT EXISTS FOR (n:Entity) ON (n.name);
