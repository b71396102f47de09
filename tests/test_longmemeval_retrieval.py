"""longmemeval's retrieval rules: best-sentence (max-sim) dense ranking fused with BM25, keys with their exchange.

Examples written for these tests in the LoCoMo style (two named people talking), not taken
from the dev split.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from memcli.clock import SimulatedClock
from memcli.strategy.maxsim import SentenceVectors
from memcli.strategy.text import sentence_units as units
from memcli_plugins.longmemeval_ranker import EMBEDDER, WEIGHTS, exchange_neighbours, is_fit_for
from strategy_helpers import chat, close

LONG_TURN = ("Work has been hectic, the quarterly report took all week and my manager kept changing the slides. "
             "Oh, and on Sunday we adopted a three-legged greyhound called Pepper from the rescue centre. "
             "Anyway, how was the trip to the coast, did the weather hold up for you?")
CHAT = [
    ("Omar", "Hey Lena! The coast was lovely, we walked along the cliffs every morning."),
    ("Lena", LONG_TURN),
    ("Omar", "The weather held up, apart from one stormy night when the tent nearly blew away."),
    ("Lena", "I've been reading a novel about a lighthouse keeper, it is slow but beautiful."),
    ("Omar", "My brother started a new job at a bakery, he gets up at four every day."),
    ("Lena", "Four? That is brutal. I could never bake bread at that hour."),
]


def test_units_are_sentences_and_short_fragments_join_the_next() -> None:
    assert units("Wow! I finally finished the marathon last weekend. It took me four hours.") == [
        "Wow! I finally finished the marathon last weekend.", "It took me four hours."]
    assert units("Yes, I did.") == ["Yes, I did."]  # a lone fragment stays
    assert units("I painted a lake at sunrise. Nice, right?") == ["I painted a lake at sunrise. Nice, right?"]


def _ingest(s) -> None:
    for who, text in CHAT:
        s.ingest("user", text, speaker=who)


def _two_chats(settings, embedder, first: dict, second: dict):
    """Two longmemeval chats (separate data dirs) with the same conversation, one per parameter set."""
    chats = (chat(settings, embedder, "longmemeval", first),
             chat(settings.model_copy(update={"data_dir": settings.data_dir / "second"}), embedder, "longmemeval", second))
    for s in chats:
        _ingest(s)
    return chats


def test_dense_max_scores_a_long_turn_by_its_best_sentence(settings, embedder) -> None:
    """The greyhound sentence is a third of Lena's turn: its own vector is nearer the question than the turn's."""
    question = "What kind of dog did Lena get from the rescue centre?"
    by_key = chat(settings, embedder, "longmemeval", {"dense": "key"})
    by_max = chat(settings.model_copy(update={"data_dir": settings.data_dir / "max"}), embedder,
                     "longmemeval", {"dense": "max"})
    try:
        for s in (by_key, by_max):
            _ingest(s)
        key_hit = next(h for h in by_key.retrieve(question, k=6).hits if "greyhound" in h.text)
        max_hits = by_max.retrieve(question, k=6).hits
        assert max_hits[0].text == f"Lena: {LONG_TURN}"
        assert max_hits[0].parts["vector"] > key_hit.parts["vector"] + 0.05  # the sentence beats the whole key
        assert len(max_hits[0].sources) == 1  # provenance is still the one turn
    finally:
        close(by_key)
        close(by_max)


def test_sentence_vectors_embed_each_memory_once(settings, embedder) -> None:
    """Later questions only embed the memories added since (the cache is by id, text and embedder)."""
    s = chat(settings, embedder, "longmemeval", {"dense": "max"})
    calls: list[int] = []
    try:
        _ingest(s)
        view = s.view()
        vectors = SentenceVectors()
        real_embed = view.embed
        view.embed = lambda texts: calls.append(len(texts)) or real_embed(texts)  # count what is embedded
        query = real_embed(["a dog from the rescue centre"])[0]
        first = vectors.ranking(view, view.memories(), query, 3)
        assert calls and sum(calls) >= len(CHAT) and first[0][0] == next(
            m.id for m in view.memories() if "greyhound" in m.text)
        calls.clear()
        assert vectors.ranking(view, view.memories(), query, 3) == first and not calls
        s.ingest("user", "Pepper already knows how to sit and fetch.", speaker="Lena")
        vectors.ranking(view, view.memories(), query, 3)
        assert calls == [1]  # only the new memory's one sentence
    finally:
        close(s)


def test_feedback_ranks_the_dense_side_again_with_the_query_pulled_toward_the_first_hits(settings, embedder) -> None:
    """Pseudo-relevance feedback: the dense side is scored a second time with the query vector plus
    `feedback` × the mean key vector of the first 3 fused hits; the BM25 side is not searched again."""
    import numpy as np

    question = "Where did Omar go walking along the cliffs?"
    plain, fed = _two_chats(settings, embedder, {"feedback": 0.0, "speaker_boost": 1.0},
                            {"feedback": 0.5, "speaker_boost": 1.0})
    try:
        first = plain.retrieve(question, k=6).hits
        hits = fed.retrieve(question, k=6).hits
        view = fed.view()
        by_text = {m.text: m for m in view.memories()}
        keys = view.vectors([m.id for m in view.memories()])
        embedded = "Where did they go walking along the cliffs?"  # the speaker's name as "they" (speaker_names)
        pulled = view.embed([embedded])[0] + 0.5 * np.mean([keys[by_text[h.text].id] for h in first[:3]], axis=0)
        pulled /= np.linalg.norm(pulled)
        sentences = dict(SentenceVectors().ranking(view, view.memories(), pulled, len(CHAT)))
        for h in hits:  # each turn's dense score is max(key, best sentence) against the pulled vector
            mid = by_text[h.text].id
            assert abs(h.parts["vector"] - max(float(keys[mid] @ pulled), sentences[mid])) < 1e-4
        fed_vector = {h.text: h.parts["vector"] for h in hits}
        assert all(fed_vector[h.text] > h.parts["vector"] for h in first[:3])  # pulled toward the first hits
        fed_keyword = {h.text: h.parts["keyword"] for h in hits if "keyword" in h.parts}
        assert fed_keyword and all(fed_keyword[t] == h.parts["keyword"] for h in first if (t := h.text) in fed_keyword)
    finally:
        close(plain)
        close(fed)


EXCHANGE = [
    ("Priya", "Last weekend we took the kids to the war memorial downtown for the first time."),
    ("Tom", "That sounds moving. How did they take it?"),
    ("Priya", "They went very quiet and held hands the whole way round."),
    ("Tom", "My sister finally sold her old car, by the way."),
    ("Priya", "Good for her, it was falling apart."),
]


def test_a_reply_is_keyed_with_the_question_and_what_the_question_followed(settings, embedder) -> None:
    """context=exchange (the default): a short answer carries the question it answers and the message that
    question was about, so "How did Priya's kids react at the war memorial?" finds "They went very quiet"."""
    clock = SimulatedClock(datetime(2023, 5, 10, 12, tzinfo=timezone.utc))
    s = chat(settings, embedder, "longmemeval", clock=clock)
    try:
        for who, text in EXCHANGE:
            s.ingest("user", text, speaker=who)
        keys = {m.text: m.metadata["key"] for m in s.engine.store.memories("longmemeval")}
        reply = keys["Priya: They went very quiet and held hands the whole way round."]
        assert reply.startswith("Priya: Last weekend we took the kids to the war memorial downtown for the first time.\n"
                                "Tom: That sounds moving. How did they take it?\n")
        assert "war memorial" not in keys["Priya: Good for her, it was falling apart."]  # no question before it
        hits = s.retrieve("How did Priya's kids react at the war memorial?", k=2).hits
        found = next(h for h in hits if "very quiet" in h.text)
        assert found.text == "Priya: They went very quiet and held hands the whole way round."
        assert len(found.sources) == 1  # the value and its provenance stay the reply alone
    finally:
        close(s)


def test_the_exchange_stops_at_a_gap_and_context_question_keeps_one_message(settings, embedder) -> None:
    clock = SimulatedClock(datetime(2023, 5, 10, 12, tzinfo=timezone.utc))
    gap = chat(settings, embedder, "longmemeval", clock=clock)
    one = chat(settings.model_copy(update={"data_dir": settings.data_dir / "one"}), embedder, "longmemeval",
               {"context": "question"}, clock=clock)
    try:
        gap.ingest("user", EXCHANGE[0][1], speaker="Priya")
        clock.set(datetime(2023, 5, 10, 15, tzinfo=timezone.utc))  # three hours later: a new exchange
        for who, text in EXCHANGE[1:3]:
            gap.ingest("user", text, speaker=who)
        for who, text in EXCHANGE[:3]:
            one.ingest("user", text, speaker=who)
        for s in (gap, one):
            key = next(m.metadata["key"] for m in s.engine.store.memories("longmemeval") if "very quiet" in m.text)
            assert key.startswith("Tom: That sounds moving. How did they take it?\n") and "memorial" not in key
    finally:
        close(gap)
        close(one)


def test_the_model_finds_a_question_likelier_after_the_turn_it_is_about(settings, embedder) -> None:
    """The scorer behind `rerank`: mean log p of the question's tokens after a passage, deterministic."""
    from memcli.strategy.rerank import PROMPT

    s = chat(settings, embedder, "longmemeval")
    try:
        question = " What kind of dog did Lena adopt from the rescue centre?"
        about = s.engine.scorer.likelihood(PROMPT.format(passage=f"Lena: {LONG_TURN}"), question)
        other = s.engine.scorer.likelihood(PROMPT.format(passage=f"Omar: {CHAT[4][1]}"), question)
        assert about > other + 0.1
        assert about == s.engine.scorer.likelihood(PROMPT.format(passage=f"Lena: {LONG_TURN}"), question)
        assert -20 < other < 0 and s.engine.scorer.likelihood("Passage: x", "") == 0.0
        long_passage = PROMPT.format(passage="word " * 400)  # longer than the scoring context: its start is cut
        assert s.engine.scorer.likelihood(long_passage, question) < 0
    finally:
        close(s)


