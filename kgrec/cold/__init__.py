"""Cold start: new items, new users and anonymous requests for a trained model, no retraining."""

from kgrec.cold.cold_start import ANONYMOUS, ColdStart, LazyTextEncoder, Served
from kgrec.cold.growth import Growth, grow_snapshot

__all__ = ["ANONYMOUS", "ColdStart", "Growth", "LazyTextEncoder", "Served", "grow_snapshot"]
