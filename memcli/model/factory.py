"""Build the configured chat model (optionally behind a cassette)."""

from __future__ import annotations

from pathlib import Path

from memcli.model.base import ChatModel
from memcli.model.cassette import CassetteModel, Mode
from memcli.model.gguf import DEFAULT_MODEL_FILE
from memcli.settings import Settings


SMALL_MODEL_BYTES = 1 << 30  # a GGUF under 1 GiB: about 1B parameters or fewer
SMALL_MODEL_HISTORY = 2  # bench_chat.py with SmolLM2-135M: vs the whole history, 0 repeats (docs/benchmarks.md)
LARGE_MODEL_HISTORY = 16  # a larger model or an endpoint: not measured here (no such model on this machine)


def gguf_of(model: ChatModel | None) -> Path | None:
    """The GGUF file behind `model` (through a cassette), or None for an endpoint."""
    inner = getattr(model, "inner", model)
    path = getattr(inner, "path", None)
    return path if isinstance(path, Path) else None


def history_messages(settings: Settings, model: ChatModel | None) -> int | None:
    """Recent messages in the prompt: the `history` setting, or by the model's size when it is -1
    (None without a model: fixed replies build no prompt)."""
    if settings.history >= 0:
        return settings.history
    if model is None:
        return None
    path = gguf_of(model)
    small = path is not None and path.is_file() and path.stat().st_size < SMALL_MODEL_BYTES
    return SMALL_MODEL_HISTORY if small else LARGE_MODEL_HISTORY


EMPTY_CHAT_HINT = "Try: tell me facts about you, then ask about them. F4: what was retrieved, F5: the prompt."


def model_line(model: ChatModel | None) -> str:
    """The one line a first screen says about the model; for the 135M demo model, how to use a better one."""
    if model is None:
        return "No chat model."
    path = gguf_of(model)
    if path is not None and path.name == DEFAULT_MODEL_FILE:
        return "Model: SmolLM2-135M, a tiny demo (weak answers). Better: `memcli models`, then --model NAME."
    return f"Model: {model.model_id}" + (f" at {model.base_url}" if hasattr(model, "base_url") else "")


def is_endpoint(model: str | None) -> bool:
    return bool(model) and model.startswith(("http://", "https://"))  # type: ignore[union-attr]


def model_file(settings: Settings) -> tuple[Path | None, str]:
    """The GGUF file `model` names and the name to show: a path, or a name `memcli models` lists
    (None: the embedded model)."""
    from memcli.model.discovery import find_model

    if not settings.model:
        return None, ""
    path = Path(settings.model).expanduser()
    if path.exists() or path.suffix == ".gguf" or "/" in settings.model:
        return path, ""  # a path: LlamaChatModel says what is wrong with it
    found = find_model(settings.model, settings.models_dir)
    return found.path, found.name


def build_chat_model(settings: Settings, *, cassette: Path | None = None, mode: Mode = "auto") -> ChatModel:
    """The model from settings (a GGUF, a model name, an endpoint, or the embedded default); nothing is loaded yet."""
    model: ChatModel
    if is_endpoint(settings.model):
        from memcli.model.endpoint import EndpointChatModel

        model = EndpointChatModel(
            settings.model or "", model_name=settings.model_name, api_key_env=settings.api_key_env,
            n_ctx=settings.n_ctx, seed=settings.seed, temperature=settings.temperature,
            max_tokens=settings.max_tokens, repeat_penalty=settings.repeat_penalty,
        )
    else:
        from memcli.model.llama import LlamaChatModel

        path, name = model_file(settings)
        model = LlamaChatModel(
            path,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            seed=settings.seed,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            repeat_penalty=settings.repeat_penalty,
        )
        model.model_id = name or model.model_id
    if cassette is not None:
        return CassetteModel(model, cassette, mode=mode, seed=settings.seed)
    return model
