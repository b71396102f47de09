"""Secrets never at rest, measured end to end on cases written by someone who did not see the detector.

Every message goes through a real chat session (the real store, index and embedder; the
default strategy rag-turns, which stores the raw turn as a memory, and mem0): the message
is sent once to a model that echoes its prompt (so the query, the built context and the
reply all carry whatever reached the model) and once more with a fixed reply that repeats
the raw secret (the replay path). Then no event of any kind, no memory and no byte of the
data dir may contain the secret, and a memory.redacted event names the kind removed.
Negatives must come through unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from doubles import EchoModel
from memcli.clock import SimulatedClock
from memcli.core.events import Kind
from memcli.engine import Engine
from memcli.session import ChatSession
from memcli.strategy.registry import StrategyRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "secrets_eval"


def _session(settings, embedder, strategy: str) -> ChatSession:
    engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
    return ChatSession(engine, StrategyRegistry(settings.data_dir.parent / "no-dropins"), model=EchoModel(),
                       strategy=strategy, background=False)


def _everything(s: ChatSession) -> str:
    events = s.engine.store.events()
    memories = [m.text for ns in s.engine.store.namespaces() for m in s.engine.store.memories(ns, None)]
    return json.dumps([e.payload for e in events], ensure_ascii=False) + json.dumps(memories, ensure_ascii=False)


def _bytes_under(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())


def measure(cases: dict, settings, embedder) -> tuple[float, float, list, list]:
    """(recall, false-positive rate, misses, false positives) over one split."""
    s = _session(settings, embedder, "rag-turns")
    try:
        false_pos = []
        for n in cases["negatives"]:  # first, so that no secret seen earlier can match them
            before = s.engine.store.last_seq
            s.send(n["text"])
            redacted = [e for e in s.engine.store.events(kinds=[Kind.MEMORY_REDACTED]) if e.seq > before]
            user = [e for e in s.engine.store.events(kinds=[Kind.MESSAGE_USER]) if e.seq > before][0]
            if redacted or user.payload["text"] != n["text"]:
                false_pos.append((n["id"], user.payload["text"]))
        s.switch("mem0")
        for p in cases["positives"]:
            before = s.engine.store.last_seq
            s.send(p["text"])
            s.send(f"again: {p['text']}", reply=f"Noted: {p['text']}")
            kinds = [e.payload["kinds"] for e in s.engine.store.events(kinds=[Kind.MEMORY_REDACTED]) if e.seq > before]
            assert all(p["secret"] not in json.dumps(k) for k in kinds), "a redaction record holds no secret"
        stored = _everything(s)
        missed = [(p["id"], p["kind"], p["secret"]) for p in cases["positives"] if p["secret"] in stored]
    finally:
        s.close()
        s.engine.close()
    on_disk = _bytes_under(settings.data_dir)
    missed_on_disk = [p["id"] for p in cases["positives"] if p["secret"].encode() in on_disk]
    assert set(missed_on_disk) <= {m[0] for m in missed}, "what the log does not hold, no file holds either"
    recall = 1 - len(missed) / len(cases["positives"])
    return recall, len(false_pos) / len(cases["negatives"]), missed, false_pos


def test_every_event_kind_is_redacted(settings, embedder) -> None:
    s = _session(settings, embedder, "mem0")
    try:
        s.send("My name is Ada. My PIN is 4821 and my card is 4111 1111 1111 1111.")
        events = s.engine.store.events()
        kinds = {e.kind for e in events}
        assert {Kind.MESSAGE_USER, Kind.MEMORY_RETRIEVED, Kind.CONTEXT_BUILT, Kind.MESSAGE_ASSISTANT} <= kinds
        assert "4821" not in _everything(s) and "4111 1111" not in _everything(s)
        records = s.engine.store.events(kinds=[Kind.MEMORY_REDACTED])
        assert {r.payload["event"] for r in records} >= {"message.user", "memory.retrieved", "context.built",
                                                       "message.assistant"}
        assert {k for r in records for k in r.payload["kinds"]} == {"pin", "card number"}
        # a later bare echo of a secret seen earlier (no "PIN" beside it) is caught too
        s.send("What was it again?", reply="It was 4821.")
        assert "4821" not in _everything(s)
    finally:
        s.close()
        s.engine.close()


def test_seen_split_meets_the_goal(settings, embedder) -> None:
    recall, fp, missed, false_pos = measure(yaml.safe_load((FIXTURES / "seen.yaml").read_text()), settings, embedder)
    assert recall >= 0.95, missed
    assert fp <= 0.05, false_pos


@pytest.mark.skipif(not (FIXTURES / "unseen.yaml").exists(), reason="the unseen split is added once scored")
def test_unseen_split_regression_floor(settings, embedder) -> None:
    # Floors = the figures measured once on the unseen split when the detector was final
    # (see docs/reliability.md), minus a small margin so that a harmless change does not fail
    # the test while a real regression does.
    recall, fp, missed, false_pos = measure(yaml.safe_load((FIXTURES / "unseen.yaml").read_text()), settings,
                                            embedder)
    assert recall >= UNSEEN_RECALL_FLOOR, missed
    assert fp <= UNSEEN_FP_CEILING, false_pos


UNSEEN_RECALL_FLOOR = 0.0  # set from the one scoring run
UNSEEN_FP_CEILING = 1.0
