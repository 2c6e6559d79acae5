"""Versioned graph schema files, read with importlib.resources: ``schema.cypher`` (a template
rendered per label namespace by :func:`kgrec.graph.schema.schema_statements`) and its Turtle
description ``schema.ttl``."""
