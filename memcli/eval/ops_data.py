"""Conversations annotated for the operation-level evaluation (`memcli eval ops`).

Two shapes are read into the same records:

memcli's own (YAML, in the style of a session file; see eval_sets/ops/):

    title: Moving house
    speaker: Ada
    clock: {start: 2026-03-02T09:00:00Z}
    steps:
      - user: I live in Lisbon and I am vegetarian.
        reply: Noted.
        points:                          # what should be extracted from this message
          - {text: Ada lives in Lisbon, must: [Lisbon]}
          - Ada is vegetarian            # a bare string: text only
      - advance: 30d
      - user: I moved to Porto.
        updates:                         # a point that replaces an earlier one
          - {text: Ada lives in Porto, must: [Porto], replaces: Ada lives in Lisbon}
      - user: My PIN is 4921.
        forbid:                          # must not be stored (a secret, a distractor)
          - {text: Ada's PIN is 4921, must: ["4921"]}
    questions:
      - {question: Where does Ada live now?, answer: Porto}

HaluMem's published JSON (Chen et al., 2025; one user per object, a list or JSON Lines):
`{"uuid", "persona_info", "sessions": [{"start_time", "dialogue": [{"role", "content",
"timestamp"}], "memory_points": [{"memory_content", "memory_source", "is_update",
"original_memories", ...}], "questions": [{"question", "answer", "evidence", ...}]}]}`.
A memory point belongs to the end of its session; `memory_source: interference` (the
distractor memories) must not be stored; `is_update` points replace `original_memories`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memcli.clock import parse_duration
from memcli.errors import MemcliError


class OpsDataError(MemcliError):
    """An annotated conversation file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Point:
    """A memory point. `kind`: fact (should be extracted), update (replaces `replaces`), forbid."""

    text: str
    kind: str
    message: int  # index of the message after which it should exist
    must: tuple[str, ...] = ()  # words a matching memory must contain (a value: "Porto", "4921")
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    role: str
    text: str
    ts: datetime
    speaker: str = ""


@dataclass(frozen=True)
class Question:
    question: str
    answer: str


@dataclass
class OpsConversation:
    id: str
    title: str
    messages: list[Message] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)

    def points_of(self, *kinds: str) -> list[Point]:
        return [p for p in self.points if p.kind in kinds]


# -- memcli's YAML ---------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _PointIn(_Strict):
    text: str
    must: list[str] = Field(default_factory=list)
    replaces: str | list[str] | None = None


class _StepIn(_Strict):
    user: str | None = None
    reply: str | None = None
    assistant: str | None = Field(None, description="An assistant message on its own (e.g. a distractor).")
    advance: str | None = None
    points: list[_PointIn | str] = Field(default_factory=list)
    updates: list[_PointIn] = Field(default_factory=list)
    forbid: list[_PointIn | str] = Field(default_factory=list)


class _QuestionIn(_Strict):
    question: str
    answer: str


class _ClockIn(_Strict):
    start: datetime


class _FileIn(_Strict):
    title: str
    speaker: str = ""
    clock: _ClockIn | None = None
    steps: list[_StepIn]
    questions: list[_QuestionIn] = Field(default_factory=list)


def _point(raw: _PointIn | str, kind: str, message: int) -> Point:
    if isinstance(raw, str):
        return Point(raw, kind, message)
    replaces = (raw.replaces,) if isinstance(raw.replaces, str) else tuple(raw.replaces or ())
    if kind == "update" and not replaces:
        raise ValueError(f"update {raw.text!r} needs `replaces`")
    return Point(raw.text, kind, message, tuple(raw.must), replaces)


