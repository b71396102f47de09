"""full-context: no memory store; the whole conversation goes into the prompt."""

from __future__ import annotations

from memcli.strategy import Param, Retrieval, Strategy


class FullContext(Strategy):
    name = "full-context"
    description = ("No memory store: the whole history, newest kept when it overflows the context window. "
                   "The baseline that wins for the first conversations.")
    paper = "ConvoMem (2025): 'Why your first 150 conversations don't need RAG'"
    params = (Param("max_turns", int, 0, "Keep at most this many recent messages (0: as many as fit).", min=0),)

    def retrieve(self, query, view, k):
        return Retrieval([], note="full-context keeps no memories: the history is the context")

    def history_window(self, messages):
        return None  # the history is this strategy's memory: max_turns cuts it, not the chat setting

    def build_context(self, retrieval, history, user, *, system, count, budget):
        if self.p["max_turns"]:
            history = history[-self.p["max_turns"]:]
        return super().build_context(retrieval, history, user, system=system, count=count, budget=budget)
