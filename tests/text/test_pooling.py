"""Each model is pooled and normalized as its own sentence-transformers files say, and the cache
key covers everything that changes a vector (issue #10, item 2)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import torch

from kgrec.errors import DataFormatError, InvalidValueError
from kgrec.text import EmbeddingCache, TextEncoder, default_model_path, read_layout
from kgrec.text.pooling import pool

os.environ["HF_HUB_OFFLINE"] = "1"

TEXTS = ["a space opera", "a romantic comedy in Paris", "war film", "Toy Story (1995)"]
#: Longer than 16 tokens, so a max_length of 16 truncates it.
LONG = "a long film description " * 12
MODULES = {
    "Transformer": "sentence_transformers.models.Transformer",
    "Pooling": "sentence_transformers.models.Pooling",
    "Normalize": "sentence_transformers.models.Normalize",
    "Dense": "sentence_transformers.models.Dense",
}
#: The default model's files a bare transformers model folder holds.
BARE_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
              "special_tokens_map.json", "vocab.txt")


def model_folder(root: Path, modules: list[str] | None, pooling: dict | None = None) -> Path:
    """A model folder on disk: the default model's weights and tokenizer (symlinked), with
    ``modules.json`` listing ``modules`` (none: no sentence-transformers files at all) and the
    ``pooling`` flags in ``1_Pooling/config.json``."""
    root.mkdir()
    for name in BARE_FILES:
        (root / name).symlink_to(default_model_path() / name)
    if modules is not None:
        paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize", "Dense": "2_Dense"}
        (root / "modules.json").write_text(json.dumps(
            [{"idx": i, "name": str(i), "path": paths[m], "type": MODULES[m]} for i, m in enumerate(modules)]
        ))
        (root / "1_Pooling").mkdir()
        (root / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **(pooling or {})}))
        (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64, "do_lower_case": False}))
    return root


def hidden_states(texts: list[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(last hidden states [B, T, d], attention mask [B, T])`` of the default model, straight
    from transformers."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    model = AutoModel.from_pretrained(default_model_path()).eval()
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        return model(**tokens).last_hidden_state, tokens["attention_mask"]


@pytest.fixture(scope="module")
def default_encoder() -> TextEncoder:
    return TextEncoder(batch_size=len(TEXTS), device="cpu")


def test_default_model_is_mean_pooled_and_normalized_exactly_as_before(default_encoder):
    """all-MiniLM-L6-v2 lists mean pooling and Normalize: its vectors are the old formula's."""
    assert default_encoder.pooling == ("mean",) and default_encoder.normalize
    assert default_encoder.max_length == 256  # its sentence_bert_config.json max_seq_length
    hidden, mask = hidden_states(TEXTS, max_length=128)  # the old default max_length
    weight = mask.unsqueeze(-1).to(hidden.dtype)
    old = torch.nn.functional.normalize((hidden * weight).sum(1) / weight.sum(1).clamp(min=1.0), dim=-1)
    assert torch.equal(default_encoder.encode(TEXTS), old)


