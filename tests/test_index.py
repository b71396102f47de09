"""The LanceDB index is a projection: it catches up with the log and can be rebuilt."""

from __future__ import annotations

import shutil

from memcli.core import operations as ops
from memcli.engine import Engine


def _texts(hits) -> list[str]:
    return [h.text for h in hits]


def test_hybrid_search_finds_by_meaning_and_keyword(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="I am allergic to peanuts"), ops.Add(text="My sister Zoe lives in Porto"),
                            ops.Add(text="I play the cello on Sundays")])
        assert _texts(engine.search("ns", "nut allergy", k=1, mode="vector")) == ["I am allergic to peanuts"]
        assert _texts(engine.search("ns", "Zoe", k=1, mode="keyword")) == ["My sister Zoe lives in Porto"]
        hybrid = engine.search("ns", "what instrument does she play", k=3)
        assert hybrid[0].text == "I play the cello on Sundays"
        assert {"rrf", "vector"} <= set(hybrid[0].parts)


def test_index_follows_updates_and_archives(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="I live in Lisbon"), ops.Add(text="I like green tea")])
        engine.apply("ns", [ops.Update(memory_id="m1", text="I live in Porto")])
        engine.apply("ns", [ops.Archive(memory_id="m2")])
        assert _texts(engine.search("ns", "Lisbon", mode="keyword")) == []
        assert _texts(engine.search("ns", "Porto", mode="keyword")) == ["I live in Porto"]
        assert "I like green tea" not in _texts(engine.search("ns", "tea", k=5))
        engine.apply("ns", [ops.Restore(memory_id="m2")])
        assert "I like green tea" in _texts(engine.search("ns", "tea", k=5))


def test_lagging_index_catches_up_on_next_open(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="the first memory")], sync_index=True)
        # a crash between the log commit and the index write leaves the index behind
        engine.apply("ns", [ops.Add(text="the blue bicycle is in the garage")], sync_index=False)
        behind = engine.index.watermark("ns")
        assert behind < engine.store.last_seq
    with Engine(settings, embedder=embedder) as engine:
        assert _texts(engine.search("ns", "bicycle", mode="keyword")) == ["the blue bicycle is in the garage"]
        assert engine.index.watermark("ns") == engine.store.last_seq


def test_deleted_index_is_rebuilt_from_log(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text=f"memory number {i}") for i in range(30)])
        before = _texts(engine.search("ns", "memory number 7", k=5))
    shutil.rmtree(settings.data_dir / "index")
    with Engine(settings, embedder=embedder) as engine:
        assert _texts(engine.search("ns", "memory number 7", k=5)) == before
        assert engine.index.count("ns") == 30


def test_rebuild_gives_same_search_results(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text=t) for t in ["red apple", "green pear", "yellow banana", "red cherry"]])
        engine.apply("ns", [ops.Delete(memory_id="m4")])
        before = [(h.id, round(h.score, 6)) for h in engine.search("ns", "red fruit", k=4)]
        engine.rebuild()
        after = [(h.id, round(h.score, 6)) for h in engine.search("ns", "red fruit", k=4)]
        assert after == before
        assert "m4" not in [i for i, _ in after]


def test_compaction_merges_append_fragments(settings, embedder) -> None:
    settings = settings.model_copy(update={"compact_every": 10})
    with Engine(settings, embedder=embedder) as engine:
        for i in range(25):  # one append per chat turn: each is followed by a search, so synced
            engine.apply("ns", [ops.Add(text=f"turn {i} of a long chat")], sync_index=True)
        table = engine.index._table("ns")
        fragments = table.stats()["fragment_stats"]["num_fragments"]
        assert fragments < 10, f"{fragments} fragments after 25 one-row appends with compaction every 10"
        assert engine.index.count("ns") == 25
        assert _texts(engine.search("ns", "turn 24", k=1, mode="keyword")) == ["turn 24 of a long chat"]


def test_a_memory_appended_after_the_fts_build_is_found_by_keyword_at_once(settings, embedder) -> None:
    """A fact told a minute ago must not wait for compaction to be found by BM25 (a live-chat bug if so)."""
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="I play the cello on Sundays"), ops.Add(text="My sister Zoe lives in Porto")],
                     sync_index=True)  # the table and its full-text index are built here
        for i in range(3):  # appended one by one, as a chat does; far fewer than compact_every
            engine.apply("ns", [ops.Add(text=f"Note {i}: the neighbour Quentin keeps bees number{i}")])
            assert _texts(engine.search("ns", f"number{i}", mode="keyword")) == [
                f"Note {i}: the neighbour Quentin keeps bees number{i}"]
        assert len(engine.search("ns", "Quentin", k=10, mode="keyword")) == 3
        assert "Note 2: the neighbour Quentin keeps bees number2" in _texts(engine.search("ns", "Quentin bees", k=3))
        assert engine.index.count("ns") == 5
