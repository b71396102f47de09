"""Importers: the LoCoMo `locomo10.json` shape and OpenAI-style chat messages.

Both produce `Conversation`s (speakers, dated sessions, turns) that can be written as
session files or ingested directly; dates are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from memcli.errors import MemcliError


class ImportFormatError(MemcliError):
    """An import file is not in the expected shape; the message says where."""


@dataclass
class TurnIn:
    speaker: str
    text: str
    role: str = "user"
    turn_id: str | None = None  # LoCoMo dia_id, "D1:3"
    caption: str | None = None  # LoCoMo blip_caption of a shared image


@dataclass
class SessionIn:
    date: datetime
    turns: list[TurnIn] = field(default_factory=list)


@dataclass
class Question:
    question: str
    answer: str
    category: int
    evidence: list[str]


@dataclass
class Conversation:
    id: str
    speakers: list[str]
    sessions: list[SessionIn]
    questions: list[Question] = field(default_factory=list)

    @property
    def turn_count(self) -> int:
        return sum(len(s.turns) for s in self.sessions)


def _load_json(path: Path) -> Any:
    try:  # utf-8-sig: exports saved by Windows tools start with a byte-order mark
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ImportFormatError(f"{path}: nested too deeply to be a conversation export") from None


def _text_or_none(value: Any) -> str | None:
    """An optional text field: kept when it is text (or a number), dropped when it is anything else."""
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


_LOCOMO_DATE = re.compile(r"(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})", re.I)
EVIDENCE_ID = re.compile(r"D\d+:\d+")


def parse_locomo_date(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' → 2023-05-08 13:56 UTC."""
    m = _LOCOMO_DATE.search(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"unrecognised session date {text!r}")
    hour, minute, ampm, day, month, year = m.groups()
    h = int(hour) % 12 + (12 if ampm.lower() == "pm" else 0)
    when = datetime.strptime(f"{day} {month[:3]} {year}", "%d %b %Y")
    return when.replace(hour=h, minute=int(minute), tzinfo=timezone.utc)


def read_locomo(path: Path) -> list[Conversation]:
    data = _load_json(path)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ImportFormatError(f"{path}: expected a list of LoCoMo samples")
    out = []
    for n, sample in enumerate(data):
        where = f"{path}: sample {n + 1}"
        if not isinstance(sample, dict) or not isinstance(sample.get("conversation"), dict):
            raise ImportFormatError(f"{where}: no 'conversation' object")
        conv = sample["conversation"]
        speakers = [str(conv.get("speaker_a", "A")), str(conv.get("speaker_b", "B"))]
        numbers = sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k))
        sessions = []
        for i in numbers:
            turns_raw = conv.get(f"session_{i}")
            if not isinstance(turns_raw, list):
                raise ImportFormatError(f"{where}: session_{i} is not a list of turns")
            try:
                date = parse_locomo_date(conv.get(f"session_{i}_date_time", ""))
            except ValueError as exc:
                raise ImportFormatError(f"{where}: session_{i}_date_time: {exc}") from None
            turns = []
            for j, t in enumerate(turns_raw):
                if not isinstance(t, dict) or not isinstance(t.get("text"), str) or not t.get("speaker"):
                    raise ImportFormatError(f"{where}: session_{i} turn {j + 1} needs 'speaker' and 'text'")
                role = "user" if t["speaker"] == speakers[0] else "assistant"
                turns.append(TurnIn(str(t["speaker"]), t["text"], role, _text_or_none(t.get("dia_id")),
                                    _text_or_none(t.get("blip_caption"))))
            sessions.append(SessionIn(date, turns))
        questions = []
        qa = sample.get("qa") or []
        for j, q in enumerate(qa if isinstance(qa, list) else []):
            if not isinstance(q, dict) or "question" not in q:
                continue
            raw_evidence = q.get("evidence") or []
            evidence = EVIDENCE_ID.findall(" ".join(map(str, raw_evidence if isinstance(raw_evidence, list)
                                                        else [raw_evidence])))
            try:
                category = int(q.get("category", 0))
            except (TypeError, ValueError, OverflowError):
                raise ImportFormatError(f"{where}: qa {j + 1}: category must be a number") from None
            questions.append(Question(str(q["question"]), str(q.get("answer", q.get("adversarial_answer", ""))),
                                      category, evidence))
        out.append(Conversation(str(sample.get("sample_id", f"conv-{n + 1}")), speakers, sessions, questions))
    return out


def _timestamp(value: Any, where: str) -> datetime | None:
    """A message time (epoch seconds or ISO text); absent → None; impossible → an error naming it."""
    if value is None:
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):  # NaN, 1e20, year 0, "yesterday"
        raise ImportFormatError(f"{where}: timestamp {value!r} is not a time memcli can use") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def read_openai(path: Path, start: datetime | None = None) -> list[Conversation]:
    """A list of messages, {"messages": [...]}, or a list of those. Timestamps are kept when present
    (`timestamp`, `created_at` or `create_time`); system messages are skipped."""
    data = _load_json(path)
    convs = data if isinstance(data, list) and data and isinstance(data[0], dict) and "messages" in data[0] else [data]
    out = []
    default = start or datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    for n, conv in enumerate(convs):
        messages = conv.get("messages") if isinstance(conv, dict) else conv
        if not isinstance(messages, list):
            raise ImportFormatError(f"{path}: conversation {n + 1}: expected a list of messages")
        turns, first = [], None
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant", "system", "tool"):
                raise ImportFormatError(f"{path}: conversation {n + 1} message {i + 1}: needs a role "
                                        "(user, assistant, system)")
            where = f"{path}: conversation {n + 1} message {i + 1}"
            content = m.get("content")
            if isinstance(content, list):  # content parts: the text ones are kept, images and the like skipped
                content = " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
            if not isinstance(content, str):
                raise ImportFormatError(f"{where}: content is not text")
            if m["role"] in ("system", "tool") or not content.strip():
                continue
            first = first or _timestamp(m.get("timestamp") or m.get("created_at") or m.get("create_time"), where)
            turns.append(TurnIn(_text_or_none(m.get("name")) or "", content, m["role"]))
        title = conv.get("title") if isinstance(conv, dict) else None
        out.append(Conversation(str(title or f"chat-{n + 1}"), ["User", "Assistant"],
                                [SessionIn(first or default, turns)]))
    return out


def to_session_yaml(conv: Conversation, strategy: str | None = None) -> str:
    """A session file that ingests the conversation with its dates (no model calls)."""
    steps: list[dict[str, Any]] = []
    for session in conv.sessions:
        steps.append({"at": session.date.isoformat()})
        for t in session.turns:
            step: dict[str, Any] = {"ingest": t.text + (f" [shares {t.caption}]" if t.caption else "")}
            if t.speaker:
                step["speaker"] = t.speaker
            if t.role != "user":
                step["role"] = t.role
            if t.turn_id:
                step["metadata"] = {"turn_id": t.turn_id}
            steps.append(step)
    doc = {"title": f"Imported conversation {conv.id}",
           "demonstrates": f"{conv.turn_count} turns between {' and '.join(conv.speakers)}, imported with dates.",
           **({"strategy": strategy} if strategy else {}),
           "clock": {"start": conv.sessions[0].date.isoformat() if conv.sessions else None},
           "steps": steps}
    if doc["clock"]["start"] is None:
        doc.pop("clock")
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