def test_rerank_fuses_the_retrieval_order_with_the_models_order(settings, embedder) -> None:
    """`rerank=N`: the first N hits come back in the RRF of their retrieval rank and their rank by the model's
    likelihood of the question (`question_logp`); the hits after N keep their order."""
    from memcli.strategy.maxsim import RRF_K

    question = "What kind of dog did Lena get from the rescue centre?"
    plain, ranked = _two_chats(settings, embedder, {"speaker_boost": 1.0}, {"speaker_boost": 1.0, "rerank": 4})
    try:
        before = plain.retrieve(question, k=6).hits
        after = ranked.retrieve(question, k=6)
        assert "re-ranked" in after.note
        hits = after.hits
        assert [h.text for h in hits[4:]] == [h.text for h in before[4:6]]  # past N: untouched
        top = [h.text for h in before[:4]]
        assert sorted(h.text for h in hits[:4]) == sorted(top) and all("question_logp" in h.parts for h in hits[:4])
        logp = {h.text: h.parts["question_logp"] for h in hits[:4]}
        by_model = sorted(top, key=lambda t: -logp[t])
        fused = {t: 1 / (RRF_K + top.index(t) + 1) + 1 / (RRF_K + by_model.index(t) + 1) for t in top}
        assert [h.text for h in hits[:4]] == sorted(top, key=lambda t: (-fused[t], top.index(t)))
        assert hits[0].text == f"Lena: {LONG_TURN}"
        assert logp[f"Lena: {LONG_TURN}"] == max(logp.values())  # the model agrees: the greyhound turn
    finally:
        close(plain)
        close(ranked)


