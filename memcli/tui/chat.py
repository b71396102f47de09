"""The chat pane: messages as markdown bubbles, a streaming reply, a prompt with history."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown
from textual.widgets.markdown import MarkdownStream


class Bubble(Markdown):
    """One message."""

    def __init__(self, text: str, role: str) -> None:
        super().__init__(text, classes=f"bubble {role}")
        self.border_title = {"user": "you", "assistant": "assistant"}.get(role, role)


class ChatLog(VerticalScroll):
    """The conversation. Anchored: new text (a new bubble, a reply growing as it streams) stays in
    view while the reader is at the bottom; scrolling up releases the anchor, scrolling back
    down restores it."""

    def on_mount(self) -> None:
        self.anchor()

    async def add(self, text: str, role: str) -> Bubble:
        bubble = Bubble(text, role)
        await self.mount(bubble)
        return bubble

    async def start_reply(self) -> tuple[Bubble, MarkdownStream]:
        """A new assistant bubble and a stream that appends to it (no re-render of the whole reply)."""
        bubble = await self.add("", "assistant")
        bubble.add_class("streaming")
        return bubble, Markdown.get_stream(bubble)

    async def append(self, stream: MarkdownStream, piece: str) -> None:
        await stream.write(piece)


class PromptInput(Input):
    """An input with history on up/down."""

    BINDINGS = [
        Binding("up", "history(-1)", "previous", show=False, id="prompt.history_back"),
        Binding("down", "history(1)", "next", show=False, id="prompt.history_forward"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Message (Enter to send, Esc to stop a reply)", **kwargs)
        self.history: list[str] = []
        self._pos = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self.history[self._pos] if self._pos < len(self.history) else ""
        self.cursor_position = len(self.value)
