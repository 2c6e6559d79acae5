"""Lazy public names of a package (PEP 562): each imported from its module on first access.

``import kgrec`` stays cheap this way: the Neo4j driver, PyTorch Geometric (and the part of
transformers it imports) load only when a name that needs them is used.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping


def lazy_names(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` that resolve each name of
    ``names`` (public name -> module that defines it) on first access and keep it in the
    package's namespace; any other missing name raises :class:`AttributeError`."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = namespace[name] = getattr(importlib.import_module(module), name)
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.keys() | names.keys())

    return __getattr__, __dir__
