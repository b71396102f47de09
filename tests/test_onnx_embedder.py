"""The ONNX Runtime embedder: the same vectors as sentence-transformers on torch, a cached export that
is rebuilt when damaged, and a query path that never imports torch."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from memcli.embed.embedder import SentenceTransformerEmbedder
from memcli.embed.factory import build_embedder
from memcli.embed.onnx_embedder import ONNX_FILE, OnnxEmbedder
from memcli.settings import load_settings

SENTENCES = [
    "My name is Ada, I live in Lisbon and I am allergic to peanuts.",
    "what am I allergic to",
    "", "ok", "Caroline went to the LGBTQ support group on 7 May 2023.",
    "Ünïcödé, emoji 🎻 and CJK 東京 survive tokenization",
    "Melanie painted a sunrise over the lake last year; she wants to paint it again.",
    "word " * 400,  # past the 256-token limit: truncated the same way
    "I play the cello on Tuesdays with my sister's orchestra in Porto.",
    "[shares a photo of a dog in a garden]",
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder()
    emb.load()
    return emb


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_vectors_match_torch(embedder, torch_embedder) -> None:
    assert isinstance(embedder, OnnxEmbedder)
    onnx, reference = embedder.embed(SENTENCES), torch_embedder.embed(SENTENCES)
    assert onnx.shape == reference.shape == (len(SENTENCES), 384) and onnx.dtype == np.float32
    assert _cosines(onnx, reference).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    # a query (one text, the one-thread session) and a batch give the same vector
    assert _cosines(embedder.embed([SENTENCES[0]]), onnx[:1])[0] >= 0.99999
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.parametrize("damage", ["truncated", "garbage with a matching record"])
def test_a_damaged_export_is_rebuilt(embedder, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(embedder.cache_dir, cache)
    target, record = cache / ONNX_FILE, cache / ONNX_FILE.replace(".onnx", ".json")
    if damage == "truncated":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    else:
        target.write_bytes(b"not an onnx graph")
        record.write_text(json.dumps({**json.loads(record.read_text()),
                                      "sha256": hashlib.sha256(b"not an onnx graph").hexdigest()}))
    rebuilt = OnnxEmbedder(cache)
    assert _cosines(rebuilt.embed(SENTENCES[:3]), embedder.embed(SENTENCES[:3])).min() >= 0.99999
    assert target.stat().st_size > 1_000_000
    assert json.loads(record.read_text())["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()


def test_the_query_path_never_imports_torch(embedder) -> None:
    code = ("import sys\nfrom pathlib import Path\nfrom memcli.embed.onnx_embedder import OnnxEmbedder\n"
            f"v = OnnxEmbedder(Path({str(embedder.cache_dir)!r})).embed(['where does my sister live'])\n"
            "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)\n"
            "print(v.shape, heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(1, 384) []"


def test_settings_choose_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMCLI_EMBEDDER_CACHE")  # the tests' shared export, set in conftest.py
    default = build_embedder(load_settings(data_dir=tmp_path / "d"))
    assert isinstance(default, OnnxEmbedder) and default.cache_dir == tmp_path / "d" / "embedder"
    cached = build_embedder(load_settings(data_dir=tmp_path / "d", embedder_cache=tmp_path / "c"))
    assert isinstance(cached, OnnxEmbedder) and cached.cache_dir == tmp_path / "c"
    # torch on request, and a user's own sentence-transformers folder always runs on torch
    assert isinstance(build_embedder(load_settings(data_dir=tmp_path, embedder_backend="torch")),
                      SentenceTransformerEmbedder)
    folder = build_embedder(load_settings(data_dir=tmp_path, embedder=str(tmp_path / "my-model")))
    assert isinstance(folder, SentenceTransformerEmbedder) and folder.model_id == str(tmp_path / "my-model")
