"""Extracting strategies on a conversation between two people (the LoCoMo setting), rule path.

The conversation is written for these tests in the LoCoMo style (two friends, dated
sessions); nothing is taken from the LoCoMo data.
"""

from __future__ import annotations

from datetime import datetime, timezone

from memcli.clock import SimulatedClock
from strategy_helpers import close, chat, texts

MONDAY = datetime(2023, 5, 8, 14, 0, tzinfo=timezone.utc)
CHAT = [  # (role, speaker, text): Nadia is the user, Omar the other person
    ("user", "Nadia", "Hey Omar! Long time no see. How are things?"),
    ("assistant", "Omar", "Busy! I finished building a treehouse for the kids last Saturday."),
    ("user", "Nadia", "That's amazing, Omar! I ran my first half marathon yesterday."),
    ("assistant", "Omar", "Wow, congrats! My sister Leila is training for one too."),
    ("user", "Nadia", "Gonna sign up for a pottery workshop next month."),
]


def _ingest(s, clock: SimulatedClock) -> dict[str, int]:
    """The chat, one minute apart; returns each text's event seq."""
    seqs = {}
    for role, speaker, text in CHAT:
        seqs[text] = s.ingest(role, text, speaker=speaker).seq
        clock.advance("1m")
    return seqs


def test_mem0_keeps_what_both_people_tell_with_dates_and_provenance(settings, embedder) -> None:
    clock = SimulatedClock(MONDAY)
    s = chat(settings, embedder, "mem0", clock=clock)
    try:
        seqs = _ingest(s, clock)
        mems = {m.text: m for m in s.engine.store.memories("mem0")}
        assert set(mems) == {
            "Omar: I finished building a treehouse for the kids last Saturday (6 May 2023)",
            "Nadia: I ran my first half marathon yesterday (7 May 2023)",
            "Omar: My sister Leila is training for one too",
            "Nadia: Gonna sign up for a pottery workshop next month (June 2023)",
        }  # the greeting, the question and the reactions carry no fact
        tree = mems["Omar: I finished building a treehouse for the kids last Saturday (6 May 2023)"]
        assert tree.sources == [seqs[CHAT[1][2]]]  # the turn it came from
        assert tree.metadata["when"] == "2023-05-06" and tree.kind == "event"
        assert mems["Omar: My sister Leila is training for one too"].kind == "relation"
        hit = s.retrieve("When did Nadia run a half marathon?", k=1).hits[0]
        assert hit.text.startswith("Nadia: I ran") and list(hit.sources) == [seqs[CHAT[2][2]]]
    finally:
        close(s)


def test_mem0_leaves_an_unnamed_assistants_replies_alone(settings, embedder) -> None:
    s = chat(settings, embedder, "mem0")
    try:
        s.send("I adopted a grey kitten called Pixel last week.", reply="I recommend feeding it twice a day.")
        assert texts(s) and all(t.startswith("User") for t in texts(s))
    finally:
        close(s)


def test_tim_thoughts_about_both_people(settings, embedder) -> None:
    clock = SimulatedClock(MONDAY)
    s = chat(settings, embedder, "tim", clock=clock)
    try:
        _ingest(s, clock)
        found = set(texts(s))
        assert "Omar — finished — building a treehouse for the kids last Saturday (6 May 2023)" in found
        assert "Nadia — ran — my first half marathon yesterday (7 May 2023)" in found
    finally:
        close(s)


def test_memorybank_reads_both_people_and_forgets_by_design(settings, embedder) -> None:
    clock = SimulatedClock(MONDAY)
    s = chat(settings, embedder, "memorybank", clock=clock)
    keep = chat(settings.model_copy(update={"data_dir": settings.data_dir / "keep"}), embedder, "memorybank",
                   {"threshold": 0.0}, clock=clock)
    try:
        for x in (s, keep):
            for role, speaker, text in CHAT:
                x.ingest(role, text, speaker=speaker)
        assert any(t.startswith("Omar") for t in texts(s))
        clock.advance("5d")
        for x in (s, keep):
            x.ingest("user", "Morning!", speaker="Nadia")  # a turn: forgetting runs
        assert texts(s) == []  # nothing recalled for five days: archived, not deleted
        assert len(texts(s, "archived")) == len(texts(keep)) == 4  # threshold 0: the same memories, all kept
    finally:
        close(s)
        close(keep)


def test_hema_summary_leads_back_to_the_turns_it_was_made_from(settings, embedder) -> None:
    clock = SimulatedClock(MONDAY)
    s = chat(settings, embedder, "hema", clock=clock)
    try:
        seqs = _ingest(s, clock)
        for i in range(10):
            s.ingest("user", f"Filler line number {i} about the weather.", speaker="Nadia")
        summary = s.engine.store.with_metadata("hema", "role", "summary")[0]
        hits = s.retrieve("What is Omar building?", k=3).hits
        hit = hits[-1]  # the compact summary follows the k chunks
        assert hit.memory_id == summary.id and len(hits) == 4
        assert "treehouse" in hits[0].text
        assert set(hit.sources) <= set(summary.sources[-6:])  # recent turns only, not every turn so far
        assert not set(hit.sources) & set(seqs.values())
        assert set(seqs.values()) <= set(summary.sources)  # the history still lists them
    finally:
        close(s)


def test_longmemeval_a_time_range_keeps_the_turn_that_tells_of_it(settings, embedder) -> None:
    clock = SimulatedClock(datetime(2023, 5, 10, 12, tzinfo=timezone.utc))
    s = chat(settings, embedder, "longmemeval", clock=clock)
    try:
        s.ingest("user", "I baked sourdough bread with my neighbour.", speaker="Nadia")
        clock.set(datetime(2023, 6, 2, 12, tzinfo=timezone.utc))
        s.ingest("user", "I ran a half marathon race last month, my first one!", speaker="Nadia")
        clock.advance("1d")
        told = next(m for m in s.engine.store.memories("longmemeval") if "marathon" in m.text)
        assert "last month (May 2023)" in told.metadata["key"] and told.metadata["when"] == "2023-05"
        r = s.retrieve("What race did Nadia run in May 2023?", k=1, at=clock.now())
        assert "marathon" in r.hits[0].text and "time range" in r.note
    finally:
        close(s)
