"""Secrets never at rest, measured end to end on cases written by someone who did not see the detector.

Every positive goes through a real chat turn (the real store; strategy full-context, so no
embedding per message keeps the run short) with a model that echoes its whole prompt, so the
query, the built context and the reply carry whatever reached the model. Then no event of any
kind and no byte of the data dir may contain the secret. Negatives are ingested (the cheaper
path, same redactor) and must come through unchanged. test_every_event_kind_is_redacted covers
the other writers with rag-turns (memories, a fixed reply that repeats the raw secret, a
context, a memory edit): redaction happens in EventStore.append, whatever the strategy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from doubles import ParrotModel
from memcli.clock import SimulatedClock
from memcli.core import operations as ops
from memcli.core.events import Kind
from memcli.engine import Engine
from memcli.eval.guard_eval import measure_secrets
from memcli.chat import Chat
from memcli.strategy.registry import StrategyRegistry

FIXTURES = Path(__file__).parent / "fixtures" / "secrets_eval"


def _session(settings, embedder, strategy: str) -> Chat:
    engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
    return Chat(engine, StrategyRegistry(settings.data_dir.parent / "no-dropins"), model=ParrotModel(),
                       strategy=strategy, background=False)


def _everything(s: Chat, since: int = 0) -> str:
    """Every event payload after `since`, and every memory text (any status, any namespace), as one string."""
    events = [e for e in s.engine.store.events() if e.seq > since]
    memories = [m.text for ns in s.engine.store.namespaces() for m in s.engine.store.memories(ns, None)
                if not since or max(m.sources, default=0) > since]
    return json.dumps([e.payload for e in events], ensure_ascii=False) + json.dumps(memories, ensure_ascii=False)


def _bytes_under(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())


def measure(cases: dict, settings, embedder) -> tuple[float, float, list, list]:
    """(recall, false-positive rate, misses, false positives) over one split."""
    s = _session(settings, embedder, "full-context")  # no index to embed into: the eval stays cheap
    try:
        false_pos = []
        for n in cases["negatives"]:  # first, so that no secret seen earlier can match them
            before = s.engine.store.last_seq
            s.ingest("user", n["text"])
            redacted = [e for e in s.engine.store.events(kinds=[Kind.MEMORY_REDACTED]) if e.seq > before]
            user = [e for e in s.engine.store.events(kinds=[Kind.MESSAGE_USER]) if e.seq > before][0]
            if redacted or user.payload["text"] != n["text"]:
                false_pos.append((n["id"], user.payload["text"]))
        missed = []
        for p in cases["positives"]:
            before = s.engine.store.last_seq
            s.send(p["text"])
            kinds = [e.payload["kinds"] for e in s.engine.store.events(kinds=[Kind.MEMORY_REDACTED]) if e.seq > before]
            assert all(p["secret"] not in json.dumps(k) for k in kinds), "a redaction record holds no secret"
            if p["secret"] in _everything(s, since=before):
                missed.append((p["id"], p["kind"], p["secret"]))
    finally:
        s.close()
        s.engine.close()
    # On disk, check the secrets long enough not to turn up by chance in binary data (a 4-digit PIN
    # does, in index files) and that no negative contains ("4821" is also a flat number there).
    negatives = " ".join(n["text"] for n in cases["negatives"])
    on_disk = _bytes_under(settings.data_dir)
    missed_on_disk = [p["id"] for p in cases["positives"] if len(p["secret"]) >= 8 and p["secret"] not in negatives
                      and p["secret"].encode() in on_disk]
    assert set(missed_on_disk) <= {m[0] for m in missed}, "what the log does not hold, no file holds either"
    recall = 1 - len(missed) / len(cases["positives"])
    return recall, len(false_pos) / len(cases["negatives"]), missed, false_pos


def test_every_event_kind_is_redacted(settings, embedder) -> None:
    s = _session(settings, embedder, "rag-turns")
    try:
        s.send("My name is Ada. My PIN is 4821 and my card is 4111 1111 1111 1111.")
        kinds = {e.kind for e in s.engine.store.events()}
        assert {Kind.MESSAGE_USER, Kind.MEMORY_RETRIEVED, Kind.CONTEXT_BUILT, Kind.MESSAGE_ASSISTANT} <= kinds
        assert "4821" not in _everything(s) and "4111 1111" not in _everything(s)
        records = s.engine.store.events(kinds=[Kind.MEMORY_REDACTED])
        # redacted once, on the way in: the query, the prompt and the echo only ever saw the redacted text
        assert [(r.payload["event"], r.payload["kinds"]) for r in records] == [("message.user", ["card number", "pin"])]
        # whatever writes an event goes through the same redactor: a fixed reply, a context, a memory edit
        s.send("What was it again?", reply="It was 4821, card 4111 1111 1111 1111.")  # a bare echo of 4821 too
        s.engine.record(Kind.CONTEXT_BUILT, {"messages": [{"role": "user", "content": "token ghp_" + "a1" * 18}]})
        memory = s.engine.store.memories("rag-turns")[0]
        s.edit(ops.Edit(memory_id=memory.id, text="My name is Ada, password: Xt7_qP2-wnE9"))
        stored = _everything(s)
        assert "4821" not in stored and "4111 1111" not in stored and "a1a1a1" not in stored and "Xt7_" not in stored
        records = s.engine.store.events(kinds=[Kind.MEMORY_REDACTED])
        assert {r.payload["event"] for r in records} == {"message.user", "message.assistant", "context.built",
                                                       "memory.edited"}
    finally:
        s.close()
        s.engine.close()


# Every split has been looked at while building the detector, so all are development data now
# (the held-out set is scored by the lead with `benchmarks/guard_eval.py PATH`). Floors: measured on
# the final detector (100 % recall, 0 % false positives on each, docs/reliability.md), less a
# margin of one or two cases. `identifiers`: model, package and resource names against generated
# secrets with the same separators (the readable-identifier rule).
FLOORS = {"seen": (0.97, 0.03), "unseen": (0.96, 0.03), "identifiers": (0.96, 0.03)}


@pytest.mark.parametrize("split", ["seen", "unseen", "identifiers"])
def test_dev_split_meets_the_goal(split: str, settings, embedder) -> None:
    cases = yaml.safe_load((FIXTURES / f"{split}.yaml").read_text())
    recall, fp, missed, false_pos = measure(cases, settings, embedder)
    assert recall >= 0.95 and fp <= 0.05, (missed, false_pos)
    recall_floor, fp_ceiling = FLOORS[split]
    assert recall >= recall_floor and fp <= fp_ceiling, (missed, false_pos)


def test_scorer_on_a_case_file_meets_the_goal_on_the_dev_splits() -> None:
    """The scorer the lead runs on a new file (benchmarks/guard_eval.py) judges the detector alone."""
    for split in ("seen", "unseen"):
        r = measure_secrets(yaml.safe_load((FIXTURES / f"{split}.yaml").read_text()))
        assert r["recall"] >= 0.95 and r["fp"] <= 0.05, r
        assert r["positives"] >= 36 and r["negatives"] >= 36
