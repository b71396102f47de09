"""A chat model behind an OpenAI-compatible endpoint (llama.cpp's server, Ollama, LM Studio, vLLM, a hosted API).

Spoken through the official `openai` client. Token counts come from the server: its usage
block for a reply, its tokenize route (llama.cpp's `/tokenize`, llama-cpp-python's
`/extras/tokenize`) for budgeting; a server with neither gets an estimate of one token per
three characters, which errs on the side of a smaller prompt. Structured replies ask for
`response_format` json_schema (OpenAI, vLLM, llama.cpp), then the json_object-with-schema
form (llama-cpp-python's server); a server that takes neither raises
StructuredOutputUnsupported. The API key is read from an environment variable, never stored.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any, Iterator

from memcli.model.base import ContextOverflowError, Generation, GenerationStats, Message, ModelError
from memcli.model.llama import bounded_schema, parse_structured

CHARS_PER_TOKEN = 3  # the estimate when the server cannot tokenize: short of most tokenizers' ~4


class StructuredOutputUnsupported(ModelError):
    """The endpoint takes no schema-constrained replies (no response_format json_schema or json_object)."""


class EndpointChatModel:
    def __init__(
        self,
        base_url: str,
        *,
        model_name: str = "",
        api_key_env: str = "OPENAI_API_KEY",
        n_ctx: int = 4096,
        seed: int = 0,
        temperature: float = 0.3,
        max_tokens: int = 256,
        repeat_penalty: float = 1.1,
        timeout_s: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self.api_key_env = api_key_env
        self.n_ctx = n_ctx
        self.seed = seed
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.repeat_penalty = repeat_penalty
        self.timeout_s = timeout_s
        self.model_id = model_name or self.base_url
        self.parse_failures = 0
        self._client: Any = None
        self._tokenize_route: str | None = None  # "" once known that the server has none
        self._json_format: str | None = None  # the response_format kind that worked
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------

    def load(self) -> None:
        """Connect and learn the model name; a server that does not answer is a ModelError."""
        with self._lock:
            if self._client is not None:
                return
            import openai

            client = openai.OpenAI(base_url=self.base_url, api_key=os.environ.get(self.api_key_env) or "none",
                                   timeout=self.timeout_s, max_retries=1)
            try:
                served = [m.id for m in client.models.list()]
            except openai.APIError as exc:
                raise ModelError(f"the endpoint {self.base_url} does not answer as an OpenAI-compatible API: "
                                 f"{exc}") from None
            if not self.model_name:
                if not served:
                    raise ModelError(f"the endpoint {self.base_url} serves no model; set model_name")
                self.model_name = served[0]
            self.model_id = self.model_name
            self._client = client

    @property
    def loaded(self) -> bool:
        return self._client is not None

    # -- tokens ----------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        self.load()
        if self._tokenize_route is None:
            self._tokenize_route = next((r for r in ("/extras/tokenize", "/tokenize") if self._tokens(r, "a") is not None),
                                        "")
        counted = self._tokens(self._tokenize_route, text) if self._tokenize_route else None
        return counted if counted is not None else math.ceil(len(text) / CHARS_PER_TOKEN)

    def _tokens(self, route: str, text: str) -> int | None:
        import httpx

        root = self.base_url.removesuffix("/v1")
        try:
            response = httpx.post(root + route, json={"input": text, "content": text, "model": self.model_name},
                                  timeout=self.timeout_s)
            if response.status_code != 200:
                return None
            tokens = response.json().get("tokens")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return len(tokens) if isinstance(tokens, list) else None

    def count_message_tokens(self, messages: list[Message]) -> int:
        overhead = 8  # role markers of a chat template, as memcli.context counts them
        return self.count_tokens("\n".join(m["content"] for m in messages)) + overhead * len(messages)  # one call

    # -- generation ------------------------------------------------------------------------

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        seed: int | None = None,
    ) -> Generation:
        self.load()
        max_tokens = max_tokens or self.max_tokens
        prompt_tokens = self.count_message_tokens(messages)
        if prompt_tokens + max_tokens > self.n_ctx:
            raise ContextOverflowError(prompt_tokens, self.n_ctx - max_tokens)
        stats = GenerationStats(self.model_id, prompt_tokens=prompt_tokens)
        request = {
            "model": self.model_name, "messages": messages, "max_tokens": max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
            "seed": self.seed if seed is None else seed,
        }
        return Generation(self._run(request, cancel, stats), stats)

    def _run(self, request: dict[str, Any], cancel: threading.Event | None, stats: GenerationStats) -> Iterator[str]:
        import openai

        started = time.perf_counter()
        pieces: list[str] = []
        try:
            response = self._client.chat.completions.create(**request, stream=True,
                                                            stream_options={"include_usage": True})
        except openai.APIError as exc:
            raise ModelError(f"the endpoint {self.base_url} refused the request: {exc}") from None
        try:
            for chunk in response:
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    break
                if chunk.usage is not None:
                    stats.prompt_tokens = chunk.usage.prompt_tokens or 0
                    stats.completion_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices:
                    text = (choice.delta.content or "") if choice.delta is not None else ""
                    if text:
                        if not pieces:
                            stats.ttft_s = time.perf_counter() - started
                        pieces.append(text)
                        yield text
                    if choice.finish_reason:
                        stats.finish_reason = choice.finish_reason
        finally:
            response.close()
            stats.total_s = time.perf_counter() - started
            if not stats.completion_tokens and pieces:
                stats.completion_tokens = self.count_tokens("".join(pieces))

    def complete_json(self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 256) -> Any:
        """A reply constrained to `schema` by the server; parsed, or StructuredOutputError."""
        import openai

        self.load()
        bounded = bounded_schema(schema, max_tokens)
        formats = {
            "json_schema": {"type": "json_schema", "json_schema": {"name": "reply", "schema": bounded, "strict": True}},
            "json_object": {"type": "json_object", "schema": bounded},
        }
        for kind in [self._json_format] if self._json_format else list(formats):
            try:
                reply = self._client.chat.completions.create(
                    model=self.model_name, messages=messages, max_tokens=max_tokens, temperature=0.0,
                    seed=self.seed, response_format=formats[kind])
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError):
                continue
            self._json_format = kind
            choice = reply.choices[0]
            return parse_structured(choice.message.content or "", choice.finish_reason or "", self)
        raise StructuredOutputUnsupported(
            f"the endpoint {self.base_url} takes no schema-constrained replies (response_format json_schema or "
            f"json_object); use llm_memory = off with it")