def test_the_learned_ranker_orders_by_the_weighted_sum_of_each_candidates_features(settings, embedder) -> None:
    """ranker=learned (the default): each candidate of the pool gets the features WEIGHTS names and comes back
    in the order of their weighted sum (`parts["ranker"]`); ranker=rules keeps the hand-set order."""
    question = "What kind of dog did Lena get from the rescue centre?"
    learned, rules = _two_chats(settings, embedder, {}, {"ranker": "rules"})
    try:
        got = learned.retrieve(question, k=6)
        assert "learned ranker" in got.note and "learned ranker" not in rules.retrieve(question, k=6).note
        assert got.hits[0].text == f"Lena: {LONG_TURN}"
        found = learned.strategy.candidates(question, learned.view(), 6, features=True)
        assert all(set(row) == set(WEIGHTS) for row in found.table.values())
        for h in got.hits:
            assert h.parts["ranker"] == pytest.approx(sum(WEIGHTS[n] * v for n, v in found.table[h.memory_id].items()))
        assert [h.parts["ranker"] for h in got.hits] == sorted((h.parts["ranker"] for h in got.hits), reverse=True)
        worst_first = learned.strategy.learned_order(found, {"dense": -1.0})  # other weights, another order
        assert [h.parts["vector"] for h in worst_first] == sorted(h.parts["vector"] for h in worst_first)
        assert worst_first[-1].text == got.hits[0].text
    finally:
        close(learned)
        close(rules)


