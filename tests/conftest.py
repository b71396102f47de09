from __future__ import annotations

import os
from pathlib import Path

import pytest

from memcli.clock import SimulatedClock
from memcli.embed.onnx_embedder import OnnxEmbedder
from memcli.settings import Settings, load_settings


@pytest.fixture(scope="session")
def embedder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export of the default embedder for the whole run (every data dir would otherwise export).

    MEMCLI_TEST_EMBEDDER_CACHE=DIR keeps it between runs (the export takes 20-80 s on a busy 2-core
    machine, per run): the embedder checks the file's SHA-256 and source and exports again when they
    do not match, and the damaged-export test works on a copy. Unset, every run exports afresh."""
    keep = os.environ.get("MEMCLI_TEST_EMBEDDER_CACHE")
    return Path(keep) if keep else tmp_path_factory.mktemp("embedder")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                     embedder_cache: Path) -> None:
    """No test reads the developer's own config file or MEMCLI_* variables."""
    for key in list(os.environ):
        if key.startswith("MEMCLI_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MEMCLI_CONFIG", str(tmp_path_factory.mktemp("cfg") / "config.toml"))
    monkeypatch.setenv("MEMCLI_EMBEDDER_CACHE", str(embedder_cache))


@pytest.fixture(scope="session")
def embedder(embedder_cache: Path) -> OnnxEmbedder:
    """The real default embedder (ONNX Runtime), exported and loaded once per test run."""
    emb = OnnxEmbedder(embedder_cache)
    emb.load()
    return emb


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", n_threads=2)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()
