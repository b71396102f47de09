"""Repetition control: a reply identical to one of the last few is not shown; the turn retries.

Small models copy themselves (issue 13: nine different questions, nine identical replies).
Sampling settings lower the odds; this guard makes it a rule. Streaming stays live: pieces
are held back only while the reply so far is still the start of a recent reply, and let
through the moment it differs, so a normal reply streams as before and only a would-be
repeat is withheld, then regenerated with another seed.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Callable

RECENT_REPLIES = 5  # a reply must differ from each of the last this many
RETRIES = 2  # new seeds tried before a repeat is kept (and recorded as one)
RETRY_TEMPERATURE = 0.8  # at least this warm on a retry: the same temperature would sample alike
SIMILAR = 0.8  # word-sequence similarity (difflib ratio) from which a reply repeats another: a copy with a
# letter or a word changed is still a copy (seen: three replies that differed by one letter)


def normalized(text: str) -> str:
    """Case, spacing and trailing punctuation do not make two replies different."""
    return re.sub(r"\s+", " ", text).strip().strip(".!?… ").lower()


def _words(text: str) -> list[str]:
    return normalized(text).split()


def _alike(words: list[str], other: list[str]) -> bool:
    return bool(words) and SequenceMatcher(None, words, other, autojunk=False).ratio() >= SIMILAR


class RepeatGuard:
    """Passes streamed pieces on, holding them back while they could still be a repeat
    (while the reply so far is alike to the start of a recent reply)."""

    def __init__(self, recent: list[str], on_piece: Callable[[str], None] | None) -> None:
        self.recent = [r for r in (_words(t) for t in recent) if r]
        self.on_piece = on_piece
        self._held: list[str] = []
        self._text = ""
        self._open = not self.recent  # nothing to compare with: stream straight through

    def feed(self, piece: str) -> None:
        self._text += piece
        if self._open:
            self._emit(piece)
            return
        self._held.append(piece)
        so_far = _words(self._text)
        if self._text[-1:].isalnum():
            so_far = so_far[:-1]  # the last word may still be growing: compare whole words only
        if so_far and not any(_alike(so_far, r[:len(so_far)]) for r in self.recent):
            self.flush()

    def repeats(self) -> bool:
        """Whether the finished reply is one of the recent ones, or a near copy of one."""
        words = _words(self._text)
        return any(_alike(words, r) for r in self.recent)

    def flush(self) -> None:
        self._open = True
        held, self._held = self._held, []
        for piece in held:
            self._emit(piece)

    def _emit(self, piece: str) -> None:
        if self.on_piece is not None:
            self.on_piece(piece)
