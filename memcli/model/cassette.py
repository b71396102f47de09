"""Recorded model calls.

A cassette is a JSONL file of (request key → reply). Keys hash the model id,
the messages, the generation parameters and the seed, so a replay returns
exactly what the model said when the same request was recorded. Replays of
sample sessions and tests use cassettes to be deterministic and fast; a
replay that misses says which request is missing instead of guessing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any, Iterator, Literal

from memcli.errors import MemcliError
from memcli.model.base import ChatModel, Generation, GenerationStats, Message, StructuredOutputError
from memcli.model.llama import parse_structured

Mode = Literal["record", "replay", "auto"]


class CassetteMiss(MemcliError):
    def __init__(self, path: Path, key: str) -> None:
        super().__init__(
            f"no recorded model call {key[:12]} in cassette {path}; record it again with --record"
        )


def request_key(model_id: str, messages: list[Message], params: dict[str, Any]) -> str:
    blob = json.dumps({"model": model_id, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CassetteModel:
    """Wraps a ChatModel. `replay` never calls it; `record` always does; `auto` on a miss."""

    def __init__(self, inner: ChatModel, path: Path, mode: Mode = "auto", seed: int = 0) -> None:
        self.inner = inner
        self.path = path
        self.mode = mode
        self.seed = seed
        self.model_id = inner.model_id
        self.n_ctx = inner.n_ctx
        self.parse_failures = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        if path.exists():
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self._entries[entry["key"]] = entry
                except (ValueError, KeyError, TypeError):
                    raise MemcliError(f"cassette {path} line {n} is not a recorded call") from None
        elif mode == "replay":
            raise MemcliError(f"cassette not found: {path}")

    def __getattr__(self, name: str) -> Any:  # token counting, load(), … go to the real model
        return getattr(self.inner, name)

    def _record(self, key: str, messages: list[Message], params: dict[str, Any], text: str, stats: dict) -> None:
        entry = {"key": key, "model": self.model_id, "params": params, "messages": messages,
                 "text": text, "stats": stats}
        with self._lock:
            self._entries[key] = entry
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def _lookup(self, key: str) -> dict[str, Any] | None:
        if self.mode == "record":
            return None
        entry = self._entries.get(key)
        if entry is None and self.mode == "replay":
            self.misses += 1
            raise CassetteMiss(self.path, key)
        if entry is not None:
            self.hits += 1
        return entry

    def stream(self, messages: list[Message], *, max_tokens: int | None = None,
               temperature: float | None = None, cancel: threading.Event | None = None,
               seed: int | None = None) -> Generation:
        params = {"max_tokens": max_tokens or getattr(self.inner, "max_tokens", None),
                  "temperature": getattr(self.inner, "temperature", None) if temperature is None else temperature,
                  "repeat_penalty": getattr(self.inner, "repeat_penalty", None),
                  "seed": self.seed if seed is None else seed, "kind": "chat"}
        key = request_key(self.model_id, messages, params)
        entry = self._lookup(key)
        if entry is not None:
            stats = GenerationStats(**{k: v for k, v in entry["stats"].items() if k != "tokens_per_s"})
            return Generation(_replay_pieces(entry["text"], cancel, stats), stats)
        inner = self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature, cancel=cancel,
                                  **({} if seed is None else {"seed": seed}))
        return Generation(self._recording(inner, key, messages, params), inner.stats)

    def _recording(self, inner: Generation, key: str, messages, params) -> Iterator[str]:
        yield from inner
        if inner.stats.finish_reason != "cancelled":
            self._record(key, messages, params, inner.text, inner.stats.as_dict())

    def complete_json(self, messages: list[Message], schema: dict[str, Any], *, max_tokens: int = 256) -> Any:
        params = {"max_tokens": max_tokens, "schema": schema, "seed": self.seed, "kind": "json"}
        key = request_key(self.model_id, messages, params)
        entry = self._lookup(key)
        if entry is None:
            try:
                value = self.inner.complete_json(messages, schema, max_tokens=max_tokens)
                raw, finish = json.dumps(value, ensure_ascii=False), "stop"
            except StructuredOutputError as exc:
                raw, finish = exc.raw, "invalid"
            self._record(key, messages, params, raw, {"model_id": self.model_id, "finish_reason": finish})
            entry = self._entries[key]
        return parse_structured(entry["text"], entry["stats"].get("finish_reason", ""), self)


def _replay_pieces(text: str, cancel: threading.Event | None, stats: GenerationStats) -> Iterator[str]:
    for piece in re.findall(r"\s*\S+|\s+", text):
        if cancel is not None and cancel.is_set():
            stats.finish_reason = "cancelled"
            return
        yield piece
