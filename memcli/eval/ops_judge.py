"""The LLM judge of `memcli eval ops`: does this memory state that memory point?

Matching by embedding similarity (cosine ≥ the threshold and the point's `must` words present)
is the default. With a judge, the model decides each candidate pair instead: the texts nearest a
point by cosine (the top `candidates`, at cosine ≥ `floor`, well below the rule's threshold, so
that the judge also sees the paraphrases the rule misses). One schema-constrained call per pair
(`complete_json`, {"match": true|false}), remembered per pair. A reply that is not valid JSON for
the schema (a StructuredOutputError, or JSON without a boolean `match`) falls back to the rule for
that pair, and is recorded as such: every verdict says who gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memcli.eval.ops_data import Point
from memcli.model.base import StructuredOutputError

PROMPT = ("You check what a memory system stored. A memory point is a fact the user stated. Say whether the "
          "stored memory states the same fact as the point, with the same value (\"lives in Porto\" does not "
          "match \"lives in Lisbon\"; a memory may say more than the point). Reply with JSON "
          "{\"match\": true} or {\"match\": false}.")
SCHEMA = {"type": "object", "properties": {"match": {"type": "boolean"}}, "required": ["match"]}
CANDIDATES = 3  # the memories nearest a point that the judge sees
FLOOR = 0.3  # below this cosine a memory is not a candidate (MiniLM: unrelated sentences ≈ 0.0-0.2)


@dataclass(frozen=True)
class Verdict:
    point: str
    memory: str
    cosine: float
    match: bool
    by: str  # "llm" | "rule" (the model's reply was not valid for the schema)
    error: str = ""


def rule_match(point: Point, text: str, similarity: float, threshold: float) -> bool:
    """The default matcher: cosine at least `threshold` and every `must` word of the point in the text
    (embeddings alone do not tell "lives in Lisbon" from "lives in Porto")."""
    lowered = text.lower()
    return similarity >= threshold and all(word.lower() in lowered for word in point.must)


class Judge:
    """Asks `model` about each candidate pair once; `verdicts` keeps every answer (and every fallback)."""

    def __init__(self, model: Any, *, candidates: int = CANDIDATES, floor: float = FLOOR,
                 max_tokens: int = 16) -> None:
        self.model, self.candidates, self.floor, self.max_tokens = model, candidates, floor, max_tokens
        self.verdicts: dict[tuple[str, str], Verdict] = {}

    @property
    def label(self) -> str:
        return f"LLM judge ({getattr(self.model, 'model_id', 'model')})"

    def __call__(self, point: Point, text: str, similarity: float, threshold: float) -> Verdict:
        key = (point.text, text)
        if key not in self.verdicts:
            messages = [{"role": "system", "content": PROMPT},
                        {"role": "user", "content": f"Memory point: {point.text}\nStored memory: {text}"}]
            try:
                reply = self.model.complete_json(messages, SCHEMA, max_tokens=self.max_tokens)
                if not isinstance(reply, dict) or not isinstance(reply.get("match"), bool):
                    raise StructuredOutputError("no boolean `match`", str(reply))
                verdict = Verdict(point.text, text, round(similarity, 4), reply["match"], "llm")
            except StructuredOutputError as exc:
                verdict = Verdict(point.text, text, round(similarity, 4),
                                  rule_match(point, text, similarity, threshold), "rule", exc.reason)
            self.verdicts[key] = verdict
        return self.verdicts[key]
