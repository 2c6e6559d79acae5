"""How a model turns token states into one sentence vector: read from its sentence-transformers
files, applied by :func:`pool`.

A sentence-transformers model folder (local or on the Hugging Face Hub) lists its modules in
``modules.json``; its ``Pooling`` module's ``config.json`` sets the ``pooling_mode_*`` flags,
a ``Normalize`` module L2-normalizes the pooled vector, and ``sentence_bert_config.json`` (in
the transformer's folder) gives ``max_seq_length`` and ``do_lower_case``. A model without
``modules.json`` is a plain transformers model: kgrec mean-pools and L2-normalizes it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import Tensor

from kgrec.errors import DataFormatError, InvalidValueError, shown

log = logging.getLogger(__name__)

#: Pooling modes in the order sentence-transformers concatenates them, each with its config key.
POOLING_KEYS = {
    "cls": "pooling_mode_cls_token",
    "max": "pooling_mode_max_tokens",
    "mean": "pooling_mode_mean_tokens",
    "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens",
    "weightedmean": "pooling_mode_weightedmean_tokens",
    "lasttoken": "pooling_mode_lasttoken",
}
POOLING_MODES = tuple(POOLING_KEYS)
#: The sentence-transformers modules kgrec applies; a model listing any other (Dense, ...) is refused.
SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")


@dataclass(frozen=True)
class SentenceLayout:
    """A model's sentence recipe. ``pooling``: modes in :data:`POOLING_MODES` order (their
    vectors are concatenated); ``normalize``: L2-normalize the result; ``max_seq_length``:
    the model's own token limit, ``None`` when it gives none; ``lowercase``: lower-case texts
    first; ``subfolder``: where the transformer's weights are (``""``: the model's root);
    ``source``: the file the pooling was read from, or ``"default"``."""

    pooling: tuple[str, ...] = ("mean",)
    normalize: bool = True
    max_seq_length: int | None = None
    lowercase: bool = False
    subfolder: str = ""
    source: str = "default"


def pooling_modes(value: str | Iterable[str]) -> tuple[str, ...]:
    """``value`` (one mode or several) as distinct modes in :data:`POOLING_MODES` order; raises
    :class:`InvalidValueError` for an unknown or empty one."""
    modes = {value} if isinstance(value, str) else set(value)
    unknown = [m for m in modes if m not in POOLING_KEYS]
    if unknown or not modes:
        raise InvalidValueError(
            f"pooling {shown(value)} is not one or more of {', '.join(POOLING_MODES)}"
        )
    return tuple(m for m in POOLING_MODES if m in modes)


def _json(model: str, name: str, subfolder: str = "") -> tuple[Any, str] | None:
    """``(parsed file, its path)`` of ``subfolder/name`` in ``model`` (a folder or a Hub name,
    from the local Hugging Face cache or downloaded), or ``None`` when the model has no such file."""
    from transformers.utils import cached_file

    path = cached_file(
        model, name, subfolder=subfolder,
        _raise_exceptions_for_missing_entries=False, _raise_exceptions_for_connection_errors=False,
    )
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")), path
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"not readable JSON: {exc}") from exc


def read_layout(model: str) -> SentenceLayout:
    """The :class:`SentenceLayout` of ``model`` from its sentence-transformers files; the default
    (mean pooling, L2) when it has no ``modules.json``. Raises
    :class:`~kgrec.errors.DataFormatError` naming the file for a malformed one or for a module
    kgrec does not apply (:data:`SUPPORTED_MODULES`): its vectors would not be the model's."""
    found = _json(model, "modules.json")
    if found is None:
        log.info("%s has no modules.json: mean pooling, L2-normalized", model)
        return SentenceLayout()
    modules, path = found
    try:
        kinds = {str(m["type"]).rsplit(".", 1)[-1]: str(m.get("path", "")) for m in modules}
    except (TypeError, KeyError, AttributeError) as exc:
        raise DataFormatError(path, "expected a list of {'type', 'path'} modules") from exc
    other = [k for k in kinds if k not in SUPPORTED_MODULES]
    if other:
        raise DataFormatError(
            path, f"module(s) {shown(other)} are not supported: kgrec applies only {', '.join(SUPPORTED_MODULES)}"
        )
    if "Pooling" not in kinds:
        raise DataFormatError(path, "lists no Pooling module: the model gives no sentence vector")
    subfolder = kinds.get("Transformer", "")
    pooling = _json(model, "config.json", kinds["Pooling"])
    if pooling is None:
        raise DataFormatError(path, f"the Pooling module's {kinds['Pooling']}/config.json is missing")
    flags, pooling_path = pooling
    if not isinstance(flags, dict):
        raise DataFormatError(pooling_path, "expected a JSON object of pooling_mode_* flags")
    modes = tuple(mode for mode, key in POOLING_KEYS.items() if flags.get(key) is True)
    if not modes:
        raise DataFormatError(pooling_path, f"sets none of {', '.join(POOLING_KEYS.values())}")
    settings, settings_path = _json(model, "sentence_bert_config.json", subfolder) or ({}, path)
    max_seq_length = settings.get("max_seq_length") if isinstance(settings, dict) else None
    if max_seq_length is not None and (type(max_seq_length) is not int or max_seq_length < 1):
        raise DataFormatError(settings_path, f"max_seq_length {shown(max_seq_length)} is not a positive integer")
    layout = SentenceLayout(
        pooling=modes,
        normalize="Normalize" in kinds,
        max_seq_length=max_seq_length,
        lowercase=bool(settings.get("do_lower_case", False)) if isinstance(settings, dict) else False,
        subfolder=subfolder,
        source=pooling_path,
    )
    log.info("%s: %s pooling%s (from %s)", model, "+".join(modes), ", L2-normalized" if layout.normalize else "", pooling_path)
    return layout


def pool(hidden: Tensor, mask: Tensor, modes: tuple[str, ...]) -> Tensor:
    """``[B, len(modes) * d]``: the ``modes`` poolings of token states ``hidden [B, T, d]`` over
    the tokens where ``mask [B, T]`` is 1, concatenated in the given order. ``cls`` takes the
    first token, ``lasttoken`` the last unmasked one (left or right padding)."""
    weight = mask.unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
    count = weight.sum(1).clamp(min=1.0)  # [B, 1]
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            parts.append(hidden.masked_fill(weight == 0, torch.finfo(hidden.dtype).min).amax(1))
        elif mode == "mean":
            parts.append((hidden * weight).sum(1) / count)
        elif mode == "mean_sqrt_len_tokens":
            parts.append((hidden * weight).sum(1) / count.sqrt())
        elif mode == "weightedmean":
            position = torch.arange(1, hidden.size(1) + 1, device=hidden.device, dtype=hidden.dtype)
            w = weight * position.view(1, -1, 1)
            parts.append((hidden * w).sum(1) / w.sum(1).clamp(min=1e-9))
        elif mode == "lasttoken":
            position = torch.arange(hidden.size(1), device=hidden.device)
            last = (mask.to(torch.long) * position).argmax(1)  # [B]
            parts.append(hidden[torch.arange(hidden.size(0), device=hidden.device), last])
        else:
            raise InvalidValueError(f"pooling mode {shown(mode)} is not one of {', '.join(POOLING_MODES)}")
    return torch.cat(parts, -1)
