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
