"""A scripted chat model for tests that need a reply of known length and pace (never a default)."""

from __future__ import annotations

import threading
import time

from memcli.model.base import Generation, GenerationStats


class SlowScriptedModel:
    model_id = "scripted"
    n_ctx = 4096
    max_tokens = 256
    temperature = 0.0

    def __init__(self, pieces: int = 200, delay: float = 0.02) -> None:
        self.pieces, self.delay = pieces, delay

    def load(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_message_tokens(self, messages) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def stream(self, messages, *, max_tokens=None, temperature=None, cancel: threading.Event | None = None, seed=None):
        stats = GenerationStats(self.model_id, prompt_tokens=self.count_message_tokens(messages))

        def run():
            for i in range(self.pieces):
                if cancel is not None and cancel.is_set():
                    stats.finish_reason = "cancelled"
                    return
                time.sleep(self.delay)
                stats.completion_tokens += 1
                yield f"word{i} "
            stats.finish_reason = "length"

        return Generation(run(), stats)


class EchoModel(SlowScriptedModel):
    """Replies "Noted: <the user's last five words>" at once: a reply that echoes part of its turn, not all of
    it (for erase tests: the echo is found by provenance and shared words, not by the whole text)."""

    def __init__(self) -> None:
        super().__init__(pieces=0, delay=0.0)

    def stream(self, messages, *, max_tokens=None, temperature=None, cancel: threading.Event | None = None, seed=None):
        stats = GenerationStats(self.model_id, prompt_tokens=self.count_message_tokens(messages))
        said = messages[-1]["content"].split("\n\n")[-1]
        return Generation(iter([f"Noted: {' '.join(said.split()[-5:])}"]), stats)


class ParrotModel(SlowScriptedModel):
    """A chat model that repeats the user's whole last message at once: the worst case for a secret
    echoed into `message.assistant` (a test double, never a default)."""

    model_id = "parrot"

    def stream(self, messages, *, max_tokens=None, temperature=None, cancel: threading.Event | None = None, seed=None):
        stats = GenerationStats(self.model_id, prompt_tokens=self.count_message_tokens(messages))
        text = f"You said: {messages[-1]['content']}"

        def run():
            stats.completion_tokens = self.count_tokens(text)
            stats.finish_reason = "stop"
            yield text

        return Generation(run(), stats)


class JsonReplyModel(SlowScriptedModel):
    """Answers `complete_json` from a script: each reply is returned as parsed JSON, or raised when it
    is an exception (a StructuredOutputError stands for a reply that is not JSON for the schema).
    Records every call's messages, schema and max_tokens."""

    model_id = "json-script"

    def __init__(self, *replies) -> None:
        super().__init__(pieces=0, delay=0.0)
        self.replies = list(replies)
        self.calls: list[dict] = []

    def complete_json(self, messages, schema, *, max_tokens=256):
        self.calls.append({"messages": messages, "schema": schema, "max_tokens": max_tokens})
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply
