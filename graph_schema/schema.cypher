// kgrec graph schema, version 1. Every statement is idempotent (IF NOT EXISTS): applying the
// file twice changes nothing. Applied by Neo4jGraphStore.apply_schema() (and on connect).
// Vector indexes are created per label by Neo4jGraphStore.create_vector_index(dimension,
// similarity), because their dimension comes from the text encoder.

// Node keys: one node per external id and label.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (n:Item) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;

// Interactions: snapshots and path queries filter on the split; recency queries on time.
CREATE INDEX interacted_split IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.split);
CREATE INDEX interacted_timestamp IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.timestamp);

// Name lookups for the conversational agent (request text -> entities).
CREATE TEXT INDEX item_name IF NOT EXISTS FOR (n:Item) ON (n.name);
CREATE TEXT INDEX entity_name IF NOT EXISTS FOR (n:Entity) ON (n.name);