def read_ops_yaml(path: Path) -> OpsConversation:
    try:
        spec = _FileIn.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        ts = spec.clock.start if spec.clock else datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        conv = OpsConversation(path.stem, spec.title)
        for step in spec.steps:
            if step.advance:
                ts += parse_duration(step.advance)
            if step.user is not None:
                conv.messages.append(Message("user", step.user, ts, spec.speaker))
            elif step.assistant is not None:
                conv.messages.append(Message("assistant", step.assistant, ts))
            elif step.points or step.updates or step.forbid:
                raise ValueError("points, updates and forbid belong to a user or assistant step")
            at = len(conv.messages) - 1
            if step.user is not None and step.reply is not None:
                conv.messages.append(Message("assistant", step.reply, ts))
            conv.points += [_point(p, "fact", at) for p in step.points]
            conv.points += [_point(p, "update", at) for p in step.updates]
            conv.points += [_point(p, "forbid", at) for p in step.forbid]
        conv.questions = [Question(q.question, q.answer) for q in spec.questions]
        return conv
    except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()
        raise OpsDataError(f"{path}: {' '.join(first[:3])}") from None


# -- HaluMem ---------------------------------------------------------------------------------

_HALUMEM_TIME = ("%b %d, %Y, %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _halumem_time(text: Any, fallback: datetime) -> datetime:
    for fmt in _HALUMEM_TIME:
        try:
            return datetime.strptime(str(text), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return fallback


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def halumem_user(raw: dict[str, Any], where: str) -> OpsConversation:
    """One HaluMem user object → one conversation (sessions in order, points at each session's end)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("sessions"), list):
        raise OpsDataError(f"{where}: not a HaluMem user (an object with a `sessions` list)")
    name = str((raw.get("persona_info") or {}).get("name", "")) if isinstance(raw.get("persona_info"), dict) else ""
    conv = OpsConversation(str(raw.get("uuid", where)), f"HaluMem user {raw.get('uuid', where)}")
    ts = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for s_index, session in enumerate(raw["sessions"]):
        if not isinstance(session, dict) or not isinstance(session.get("dialogue"), list):
            raise OpsDataError(f"{where}: session {s_index} has no `dialogue` list")
        ts = max(ts, _halumem_time(session.get("start_time"), ts))
        for turn in session["dialogue"]:
            if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") or "content" not in turn:
                raise OpsDataError(f"{where}: session {s_index}: a dialogue turn needs `role` (user or assistant) "
                                   "and `content`")
            ts = max(ts, _halumem_time(turn.get("timestamp"), ts))
            conv.messages.append(Message(turn["role"], str(turn["content"]), ts,
                                         name if turn["role"] == "user" else ""))
        at = len(conv.messages) - 1
        for mp in session.get("memory_points", []):
            text = str(mp.get("memory_content", "")).strip()
            if not text or at < 0:
                continue
            source = str(mp.get("memory_source", "primary"))
            if source == "interference":
                kind = "forbid"
            elif _truthy(mp.get("is_update")) and mp.get("original_memories"):
                kind = "update"
            else:
                kind = "fact"
            replaces = tuple(str(o) for o in mp.get("original_memories") or ()) if kind == "update" else ()
            conv.points.append(Point(text, kind, at, (), replaces))
        conv.questions += [Question(str(q["question"]), str(q["answer"])) for q in session.get("questions", [])
                           if isinstance(q, dict) and "question" in q and "answer" in q]
    return conv


def read_halumem(path: Path) -> list[OpsConversation]:
    """A HaluMem file: a JSON list of users, one user object, or JSON Lines (one user a line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OpsDataError(f"{path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        users = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        try:
            users = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise OpsDataError(f"{path}: neither JSON nor JSON Lines (line {exc.lineno}: {exc.msg})") from None
    return [halumem_user(u, f"{path} user {i}") for i, u in enumerate(users)]


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += _files(sorted(p for p in path.iterdir() if p.is_dir() or p.suffix in (".yaml", ".yml", ".json",
                                                                                         ".jsonl")))
        else:
            out.append(path)
    return out


def load(paths: list[Path]) -> list[OpsConversation]:
    """YAML files (memcli's shape) and .json/.jsonl files (HaluMem's); folders are read in name order."""
    out: list[OpsConversation] = []
    for path in _files(paths):
        out += read_halumem(path) if path.suffix in (".json", ".jsonl") else [read_ops_yaml(path)]
    if not out:
        raise OpsDataError(f"no annotated conversation in {', '.join(map(str, paths))}")
    return out