def test_the_learned_ranker_reads_the_exchange_around_a_turn_and_needs_its_own_embedder(settings, embedder) -> None:
    """A turn's `before` / `after` features are the fused scores of its neighbours in the same exchange (no
    gap over an hour); the weights belong to the default embedder, and to the dense side they were fit on."""
    clock = SimulatedClock(datetime(2023, 5, 10, 12, tzinfo=timezone.utc))
    s = chat(settings, embedder, "longmemeval", clock=clock)
    by_key = chat(settings.model_copy(update={"data_dir": settings.data_dir / "key"}), embedder, "longmemeval",
                  {"dense": "key"}, clock=clock)
    try:
        for who, text in EXCHANGE[:3]:
            s.ingest("user", text, speaker=who)
        clock.set(datetime(2023, 5, 10, 15, tzinfo=timezone.utc))  # three hours later: a new exchange
        for who, text in EXCHANGE[3:]:
            s.ingest("user", text, speaker=who)
        memories = {m.text.split(": ", 1)[1]: m.id for m in s.view().memories()}
        by_id = {m.id: m for m in s.view().memories()}
        neighbours = exchange_neighbours(by_id, list(memories.values()), timedelta(hours=1))
        first, question, reply, car, answer = (memories[text] for _, text in EXCHANGE)
        assert neighbours[question] == (first, reply) and neighbours[first] == (None, question)
        assert neighbours[reply] == (question, None) and neighbours[car] == (None, answer)  # the gap ends it
        found = s.strategy.candidates("How did Priya's kids react at the war memorial?", s.view(), 5, features=True)
        rrf = {h.memory_id: h.parts["rrf"] for h in found.pool}
        assert found.table[question]["before"] == rrf[first] and found.table[question]["after"] == rrf[reply]
        assert found.table[first]["before"] == 0.0
        assert is_fit_for(EMBEDDER) and not is_fit_for("BAAI/bge-small-en-v1.5")
        by_key.ingest("user", EXCHANGE[0][1], speaker="Priya")
        assert "needs dense≠key" in by_key.retrieve("Where did Priya take the kids?", k=1).note
    finally:
        close(s)
        close(by_key)


NAMED = [
    ("Priya", "Tom! Tom, you will not believe what happened at the concert, Tom."),
    ("Tom", "Ha, tell me everything. By the way, I finally started cello lessons on Thursday evenings."),
    ("Priya", "Tom, that band played until midnight and I lost my voice singing along, Tom."),
    ("Tom", "Sounds wild. My teacher says my bowing is improving, slowly."),
    ("Priya", "Honestly Tom, you should come next time, they play every month."),
]


def test_the_dense_side_reads_a_speakers_name_as_they() -> None:
    """The speakers' names (and their possessive) become "they"; other names and words stay."""
    from memcli_plugins.longmemeval import LongMemEval

    question = "What is Tom's favourite band, and did Priya see them with Tomas?"
    assert LongMemEval.without_speakers(question, {"Tom", "Priya"}) == \
        "What is they favourite band, and did they see them with Tomas?"
    assert LongMemEval.without_speakers("Tom?", {"Tom"}) == "they?"
    assert LongMemEval.without_speakers("What did Ana paint?", set()) == "What did Ana paint?"


@pytest.mark.parametrize("names", ["pronoun", "keep"])
def test_a_question_naming_a_speaker_is_embedded_without_the_name(settings, embedder, names: str) -> None:
    """A person's own turns carry their name in the label only; the other speaker's turns say it. So the dense
    side embeds the question with the name as "they" (the speaker feature does the name's work)."""
    question = "What instrument is Tom learning?"
    s = chat(settings, embedder, "longmemeval", {"feedback": 0.0, "speaker_names": names})
    try:
        for who, text in NAMED:
            s.ingest("user", text, speaker=who)
        found = s.retrieve(question, k=5)
        hits = found.hits
        assert "cello" in hits[0].text
        assert ("“What instrument is they learning?”" in found.note) == (names == "pronoun")
        view = s.view()
        embedded = "What instrument is they learning?" if names == "pronoun" else question
        vector = view.embed([embedded])[0]
        keys = view.vectors([m.id for m in view.memories()])
        sentences = dict(SentenceVectors().ranking(view, view.memories(), vector, len(NAMED)))
        by_text = {m.text: m.id for m in view.memories()}
        for h in hits:
            mid = by_text[h.text]
            assert abs(h.parts["vector"] - max(float(keys[mid] @ vector), sentences[mid])) < 1e-4
    finally:
        close(s)
