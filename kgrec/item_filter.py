"""Which items a request may return: ``filters=`` of :meth:`kgrec.Recommender.recommend`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import torch

from kgrec.errors import InvalidValueError, UnknownIdError, shown
from kgrec.graph.records import NodeRecord

#: ``filters``: item ids to allow, or a predicate on the item's stored record.
ItemFilter = Collection[str] | Callable[[NodeRecord], bool]


def allowed_items(
    filters: ItemFilter | None, item_ids: Sequence[str], records: Mapping[str, NodeRecord]
) -> torch.Tensor | None:
    """``[I]`` true for the items of ``item_ids`` (index order) that ``filters`` allows, or
    ``None`` for no filter; raises for a filter of the wrong type or unknown item ids."""
    if filters is None:
        return None
    if callable(filters):
        return torch.tensor([bool(filters(records[i])) for i in item_ids], dtype=torch.bool)
    if (
        isinstance(filters, (str, bytes, Mapping))
        or not isinstance(filters, Collection)
        or not all(isinstance(i, str) for i in filters)
    ):
        raise InvalidValueError(
            "filters must be a collection of item id strings or a predicate on an item's "
            f"NodeRecord, got {type(filters).__name__} {shown(filters)}"
        )
    unknown = sorted(set(filters) - set(item_ids))
    if unknown:
        raise UnknownIdError("item", unknown)
    allowed = set(filters)
    return torch.tensor([i in allowed for i in item_ids], dtype=torch.bool)
