"""The llama.cpp chat model (llama-cpp-python), loaded lazily.

Prompts are formatted with the chat template stored in the GGUF and tokenized
here, so token counts are the model's own and overflow is caught before
generation. llama.cpp keeps the previous call's tokens in its KV cache and
re-uses the longest common prefix, which is why memcli puts the parts of a
prompt that change least first (see memcli/engine context building).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from memcli.model.base import (
    ContextOverflowError,
    Generation,
    GenerationStats,
    Message,
    ModelError,
    StructuredOutputError,
)
from memcli.model.gguf import check_model_file, default_model_path, read_architecture


class LlamaChatModel:
    def __init__(
        self,
        path: Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int = 2,
        seed: int = 0,
        temperature: float = 0.3,
        max_tokens: int = 256,
        repeat_penalty: float = 1.1,
    ) -> None:
        self.path = check_model_file(path) if path is not None else default_model_path()
        self.model_id = self.path.stem
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.repeat_penalty = repeat_penalty
        self.load_seconds: float | None = None
        self.parse_failures = 0
        self._llm: Any = None
        self._formatter: Any = None
        self._add_bos = True
        self._grammars: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        with self._lock:
            if self._llm is not None:
                return
            started = time.perf_counter()
            try:
                from llama_cpp import Llama
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                llm = Llama(
                    model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                    n_threads_batch=self.n_threads, seed=self.seed, verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                arch = read_architecture(self.path)
                what = f"architecture {arch!r}" if arch else "its header could not be read"
                raise ModelError(
                    f"llama.cpp cannot load {self.path.name} ({what}): unsupported by this llama.cpp build "
                    f"or a damaged file [{exc}]"
                ) from None
            meta = llm.metadata
            template = meta.get("tokenizer.chat_template")
            if not template:
                raise ModelError(f"{self.path.name} has no chat template in its metadata; use an instruct/chat GGUF")
            token = lambda tid: llm._model.token_get_text(tid)  # noqa: E731
            self._formatter = Jinja2ChatFormatter(
                template=template, eos_token=token(llm.token_eos()), bos_token=token(llm.token_bos()),
            )
            self._add_bos = meta.get("tokenizer.ggml.add_bos_token", "false") == "true"
            self._llm = llm
            self.load_seconds = time.perf_counter() - started

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    # -- tokens ----------------------------------------------------------------------------

    def format_prompt(self, messages: list[Message]) -> tuple[str, list[str]]:
        self.load()
        response = self._formatter(messages=messages)
        stop = response.stop if isinstance(response.stop, list) else [response.stop] if response.stop else []
        return response.prompt, stop

    def _tokenize(self, text: str, add_bos: bool) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tokenize(text, add_bos=False))

    def count_message_tokens(self, messages: list[Message]) -> int:
        prompt, _ = self.format_prompt(messages)
        return len(self._tokenize(prompt, add_bos=self._add_bos))

    # -- generation ------------------------------------------------------------------------

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        grammar: Any = None,
        seed: int | None = None,
    ) -> Generation:
        prompt, stop = self.format_prompt(messages)
        tokens = self._tokenize(prompt, add_bos=self._add_bos)
        max_tokens = max_tokens or self.max_tokens
        if len(tokens) + max_tokens > self.n_ctx:
            raise ContextOverflowError(len(tokens), self.n_ctx - max_tokens)
        stats = GenerationStats(self.model_id, prompt_tokens=len(tokens))
        seed = self.seed if seed is None else seed
        return Generation(self._run(tokens, stop, max_tokens, temperature, cancel, grammar, stats, seed), stats)

    def _run(self, tokens, stop, max_tokens, temperature, cancel, grammar, stats, seed) -> Iterator[str]:
        with self._lock:
            llm = self._llm
            previous = list(llm._input_ids[: llm.n_tokens])
            stats.cached_prompt_tokens = next(
                (i for i, (a, b) in enumerate(zip(previous, tokens)) if a != b), min(len(previous), len(tokens))
            )
            started = time.perf_counter()
            pieces: list[str] = []
            stream = llm.create_completion(
                tokens, max_tokens=max_tokens, stream=True, stop=stop, seed=seed, grammar=grammar,
                repeat_penalty=1.0 if grammar is not None else self.repeat_penalty,
                temperature=self.temperature if temperature is None else temperature,
            )
            try:
                for chunk in stream:
                    if cancel is not None and cancel.is_set():
                        stats.finish_reason = "cancelled"
                        break
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    if text:
                        if not pieces:
                            stats.ttft_s = time.perf_counter() - started
                        pieces.append(text)
                        yield text
                    if choice.get("finish_reason"):
                        stats.finish_reason = choice["finish_reason"]
            finally:
                stream.close()
                stats.total_s = time.perf_counter() - started
                stats.completion_tokens = len(self._tokenize("".join(pieces), add_bos=False)) if pieces else 0

    def complete_json(self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 256) -> Any:
        """Generate under a grammar built from `schema`; parse it or raise StructuredOutputError."""
        self.load()
        key = json.dumps(bounded_schema(schema, max_tokens), sort_keys=True)
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        gen = self.stream(messages, max_tokens=max_tokens, temperature=0.0, grammar=self._grammars[key])
        raw = "".join(gen)
        return parse_structured(raw, gen.stats.finish_reason, self)


def _string_slots(schema: Any, max_items: int) -> int:
    """How many strings a reply to `schema` can hold at most (arrays multiply)."""
    if isinstance(schema, list):
        return sum(_string_slots(s, max_items) for s in schema)
    if not isinstance(schema, dict):
        return 0
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema:
        return 1
    if kind == "array":
        return min(schema.get("maxItems", max_items), max_items) * _string_slots(schema.get("items", {}), max_items)
    return sum(_string_slots(v, max_items) for v in schema.get("properties", {}).values())


def bounded_schema(schema: Any, max_tokens: int = 256) -> Any:
    """A copy of `schema` whose every reply fits in `max_tokens`, so it cannot be truncated.

    Small models loop inside an unbounded array or string until max_tokens cuts the JSON
    off. Arrays get at most max_tokens // 48 items and strings a share of 70% of the
    budget, counted at the worst case of one token a character; an integer with a
    minimum and maximum up to 1000 apart becomes an enum (llama-cpp-python's grammar
    converter ignores minimum/maximum).
    """
    max_items = max(1, max_tokens // 48)
    slots = max(1, _string_slots(schema, max_items))
    max_length = max(8, int(0.7 * max_tokens) // slots - 2)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        kind = out.get("type")
        if kind == "array":
            out["maxItems"] = min(out.get("maxItems", max_items), max_items)
        elif kind == "string" and "enum" not in out and "pattern" not in out:
            out["maxLength"] = min(out.get("maxLength", max_length), max_length)
        elif kind == "object":
            out.setdefault("additionalProperties", False)
        elif kind == "integer" and "minimum" in out and "maximum" in out and out["maximum"] - out["minimum"] <= 1000:
            out = {"enum": list(range(out["minimum"], out["maximum"] + 1))}
        return out

    return walk(schema)


def parse_structured(raw: str, finish_reason: str, counter: Any) -> Any:
    """Parse a structured reply; count and raise on truncation or invalid JSON."""
    if finish_reason == "length":
        counter.parse_failures += 1
        raise StructuredOutputError("truncated at max_tokens", raw)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        counter.parse_failures += 1
        raise StructuredOutputError(str(exc), raw) from None
