"""Building the prompt: system + memories + history + user message, within a token budget.

Layout (chosen by measurement, see benchmarks/bench_model.py and the README):
the stable parts come first (system prompt, then the conversation so far) and
the per-turn memory block comes last, inside the final user message. llama.cpp
re-uses the KV cache for the longest common prefix between calls, so a memory
block that changes every turn must not sit in front of the history.

Whatever does not fit is cut (oldest history first, then the lowest-ranked
memories) and reported in `ContextReport.cut`, never dropped silently.

The chat memory block is written from the user's side, because it sits inside the
user's message: "Things I told you before (dated, oldest first):" and the user's own
dated words, then the question. A small model reads that as facts about the person
asking; measured on benchmarks/bench_chat.py against the older "Relevant memories
about the user" list of "User: …" lines (docs/benchmarks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal

from memcli.model.base import Message

Layout = Literal["late", "system"]
DEFAULT_SYSTEM = "You are a helpful assistant. Use the memories about the user when they are relevant."
MEMORY_HEADER = "Relevant memories about the user (may be incomplete):"
CHAT_MEMORY_HEADER = "Things I told you before (dated, oldest first):"
CHAT_INSTRUCTION = "Answer my message; use the things I told you when they help."


@dataclass
class ContextReport:
    messages: list[Message]
    tokens: dict[str, int]
    budget: int
    cut: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.tokens.values())


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def only_asks(text: str) -> bool:
    """Whether every sentence of `text` is a question: it asks, it tells nothing to remember."""
    sentences = [m.group().strip() for m in _SENTENCE.finditer(text) if m.group().strip(" .!?\n")]
    return bool(sentences) and all(s.endswith("?") for s in sentences)


def memory_block(memories: list[str], header: str = MEMORY_HEADER) -> str:
    return header + "\n" + "\n".join(f"- {m}" for m in memories) if memories else ""


def chat_memory_block(memories: list[str]) -> str:
    """The block a chat model gets: the user's dated words under a first-person header, and what to do."""
    return f"{memory_block(memories, CHAT_MEMORY_HEADER)}\n{CHAT_INSTRUCTION}" if memories else ""


def assemble(system: str, memories: list[str], history: list[Message], user: str, layout: Layout) -> list[Message]:
    block = chat_memory_block(memories)
    if layout == "system":
        sys_text = f"{system}\n\n{block}" if block else system
        return [{"role": "system", "content": sys_text}, *history, {"role": "user", "content": user}]
    last = f"{block}\n\n{user}" if block else user
    return [{"role": "system", "content": system}, *history, {"role": "user", "content": last}]


def build_context(
    *,
    system: str,
    memories: list[str],
    history: list[Message],
    user: str,
    count: Callable[[str], int],
    budget: int,
    layout: Layout = "late",
) -> ContextReport:
    """Fit the parts into `budget` tokens; `count` is the model's own token counter."""
    history, memories = list(history), list(memories)
    cut: list[dict[str, str]] = []
    parts = {"system": count(system), "user": count(user)}
    overhead = 8  # chat-template tokens per message (role markers), a safe upper bound for ChatML-like templates

    def used() -> int:
        mem = count(chat_memory_block(memories)) if memories else 0
        hist = sum(count(m["content"]) + overhead for m in history)
        return parts["system"] + parts["user"] + mem + hist + 2 * overhead

    while used() > budget and history:
        dropped = history.pop(0)
        cut.append({"part": "history", "role": dropped["role"], "text": dropped["content"]})
    while used() > budget and memories:
        cut.append({"part": "memories", "text": memories.pop()})
    tokens = {
        "system": parts["system"],
        "memories": count(chat_memory_block(memories)) if memories else 0,
        "history": sum(count(m["content"]) + overhead for m in history),
        "user": parts["user"],
    }
    return ContextReport(assemble(system, memories, history, user, layout), tokens, budget, cut)
