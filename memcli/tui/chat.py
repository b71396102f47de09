"""The chat pane: messages as markdown bubbles, a streaming reply, a prompt with history.

The reply streams through the chat log's own message queue: the turn worker posts
`ReplyProgress` (the reply so far) and then `ReplyEnded` to it. Each draw is followed by a pause
of `DRAW_INTERVAL_S` plus the time the message waited to be handled (how far behind the UI is);
newer progress posted meanwhile replaces the pending copy (`can_replace`). So the reply is drawn
as often as the screen keeps up with (a busy machine draws it in fewer, larger steps, and keys
stay responsive), and the app's own queue (keys, engine events) is never held up by it.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual import on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input

from memcli.tui.messages import ReplyEnded, ReplyProgress

if TYPE_CHECKING:
    from memcli.tui.bubble import Bubble

DRAW_INTERVAL_S = 0.05
MAX_BEHIND_S = 0.5


class ChatLog(VerticalScroll):
    """The conversation. Anchored: new text (a new bubble, a reply growing as it streams) stays in
    view while the reader is at the bottom; scrolling up releases the anchor, scrolling back
    down restores it."""

    def on_mount(self) -> None:
        self.anchor()
        self._bubble: Bubble | None = None
        self._drawn = 0  # characters of the reply already written to the bubble

    async def add(self, text: str, role: str) -> Bubble:
        from memcli.tui.bubble import Bubble  # Markdown (markdown-it): not on the path to the first frame

        bubble = Bubble(text, role)
        await self.mount(bubble)
        return bubble

    async def start_reply(self) -> Bubble:
        """A new assistant bubble for a reply that streams (appended to, no re-render of the whole reply)."""
        bubble = await self.add("", "assistant")
        bubble.add_class("streaming")
        return bubble

    @on(ReplyProgress)
    async def _progress(self, message: ReplyProgress) -> None:
        if self._bubble is None:
            self._bubble = await self.start_reply()
            self._drawn = 0
        new, self._drawn = message.text[self._drawn:], len(message.text)
        if new:
            await self._bubble.append(new)
        behind = time.monotonic() - message.posted
        # newer progress posted meanwhile waits, and replaces the pending copy (can_replace)
        await asyncio.sleep(DRAW_INTERVAL_S + min(behind, MAX_BEHIND_S))

    @on(ReplyEnded)
    async def _ended(self, message: ReplyEnded) -> None:
        """End the streamed reply; the bubble then shows the reply as logged (a near copy that had
        started to stream and was retried by the repeat guard, or a redacted secret, is not kept);
        a failed turn's bubble goes."""
        if self._bubble is not None:
            if message.failed:
                await self._bubble.remove()
            else:
                if message.logged is not None and self._bubble.source != message.logged:
                    await self._bubble.update(message.logged)
                self._bubble.remove_class("streaming")
            self._bubble = None


class PromptInput(Input):
    """An input with history on up/down."""

    BINDINGS = [
        Binding("up", "history(-1)", "previous", show=False, id="prompt.history_back"),
        Binding("down", "history(1)", "next", show=False, id="prompt.history_forward"),
        # Enter typed before the app has the terminal reaches it as a newline (the tty's cooked mode maps CR to LF)
        Binding("ctrl+j", "submit", "send", show=False, id="prompt.newline_submit"),
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
