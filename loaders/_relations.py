"""Relation names taken from data: the caller's ``relation_map`` first, else a deterministic
valid name; two sources never share one name.

Every loader names its relations (and the RDF loader its literal property keys) through
:class:`RelationNames`, so ``music.artist.origin`` becomes ``music_artist_origin`` everywhere,
and a name is only ever stored after :func:`~kgrec.graph.schema.validate_relation` passed it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Callable, Mapping, Union

from kgrec.errors import DataFormatError, shown

from ._io import checked_relation, local_name

#: Source relation -> stored name (``None`` skips it): a mapping (sources it lacks get
#: :func:`default_relation_name`) or a function of the source.
RelationMap = Union[Mapping[str, "str | None"], Callable[[str], "str | None"]]

_IRI_OR_CURIE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_NAME_LENGTH = 64


def default_relation_name(source: str) -> str:
    """A valid relation name for ``source``; a valid name is kept as it is.

    An IRI or CURIE gives its local name (``dbo:starring`` -> ``starring``); accents are
    dropped; each run of characters other than ASCII letters, digits and ``_`` becomes one
    ``_`` (``music.artist.origin`` -> ``music_artist_origin``, ``directed by`` ->
    ``directed_by``); ``r`` goes in front of a name that does not start with a letter
    (``0`` -> ``r0``); the result is cut to 64 characters.
    """
    text = local_name(source) if _IRI_OR_CURIE.fullmatch(source) else source
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if not name[:1].isalpha():
        name = f"r{name}"
    return name[:_NAME_LENGTH]


class RelationNames:
    """The names of one load's relations.

    ``relations`` is the mapping applied so far, ``{source: stored relation name}``, for
    :attr:`~loaders.LoadReport.relations`.
    """

    def __init__(self, relation_map: RelationMap | None = None) -> None:
        if relation_map is None or callable(relation_map):
            self._lookup = relation_map
        else:
            mapping = {str(k): v for k, v in relation_map.items()}
            self._lookup = lambda source: mapping.get(source, default_relation_name(source))
        self._names: dict[str, str | None] = {}
        self._source_of: dict[str, str] = {}
        self.relations: dict[str, str] = {}

    def name(self, source: str, path: Path, line: int | None) -> str | None:
        """The name ``source`` maps to (``None``: skip it), unchecked; a
        :class:`DataFormatError` at ``line`` when another source already has that name."""
        if source not in self._names:
            name = default_relation_name(source) if self._lookup is None else self._lookup(source)
            if name is not None and not isinstance(name, str):
                raise DataFormatError(
                    path, f"relation_map gave {shown(name)} for {shown(source)}: not a str", line
                )
            other = self._source_of.setdefault(name, source) if name is not None else source
            if other != source:
                raise DataFormatError(
                    path,
                    f"{shown(other)} and {shown(source)} both map to {shown(name)}: "
                    "give one of them another name in relation_map",
                    line,
                )
            self._names[source] = name
        return self._names[source]

    def relation(self, source: str, path: Path, line: int | None) -> str | None:
        """:meth:`name` checked as a relation name and recorded in :attr:`relations`."""
        if source in self.relations:
            return self.relations[source]
        name = self.name(source, path, line)
        if name is not None:
            self.relations[source] = checked_relation(name, path, line)
        return name
