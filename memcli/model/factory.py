"""Build the configured chat model (optionally behind a cassette)."""

from __future__ import annotations

from pathlib import Path

from memcli.model.base import ChatModel
from memcli.model.cassette import CassetteModel, Mode
from memcli.model.llama import LlamaChatModel
from memcli.settings import Settings


def build_chat_model(settings: Settings, *, cassette: Path | None = None, mode: Mode = "auto") -> ChatModel:
    """The model from settings (`model` path or the embedded default); nothing is loaded yet."""
    model = LlamaChatModel(
        settings.model,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        seed=settings.seed,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        repeat_penalty=settings.repeat_penalty,
    )
    if cassette is not None:
        return CassetteModel(model, cassette, mode=mode, seed=settings.seed)
    return model