@pytest.mark.parametrize("normalize", [False, True])
def test_cls_pooled_model_gives_the_cls_state(tmp_path, normalize, caplog):
    modules = ["Transformer", "Pooling"] + (["Normalize"] if normalize else [])
    folder = model_folder(tmp_path / "cls", modules, {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    with caplog.at_level(logging.INFO, logger="kgrec.text"):
        encoder = TextEncoder(folder, device="cpu")
    assert "cls pooling" in caplog.text
    assert (encoder.pooling, encoder.normalize, encoder.max_length) == (("cls",), normalize, 64)
    cls = hidden_states(TEXTS, 64)[0][:, 0]
    expected = torch.nn.functional.normalize(cls, dim=-1) if normalize else cls
    assert torch.allclose(encoder.encode(TEXTS), expected, atol=1e-5)
    if not normalize:
        assert not torch.allclose(expected.norm(dim=1), torch.ones(len(TEXTS)), atol=1e-2)


def test_several_pooling_modes_are_concatenated_in_sentence_transformers_order(tmp_path):
    folder = model_folder(tmp_path / "mix", ["Transformer", "Pooling"],
                          {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": True})
    encoder = TextEncoder(folder, device="cpu")
    assert encoder.pooling == ("cls", "mean") and encoder.dim == 2 * 384
    hidden, mask = hidden_states(TEXTS[:2], 64)
    vectors = encoder.encode(TEXTS[:2])
    assert torch.allclose(vectors[:, :384], hidden[:, 0], atol=1e-5)
    assert torch.allclose(vectors[:, 384:], pool(hidden, mask, ("mean",)), atol=1e-5)


def test_plain_transformers_folder_falls_back_to_mean_and_l2(tmp_path, default_encoder, caplog):
    with caplog.at_level(logging.INFO, logger="kgrec.text"):
        encoder = TextEncoder(model_folder(tmp_path / "bare", None), device="cpu")
    assert "no modules.json: mean pooling" in caplog.text
    assert (encoder.pooling, encoder.normalize, encoder.max_length) == (("mean",), True, 128)
    assert torch.allclose(encoder.encode(TEXTS), default_encoder.encode(TEXTS), atol=1e-5)


def test_unsupported_or_broken_sentence_transformers_files_are_refused(tmp_path):
    with pytest.raises(DataFormatError, match="Dense"):
        read_layout(str(model_folder(tmp_path / "dense", ["Transformer", "Pooling", "Dense"],
                                     {"pooling_mode_mean_tokens": True})))
    with pytest.raises(DataFormatError, match="sets none of"):
        read_layout(str(model_folder(tmp_path / "none", ["Transformer", "Pooling"], {"pooling_mode_mean_tokens": False})))
    broken = model_folder(tmp_path / "broken", ["Transformer", "Pooling"])
    (broken / "1_Pooling" / "config.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="1_Pooling"):
        read_layout(str(broken))


@pytest.mark.parametrize(
    "options, problem",
    [({"pooling": "median"}, "pooling"), ({"pooling": []}, "pooling"), ({"max_length": 0}, "max_length"),
     ({"batch_size": "8"}, "batch_size"), ({"normalize": "yes"}, "normalize"), ({"device": "gpu"}, "device")],
)
def test_bad_encoder_options_are_clear_errors(options, problem):
    with pytest.raises(InvalidValueError, match=problem):
        TextEncoder(**options)


def test_pool_modes_on_padded_batches():
    hidden = torch.tensor([[[1.0, 5.0], [3.0, -1.0], [9.0, 9.0]],   # right-padded: 2 tokens
                           [[0.0, 0.0], [2.0, 4.0], [4.0, 2.0]]])   # left-padded: 2 tokens
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]])
    assert pool(hidden, mask, ("cls",)).tolist() == [[1.0, 5.0], [0.0, 0.0]]
    assert pool(hidden, mask, ("max",)).tolist() == [[3.0, 5.0], [4.0, 4.0]]
    assert pool(hidden, mask, ("mean",)).tolist() == [[2.0, 2.0], [3.0, 3.0]]
    assert pool(hidden, mask, ("lasttoken",)).tolist() == [[3.0, -1.0], [4.0, 2.0]]
    # positions 1, 2 (right-padded) and 2, 3 (left-padded) weigh the tokens
    assert torch.allclose(pool(hidden, mask, ("weightedmean",)),
                          torch.tensor([[7 / 3, 1.0], [16 / 5, 14 / 5]]))
    assert pool(torch.empty(2, 3, 4, device="meta"), torch.ones(2, 3, device="meta"),
                ("cls", "max", "mean", "weightedmean", "lasttoken")).device.type == "meta"


class Counting:
    """Wraps an encoder, counting the texts it is asked to encode."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder, self.count = encoder, 0
        self.fingerprint, self.dim = encoder.fingerprint, encoder.dim

    def encode(self, texts):
        self.count += len(texts)
        return self.encoder.encode(texts)


def test_cache_key_covers_max_length_pooling_and_weights(tmp_path, default_encoder):
    texts = [LONG, "short"]
    cached = EmbeddingCache(Counting(default_encoder), tmp_path / "cache").encode(texts)
    same = Counting(TextEncoder(device="cpu"))
    assert torch.equal(EmbeddingCache(same, tmp_path / "cache").encode(texts), cached)
    assert same.count == 0  # same settings: every vector from the cache

    short = Counting(TextEncoder(max_length=16, device="cpu"))
    vectors = EmbeddingCache(short, tmp_path / "cache").encode(texts)
    assert short.count == 2 and not torch.allclose(vectors[0], cached[0], atol=1e-3)
    cls = Counting(TextEncoder(pooling="cls", device="cpu"))
    vectors = EmbeddingCache(cls, tmp_path / "cache").encode(texts)
    assert cls.count == 2 and not torch.allclose(vectors[1], cached[1], atol=1e-3)
    raw = Counting(TextEncoder(normalize=False, device="cpu"))
    EmbeddingCache(raw, tmp_path / "cache").encode(texts)
    assert raw.count == 2

    folder = model_folder(tmp_path / "model", ["Transformer", "Pooling", "Normalize"], {"pooling_mode_mean_tokens": True})
    before = TextEncoder(folder, device="cpu").fingerprint
    assert TextEncoder(folder, device="cpu").fingerprint == before
    weights = folder / "model.safetensors"
    weights.unlink()
    weights.write_bytes((default_model_path() / "model.safetensors").read_bytes())  # "retrained" in place
    assert TextEncoder(folder, device="cpu").fingerprint != before
