"""MemoryView.ask_json: the model's schema-constrained JSON when a model is configured, the
strategy's rules when there is none or its reply is unusable (memcli.strategy.ask)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from memcli.model.base import ModelError, StructuredOutputError
from memcli.strategy import FACTS_SCHEMA, MemoryView, StrategyRegistry, Turn, listed_facts
from tests.doubles import JsonReplyModel

NOW = datetime(2023, 5, 8, 12, 0, tzinfo=timezone.utc)


def view(model) -> MemoryView:
    """A view for the model path only (ask_json reads no memories, so no engine is needed)."""
    return MemoryView(None, "test", NOW, model=model)  # type: ignore[arg-type]


def ask(v: MemoryView, read=listed_facts):
    reasons: list[str] = []

    def rules(why: str) -> list[str]:
        reasons.append(why)
        return ["rule fact"]

    return v.ask_json("List the facts.", "I live in Lisbon.", FACTS_SCHEMA, read=read, fallback=rules,
                      max_tokens=64), reasons


def test_the_model_path_reads_the_reply_and_skips_the_rules() -> None:
    model = JsonReplyModel({"facts": ["lives in Lisbon", "  "]})
    found, reasons = ask(view(model))
    assert found == ["lives in Lisbon"] and reasons == []
    call, = model.calls
    assert call["messages"] == [{"role": "system", "content": "List the facts."},
                                {"role": "user", "content": "I live in Lisbon."}]
    assert call["schema"] == FACTS_SCHEMA and call["max_tokens"] == 64


def test_an_empty_answer_from_the_model_is_an_answer() -> None:
    found, reasons = ask(view(JsonReplyModel({"facts": []})))
    assert found == [] and reasons == []


def test_a_reply_that_is_not_json_for_the_schema_falls_back_to_the_rules() -> None:
    found, reasons = ask(view(JsonReplyModel(StructuredOutputError("truncated at max_tokens", '{"facts": ["a'))))
    assert found == ["rule fact"] and reasons == ["truncated at max_tokens"]


@pytest.mark.parametrize("reply", [{"fact": "Lisbon"}, ["Lisbon"], {"facts": 3}])
def test_a_reply_of_the_wrong_shape_falls_back_to_the_rules(reply) -> None:
    found, reasons = ask(view(JsonReplyModel(reply)), read=lambda r: [str(f) for f in r["facts"]])
    assert found == ["rule fact"]
    assert len(reasons) == 1 and reasons[0].startswith("reply does not fit")


def test_a_reply_the_strategy_finds_unusable_falls_back_to_the_rules() -> None:
    found, reasons = ask(view(JsonReplyModel({"facts": []})), read=lambda r: listed_facts(r) or None)
    assert found == ["rule fact"] and reasons == ["reply unusable"]


def test_without_a_model_the_rules_answer_and_nothing_is_asked() -> None:
    found, reasons = ask(view(None))
    assert found == ["rule fact"] and reasons == ["no model"]


def test_a_model_failure_that_is_not_a_bad_reply_propagates() -> None:
    with pytest.raises(ModelError):
        ask(view(JsonReplyModel(ModelError("the server went away"))))


def test_mem0_extracts_by_model_when_one_answers_and_by_rules_otherwise(tmp_path) -> None:
    """The behaviour of a real plugin through the helper: the LLM path with a capable model, the
    rule path (statements) without one or after an unusable reply."""
    mem0 = StrategyRegistry(tmp_path / "none").create("mem0")
    turn = Turn(seq=7, role="user", text="I moved to Porto last week.", ts=NOW, speaker="Ana")

    by_model = mem0.extract(turn, view(JsonReplyModel({"facts": ["Ana moved to Porto"]})))
    assert [(c.text, c.metadata["path"], c.sources) for c in by_model] == [("Ana: Ana moved to Porto", "llm", (7,))]

    by_rules = mem0.extract(turn, view(None))
    assert by_rules and all("path" not in c.metadata for c in by_rules)
    assert any("Porto" in c.text and c.metadata.get("slot") == "residence" for c in by_rules)

    after_bad_reply = mem0.extract(turn, view(JsonReplyModel(StructuredOutputError("not JSON", "{"))))
    assert [c.text for c in after_bad_reply] == [c.text for c in by_rules]


def test_tim_memgas_and_rmm_take_the_model_path_through_the_helper(tmp_path) -> None:
    registry = StrategyRegistry(tmp_path / "none")
    turn = Turn(seq=3, role="user", text="I moved to Porto.", ts=NOW, speaker="Ana")

    tim = registry.create("tim")
    model = JsonReplyModel({"thoughts": [{"subject": "Ana", "relation": "lives in", "object": "Porto"}]})
    assert tim._triples(turn, turn.text, view(model)) == [("Ana", "lives in", "Porto")]
    assert tim._triples(turn, turn.text, view(None)) == tim._rule_triples(turn, turn.text)

    memgas = registry.create("memgas")
    turns = [type("M", (), {"text": "Ana: I moved to Porto."})()]
    body = "Ana: I moved to Porto."
    assert memgas._summary(turns, body, view(JsonReplyModel({"summary": " Ana moved. "}))) == "Ana moved."
    empty = JsonReplyModel({"summary": "  "})  # an empty summary is unusable: the rules write one
    assert memgas._summary(turns, body, view(empty)) == memgas._rule_summary(turns, body) != ""

    rmm = registry.create("rmm")
    topics = rmm._topics(turns, view(JsonReplyModel({"topics": [{"summary": "Moving", "turns": [0]}]})))
    assert topics == [("Moving", turns)]
