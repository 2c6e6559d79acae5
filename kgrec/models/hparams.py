"""What a model's hyperparameters may be: each :class:`~kgrec.models.RankingModel` declares its
constructor arguments as :class:`HParam` rules, so a checkpoint's ``config.json`` is checked
before anything is built (``channels=10**9`` never allocates)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from kgrec.errors import InvalidValueError, shown

#: The largest embedding size any model accepts: a sane bound, far above what models use, that
#: keeps an edited checkpoint from allocating terabytes.
MAX_CHANNELS = 4_096

#: The most propagation layers any model accepts.
MAX_LAYERS = 16


@dataclass(frozen=True)
class HParam:
    """One hyperparameter: its type (``int``, ``float``, ``bool`` or ``str``) and allowed
    values: ``low <= value <= high`` (``low`` excluded when ``low_open``) or one of ``choices``.
    An ``int`` is accepted where a ``float`` is expected; a ``bool`` never stands for a number."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.choices is not None:
            return f"one of {list(self.choices)}"
        if self.kind is bool:
            return "true or false"
        low = "" if self.low is None else f" {'>' if self.low_open else '>='} {self.low:g}"
        high = "" if self.high is None else f"{' and' if low else ''} <= {self.high:g}"
        return f"{'an' if self.kind is int else 'a'} {self.kind.__name__}{low}{high}"

    def accepts(self, value: Any) -> bool:
        kinds = (int, float) if self.kind is float else (self.kind,)
        if (isinstance(value, bool) and self.kind is not bool) or not isinstance(value, kinds):
            return False
        if self.choices is not None:
            return value in self.choices
        if self.kind is float and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high


#: Rules most models share.
CHANNELS = HParam(int, 1, MAX_CHANNELS)
LAYERS = HParam(int, 0, MAX_LAYERS)
FLAG = HParam(bool)


def check_hparams(rules: Mapping[str, HParam], hparams: object, what: str = "hparams") -> None:
    """Raise :class:`InvalidValueError` naming the field (``hparams.channels``) unless
    ``hparams`` is a mapping with exactly the keys of ``rules``, each value allowed by its rule."""
    if not isinstance(hparams, Mapping):
        raise InvalidValueError(f"{what} must be an object, got {shown(hparams)}")
    unknown = sorted(map(str, hparams.keys() - rules.keys()))
    if unknown:
        raise InvalidValueError(
            f"{what} has unknown key(s) {', '.join(shown(k) for k in unknown[:10])}: "
            f"expected {sorted(rules)}"
        )
    missing = sorted(rules.keys() - hparams.keys())
    if missing:
        raise InvalidValueError(f"{what} lacks key(s) {missing}")
    for name, rule in rules.items():
        if not rule.accepts(hparams[name]):
            raise InvalidValueError(
                f"{what}.{name} must be {rule.describe()}, got {shown(hparams[name])}"
            )
