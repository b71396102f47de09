"""The session file format (YAML), validated with pydantic; errors name the file and line.

    title: Moving house
    demonstrates: mem0 updates a fact and keeps the old version
    strategy: mem0                 # optional; --strategy overrides
    params: {top_s: 5}             # optional strategy parameters
    clock: {start: 2026-03-02T09:00:00Z}
    steps:
      - user: I live in Lisbon.
        reply: Noted.              # optional fixed reply: model variance cannot change the outcome
      - advance: 3d
      - expect: {memory: {match: Porto, status: active}}

`memcli replay --schema` prints the JSON schema (docs/session.schema.json).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from memcli.clock import parse_duration
from memcli.errors import MemcliError


class SessionFileError(MemcliError):
    """A session file is malformed; the message names the file, the line and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    match: str = Field(description="Regular expression searched (case-insensitively) in the memory text.")
    status: Literal["active", "archived", "deleted", "quarantined"] = "active"

    @field_validator("match")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class UserStep(_Strict):
    user: str = Field(description="What the user says.")
    reply: str | None = Field(None, description="A fixed assistant reply (no model call).")
    speaker: str | None = None


class IngestStep(_Strict):
    ingest: str = Field(description="A message logged without retrieval or model call (imported history).")
    role: Literal["user", "assistant"] = "user"
    speaker: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class AdvanceStep(_Strict):
    advance: str = Field(description="Move the simulated clock: '3d', '12h', '1w 2d'.")

    @field_validator("advance")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


class AtStep(_Strict):
    at: datetime = Field(description="Set the simulated clock to this time (never backwards).")


class SwitchStep(_Strict):
    switch: str = Field(description="Switch to this strategy.")
    params: dict[str, Any] = Field(default_factory=dict)
    backfill: bool = Field(False, description="Backfill: run the conversation so far through the new strategy.")


class EditStep(_Strict):
    edit: Match
    text: str


class PinStep(_Strict):
    pin: Match


class ForgetStep(_Strict):
    forget: Match


class RestoreStep(_Strict):
    restore: Match


class RetrieveExpect(_Strict):
    query: str
    match: str
    top_k: int = Field(3, ge=1, le=100)


class CountExpect(_Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    status: Literal["active", "archived", "deleted", "quarantined"] = "active"


class RetentionExpect(_Strict):
    match: str
    above: float | None = None
    below: float | None = None


class Expectation(_Strict):
    memory: Match | None = Field(None, description="A memory matching this exists with this status.")
    no_memory: Match | None = Field(None, description="No memory matching this has this status.")
    retrieve: RetrieveExpect | None = Field(None, description="The query retrieves a matching memory in top_k.")
    count: CountExpect | None = Field(None, description="Number of memories with a status.")
    retention: RetentionExpect | None = Field(None, description="MemoryBank retention of a matching memory.")
    strategy: str | None = Field(None, description="Only check this expectation under this strategy.")

    @model_validator(mode="after")
    def _one(self) -> "Expectation":
        kinds = [k for k in ("memory", "no_memory", "retrieve", "count", "retention") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("an expectation needs exactly one of memory, no_memory, retrieve, count, retention")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("memory", "no_memory", "retrieve", "count", "retention") if getattr(self, k))


class ExpectStep(_Strict):
    expect: Expectation


Step = Annotated[
    Union[UserStep, IngestStep, AdvanceStep, AtStep, SwitchStep, EditStep, PinStep, ForgetStep, RestoreStep,
          ExpectStep],
    Field(union_mode="left_to_right"),
]
ACTIONS = {"user": UserStep, "ingest": IngestStep, "advance": AdvanceStep, "at": AtStep, "switch": SwitchStep,
           "edit": EditStep, "pin": PinStep, "forget": ForgetStep, "restore": RestoreStep, "expect": ExpectStep}


class ClockSpec(_Strict):
    start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


class SessionFile(_Strict):
    title: str
    demonstrates: str = Field(description="What this session shows.")
    strategy: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    cassette: str | None = Field(None, description="Recorded model calls (JSONL, relative to this file).")
    clock: ClockSpec = Field(default_factory=ClockSpec)
    steps: list[dict[str, Any]] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps(self) -> "SessionFile":
        parsed = []
        for i, raw in enumerate(self.steps):
            action = next((k for k in raw if k in ACTIONS), None)
            if action is None:
                raise StepError(i, f"unknown step {sorted(raw)} (each step starts with one of {', '.join(ACTIONS)})")
            try:
                parsed.append(ACTIONS[action].model_validate(raw))
            except ValidationError as exc:
                err = exc.errors()[0]
                raise StepError(i, f"{'.'.join(map(str, err['loc'])) or action}: {err['msg']}",
                                 tuple(err["loc"])) from None
        self.parsed = parsed
        return self

    parsed: list[Any] = Field(default_factory=list, exclude=True)


class StepError(ValueError):
    def __init__(self, index: int, message: str, loc: tuple = ()) -> None:
        super().__init__(f"step {index + 1}: {message}")
        self.index, self.loc = index, loc


def session_schema() -> dict[str, Any]:
    """The JSON schema of a session file (steps spelled out as the union of step kinds)."""

    class Session(SessionFile):
        steps: list[Step] = Field(min_length=1)  # type: ignore[assignment]

        @model_validator(mode="after")
        def _steps(self) -> "Session":
            return self

    schema = Session.model_json_schema()
    schema["properties"].pop("parsed", None)
    schema["title"] = "memcli session file"
    return schema
