"""Two strategies on the same conversation: their memories aligned by source turn, and their
retrievals for each question.

Each memory is placed at its first source turn (the message it came from); a turn's row
says what each namespace holds from it and with which status, so what one keeps and the
other archived, merged away or never extracted reads off one line.
"""

from __future__ import annotations

from typing import Any

from memcli.core.events import Kind
from memcli.core.projection import ACTIVE, Memory


def _side(memories: list[Memory]) -> list[dict[str, Any]]:
    return [{"id": m.id, "status": m.status, "text": m.text} for m in memories]


def verdict(a: list[Memory], b: list[Memory]) -> str:
    """'both', 'only A', 'only B' or 'neither' keeps (an active memory of) the turn."""
    keep_a, keep_b = any(m.status == ACTIVE for m in a), any(m.status == ACTIVE for m in b)
    return {(True, True): "both", (True, False): "only A", (False, True): "only B"}.get((keep_a, keep_b), "neither")


def diff(store: Any, a: str, b: str) -> list[dict[str, Any]]:
    """One row per source turn that either namespace made a memory from, in conversation order."""
    by_turn: dict[int, tuple[list[Memory], list[Memory]]] = {}
    for side, ns in enumerate((a, b)):
        for m in store.memories(ns, None):
            if m.sources:
                by_turn.setdefault(min(m.sources), ([], []))[side].append(m)
    texts = {e.seq: e.payload.get("text", "")
             for e in store.events(kinds=[Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value])}
    return [{"turn": seq, "message": texts.get(seq, ""), "verdict": verdict(*by_turn[seq]),
             a: _side(by_turn[seq][0]), b: _side(by_turn[seq][1])} for seq in sorted(by_turn)]


def _retrieval(event: Any) -> dict[str, Any]:
    p = event.payload
    return {"seq": event.seq, "cutoff": p.get("cutoff"), "cutoff_on": p.get("cutoff_on"), "note": p.get("note", ""),
            "hits": p.get("hits", []), "near_misses": p.get("near_misses", [])}


def retrievals(store: Any, a: str, b: str) -> list[dict[str, Any]]:
    """For each user turn (question), what each namespace retrieved for it (None: no retrieval logged,
    e.g. a namespace switched to later and not backfilled), in conversation order."""
    questions = store.events(kinds=[Kind.MESSAGE_USER.value])
    found: dict[tuple[str, int], Any] = {}
    for ns in (a, b):
        for e in store.events(kinds=[Kind.MEMORY_RETRIEVED.value], namespace=ns):
            turn = e.payload.get("turn")
            if isinstance(turn, int):
                found.setdefault((ns, turn), e)  # the first retrieval made for that question
    return [{"turn": q.seq, "question": q.payload.get("text", ""),
             a: _retrieval(found[(a, q.seq)]) if (a, q.seq) in found else None,
             b: _retrieval(found[(b, q.seq)]) if (b, q.seq) in found else None} for q in questions]
