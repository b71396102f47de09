from __future__ import annotations

import os
from pathlib import Path

import pytest

from memcli.clock import SimulatedClock
from memcli.embed.embedder import SentenceTransformerEmbedder
from memcli.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file or MEMCLI_* variables."""
    for key in list(os.environ):
        if key.startswith("MEMCLI_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MEMCLI_CONFIG", str(tmp_path_factory.mktemp("cfg") / "config.toml"))


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default embedder, loaded once per test run (~5 s: torch import)."""
    emb = SentenceTransformerEmbedder()
    emb.load()
    return emb


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", n_threads=2)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()
