"""Dataset loaders: each reads one source format into any GraphStore."""
