"""The ChatModel protocol and the records it returns."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Protocol

from memcli.errors import MemcliError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


class ModelError(MemcliError):
    """The model file cannot be used (missing, not a GGUF, unsupported, too large…)."""


class ContextOverflowError(ModelError):
    """The prompt does not fit the context window."""

    def __init__(self, prompt_tokens: int, limit: int) -> None:
        super().__init__(
            f"the prompt needs {prompt_tokens} tokens but only {limit} fit in the context window "
            f"(raise n_ctx or shorten the input)"
        )
        self.prompt_tokens, self.limit = prompt_tokens, limit


class StructuredOutputError(MemcliError):
    """A structured (JSON) call returned text that is not valid for its schema."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(f"model output is not valid JSON for the schema: {reason}")
        self.reason, self.raw = reason, raw


@dataclass
class GenerationStats:
    model_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float = 0.0
    total_s: float = 0.0
    finish_reason: str = ""
    cached_prompt_tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        gen = self.total_s - self.ttft_s
        return self.completion_tokens / gen if gen > 0 and self.completion_tokens > 1 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_s": round(self.tokens_per_s, 1)}


@dataclass
class Generation:
    """A streamed reply: iterate `chunks` for text pieces; `stats` is final after the loop."""

    chunks: Iterator[str]
    stats: GenerationStats
    text_parts: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:
        for piece in self.chunks:
            self.text_parts.append(piece)
            yield piece

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


class ChatModel(Protocol):
    model_id: str
    n_ctx: int

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        seed: int | None = None,
    ) -> Generation: ...

    def complete_json(self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 256) -> Any:
        """A reply constrained to `schema`, parsed; raises StructuredOutputError."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def count_message_tokens(self, messages: list[Message]) -> int: ...
