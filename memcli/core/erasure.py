"""Hard erase, by identity: what is erased is found through ids and sequence numbers, never by
searching for the text (an "OK." elsewhere in the log is another turn and stays).

What goes, given the memories the user erases:
- those memories, and every memory (any namespace) built from the same source turns;
- those source turns (message events, by seq), and any later assistant reply that echoes an
  erased text (shares a run of ECHO_WORDS words with it): it was generated from a context that
  held it; memories built from an erased reply go too (the set is closed under both rules);
- in the log: the erased memories' own events (every text field), extraction candidates of the
  erased turns, retrieval hits of erased memories and the query of an erased turn, and in every
  `context.built` the messages that are copies of erased turns (mapped by position: a context is
  the system prompt, the messages before its turn in order, then the turn) and a memory block
  that listed an erased memory.

The embedding cache is the index's: `Engine.finish_erase` rebuilds the index with a purge, which
keeps only the vectors of texts still indexed (see `memcli.index.embedding_cache`).

The physical part (rewriting the DuckDB file, dropping old LanceDB versions, temp files) runs
after the commit; a marker file says it is pending until it is done, so an interrupted erase is
finished by the next writer or `memcli rebuild`, and searches refuse to run meanwhile.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from memcli.context import MEMORY_HEADER
from memcli.core.events import Kind
from memcli.core.projection import Key

ERASED = "[erased]"
ECHO_WORDS = 4
PENDING = "erase.pending"
_MESSAGES = (Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value)
_KEEP = ("hard", "tombstone", "kinds", "kind", "role", "date")  # fields that hold labels, never user text


@dataclass(frozen=True)
class Erasure:
    keys: frozenset[Key]
    turns: frozenset[int]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _grams(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i:i + ECHO_WORDS]) for i in range(len(w) - ECHO_WORDS + 1)}


def _sources(con: Any, keys: Iterable[Key]) -> set[int]:
    seqs: set[int] = set()
    for ns, memory_id in keys:
        row = con.execute("SELECT sources FROM memories WHERE namespace = ? AND id = ?", [ns, memory_id]).fetchone()
        seqs |= set(row[0]) if row else set()
    return seqs


def _texts_of(con: Any, keys: Iterable[Key]) -> list[str]:
    out: list[str] = []
    for ns, memory_id in keys:
        out += [r[0] for r in con.execute("SELECT text FROM memory_versions WHERE namespace = ? AND id = ?",
                                          [ns, memory_id]).fetchall()]
        row = con.execute("SELECT json_extract_string(metadata, '$.key') FROM memories WHERE namespace = ? AND id = ?",
                          [ns, memory_id]).fetchone()
        out += [row[0]] if row and row[0] else []
    return [t for t in out if t and t != ERASED]


def closure(con: Any, keys: Iterable[Key]) -> Erasure:
    """The memories and turns an erase of `keys` removes (see the module docstring)."""
    keys = set(keys)
    turns: set[int] = set()
    while True:
        turns |= _sources(con, keys)
        texts = _texts_of(con, keys) + [json.loads(r[0]).get("text", "") for r in con.execute(
            "SELECT payload FROM events WHERE seq IN (SELECT unnest(?::BIGINT[]))", [sorted(turns)]).fetchall()]
        grams = set().union(*map(_grams, texts)) if texts else set()
        echoes = {seq for seq, payload in con.execute(
            "SELECT seq, payload FROM events WHERE kind = ? AND seq > ?",
            [Kind.MESSAGE_ASSISTANT.value, min(turns, default=2**62)]).fetchall()
            if seq not in turns and grams & _grams(json.loads(payload).get("text", ""))}
        turns |= echoes
        derived = {(r[0], r[1]) for r in con.execute(
            "SELECT namespace, id FROM memories WHERE list_has_any(sources, ?::BIGINT[]) AND text <> ''",
            [sorted(turns)]).fetchall()} if turns else set()
        if not echoes and derived <= keys:
            return Erasure(frozenset(keys), frozenset(turns))
        keys |= derived


def _blank(value: Any) -> Any:
    """Every string inside a JSON value replaced by ERASED (but labels such as kind and role, never user text)."""
    if isinstance(value, str):
        return ERASED
    if isinstance(value, list):
        return [_blank(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _KEEP else _blank(v) for k, v in value.items()}
    return value


def _update(con: Any, seq: int, payload: dict[str, Any]) -> None:
    con.execute("UPDATE events SET payload = ? WHERE seq = ?", [json.dumps(payload, ensure_ascii=False), seq])


def scrub(con: Any, erasure: Erasure) -> None:
    """Remove the erased texts from the log (inside the caller's transaction)."""
    keys, turns = erasure.keys, erasure.turns
    messages = con.execute(f"SELECT seq, kind, payload FROM events WHERE kind IN {_MESSAGES} ORDER BY seq").fetchall()
    turn_text = {seq: json.loads(p).get("text", "") for seq, _, p in messages}
    for seq in turns:
        if seq in turn_text:
            payload = json.loads(con.execute("SELECT payload FROM events WHERE seq = ?", [seq]).fetchone()[0])
            payload["text"] = ERASED
            _update(con, seq, payload)
    ids_by_ns: dict[str, set[str]] = {}
    for ns, memory_id in keys:
        ids_by_ns.setdefault(ns, set()).add(memory_id)
    rows = con.execute("SELECT seq, kind, namespace, memory_id, payload FROM events WHERE kind LIKE 'memory.%' "
                       "OR kind = ? ORDER BY seq", [Kind.CONTEXT_BUILT.value]).fetchall()
    retrievals: dict[int, bool] = {}  # seq of a retrieval → it listed an erased memory
    message_seqs = [seq for seq, _, _ in messages]
    for seq, kind, ns, memory_id, raw in rows:
        payload, changed = json.loads(raw), False
        erased_ids = ids_by_ns.get(ns or "", set())
        if (ns, memory_id) in keys and kind != Kind.MEMORY_RETRIEVED.value:
            payload = {k: (v if k in _KEEP else _blank(v)) for k, v in payload.items()}
            changed = True
        elif kind == Kind.MEMORY_EXTRACTED.value and payload.get("turn") in turns:
            payload["candidates"] = _blank(payload.get("candidates", []))
            changed = True
        elif kind == Kind.MEMORY_RETRIEVED.value:
            listed = False
            for part in ("hits", "near_misses"):
                for hit in payload.get(part, []):
                    if hit.get("id") in erased_ids:
                        hit.update({k: _blank(v) for k, v in hit.items() if k in ("text", "key")})
                        listed = changed = True
            if _turn_of(payload, seq, message_seqs) in turns:
                payload["query"] = ERASED
                changed = True
            retrievals[seq] = listed
        elif kind == Kind.CONTEXT_BUILT.value:
            changed = _scrub_context(payload, seq, message_seqs, turns, turn_text, retrievals)
        if changed:
            _update(con, seq, payload)


def _turn_of(payload: dict[str, Any], seq: int, message_seqs: list[int]) -> int | None:
    """The user turn a retrieval was made for: recorded since this version, else the message before it."""
    if isinstance(payload.get("turn"), int):
        return payload["turn"]
    earlier = [s for s in message_seqs if s < seq]
    return earlier[-1] if earlier else None


def _scrub_context(payload: dict[str, Any], seq: int, message_seqs: list[int], turns: frozenset[int],
                   turn_text: dict[int, str], retrievals: dict[int, bool]) -> bool:
    """Erase, inside one built context, the copies of erased turns and a memory block that listed an erased memory."""
    before = [s for s in message_seqs if s < seq]
    messages = payload.get("messages", [])
    if not before or len(messages) < 2:
        return False
    turn, history = before[-1], before[:-1]
    listed = any(v for r, v in retrievals.items() if turn < r < seq)
    cut_history = [c for c in payload.get("cut", []) if c.get("part") == "history"]
    kept = len(messages) - 2
    if kept + len(cut_history) != len(history):  # not the standard layout: erase the whole context if touched
        if turns & set(before) or listed:
            payload["messages"] = [{**m, "content": ERASED} for m in messages]
            payload["cut"] = [{**c, "text": ERASED} for c in payload.get("cut", [])]
            return True
        return False
    changed = False
    for i, s in enumerate(history[len(cut_history):]):
        if s in turns:
            messages[1 + i]["content"] = ERASED
            changed = True
    for c, s in zip(cut_history, history[:len(cut_history)]):
        if s in turns:
            c["text"] = ERASED
            changed = True
    last = messages[-1]
    user = turn_text.get(turn, "")
    if turn in turns:
        last["content"] = ERASED
        changed = True
    elif listed:
        for m in (messages[0], last):
            if MEMORY_HEADER in m["content"]:
                head = m["content"][:m["content"].index(MEMORY_HEADER)]
                m["content"] = head + ERASED + (f"\n\n{user}" if m is last and m["content"].endswith(user) else "")
                changed = True
    if listed:
        for c in payload.get("cut", []):
            if c.get("part") == "memories":
                c["text"] = ERASED
                changed = True
    return changed


# -- the physical part and its marker ------------------------------------------------------


def mark_pending(data_dir: Path) -> None:
    """Durably note that an erase has started (empty file: creating it needs no free block)."""
    fd = os.open(data_dir / PENDING, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _sync_dir(data_dir)


def clear_pending(data_dir: Path) -> None:
    (data_dir / PENDING).unlink(missing_ok=True)
    _sync_dir(data_dir)


def pending(data_dir: Path) -> bool:
    return (data_dir / PENDING).exists()


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
