"""A chat message as a Markdown bubble (its own module: Markdown imports markdown-it, which the
first frame does not need)."""

from __future__ import annotations

from textual.widgets import Markdown


class Bubble(Markdown):
    """One message."""

    def __init__(self, text: str, role: str) -> None:
        super().__init__(text, classes=f"bubble {role}")
        self.border_title = {"user": "you", "assistant": "assistant"}.get(role, role)
