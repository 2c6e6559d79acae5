"""Versioned graph schema files (Cypher and Turtle), read with importlib.resources."""
