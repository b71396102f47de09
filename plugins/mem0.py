"""mem0: extract facts, then decide ADD / UPDATE / DELETE / NOOP against similar memories.

Mem0 (Chhikara et al., 2025): an extraction phase turns a message into candidate facts;
an update phase retrieves the top-s similar memories for each fact and asks the LLM for
one of ADD, UPDATE, DELETE, NOOP. Memory ids are shown to the model as small integers
(0..s-1) so it cannot invent one; the schema's enum enforces it and `decide` rejects any
other id. DELETE archives the memory (superseded facts are closed, not lost).

Non-LLM path (the default with the embedded 135M model): facts are what a speaker tells
about themselves and the people they name — events, plans, relations, attributes — one per
sentence, as "Speaker: statement" with relative dates resolved (memcli.strategy.statements),
typed by slot where one applies (name, residence, job, diet, …). Both people of a
conversation are read; an unnamed assistant's replies are not. Decision: a near-duplicate (cosine ≥ dup_threshold) is a NOOP; a fact for a
single-valued slot that already has a different value UPDATEs that memory (its old text
stays in the version history); a preference whose polarity flipped UPDATEs; else ADD.
"""

from __future__ import annotations

from typing import Any

from memcli.strategy import FACTS_SCHEMA, Candidate, Param, Strategy, listed_facts, ops
from memcli.strategy.statements import is_person, statements

EXTRACT_PROMPT = ("Extract the facts, events, plans, relations and preferences that the speaker states about "
                  "themselves or about people they mention. Write each as a short sentence that names the person "
                  "and gives the date of a relative time ('yesterday' said on 8 May 2023: 7 May 2023). Reply with "
                  "JSON {\"facts\": [...]}; an empty list if none.")
DECIDE_PROMPT = ("You manage a memory store. Given a new fact and existing memories (numbered), answer with one "
                 "event: ADD (new information), UPDATE (replace memory `id` with `text`), DELETE (memory `id` is "
                 "contradicted), or NONE (already known). Reply with JSON {\"event\", \"id\", \"text\"}.")
MULTI_VALUED = ("relation:",)  # slots that can hold several values at once


def decide(raw: dict[str, Any], id_map: list[str], fact: Candidate) -> ops.Operation:
    """Turn the model's decision into an operation; an id the model invented becomes a NOOP."""
    event = str(raw.get("event", "")).upper()
    text = str(raw.get("text") or fact.text).strip() or fact.text
    if event == "ADD":
        return ops.Add(text=fact.text, kind=fact.kind, importance=fact.importance, sources=fact.sources,
                       metadata=dict(fact.metadata), reason="model: ADD")
    if event in ("NONE", "NOOP"):
        return ops.Noop(reason="model: already known")
    idx = raw.get("id")
    if not isinstance(idx, int) or not 0 <= idx < len(id_map):
        return ops.Noop(reason=f"model chose memory id {idx!r}, which was not offered: rejected")
    if event == "UPDATE":
        return ops.Update(memory_id=id_map[idx], text=text, sources=fact.sources, reason="model: UPDATE")
    if event == "DELETE":
        return ops.Archive(memory_id=id_map[idx], reason="model: DELETE (contradicted)")
    return ops.Noop(reason=f"model answered unknown event {event!r}: rejected")


class Mem0(Strategy):
    name = "mem0"
    description = "Fact extraction, then ADD / UPDATE / DELETE / NOOP against the top-s similar memories."
    paper = "Mem0 (Chhikara et al., 2025): Building production-ready AI agents with scalable long-term memory"
    params = (
        Param("top_s", int, 5, "Similar memories compared with each new fact.", min=1, max=20),
        Param("dup_threshold", float, 0.93, "Cosine similarity at or above which a fact is a duplicate (NOOP).",
              min=0.5, max=1.0),
        Param("roles", str, "people", "Whose messages facts are extracted from: the user, every message, or "
              "people (the user and any named speaker; an unnamed assistant's replies are not facts).",
              choices=("people", "user", "both")),
    )

    # -- extraction ------------------------------------------------------------------------

    def extract(self, turn, view):
        roles = self.p["roles"]
        if roles == "user" and turn.role != "user" or roles == "people" and not is_person(turn.role, turn.speaker):
            return []
        speaker = turn.who
        date = turn.ts.date().isoformat()
        return view.ask_json(
            EXTRACT_PROMPT, f"[{turn.ts:%-d %B %Y}] {turn.text}", FACTS_SCHEMA, max_tokens=192,
            read=lambda reply: [Candidate(f"{speaker}: {f}", sources=(turn.seq,),
                                          metadata={"date": date, "path": "llm"}) for f in listed_facts(reply)],
            fallback=lambda why: [
                Candidate(f.text, kind=f.kind, importance=f.importance, sources=(turn.seq,),
                          metadata={"date": date, **({"slot": f.slot} if f.slot else {}),
                                    **({"value": f.value} if f.value else {}), **({"when": f.when} if f.when else {})})
                for f in statements(turn.text, speaker, turn.ts)])

    # -- update phase ----------------------------------------------------------------------

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        seen_slots: dict[str, str] = {}
        for fact in candidates:
            similar = view.search(fact.text, k=self.p["top_s"], mode="vector")
            if similar and similar[0].score >= self.p["dup_threshold"]:
                out.append(ops.Noop(memory_id=similar[0].memory_id, reason=f"duplicate of {similar[0].memory_id}",
                                    scores={"similarity": similar[0].score}))
                continue
            if view.model is not None and similar:
                out.append(self._decide_with_model(fact, similar, view))
                continue
            out.append(self._decide_by_rules(fact, view, seen_slots))
        return out

    def _decide_by_rules(self, fact: Candidate, view, seen_slots: dict[str, str]) -> ops.Operation:
        slot, value = fact.metadata.get("slot"), fact.metadata.get("value")
        add = ops.Add(text=fact.text, kind=fact.kind, importance=fact.importance, sources=fact.sources,
                      metadata=dict(fact.metadata), reason="new fact")
        if not slot or slot in seen_slots:
            return add
        holders = view.with_metadata("slot", slot)
        if not holders:
            seen_slots[slot] = "new"
            return add
        current = holders[-1]
        if current.metadata.get("value") == value:  # the same fact in other words: more evidence for it
            return ops.Reinforce(memory_id=current.id, strength=current.strength + 1, sources=fact.sources,
                                 reason=f"{slot} is already {value}: stated again")
        if slot.startswith(MULTI_VALUED):
            return add  # a second sister is not a new value for the first one
        seen_slots[slot] = current.id
        return ops.Update(memory_id=current.id, text=fact.text, sources=fact.sources, metadata={"value": value},
                          reason=f"{slot}: {current.metadata.get('value')} → {value}")

    def _decide_with_model(self, fact: Candidate, similar, view) -> ops.Operation:
        id_map = [h.memory_id for h in similar]
        listing = "\n".join(f"{i}: {h.text}" for i, h in enumerate(similar))
        schema = {"type": "object", "properties": {
            "event": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NONE"]},
            "id": {"type": "integer", "minimum": 0, "maximum": len(id_map) - 1},
            "text": {"type": "string"}}, "required": ["event", "id", "text"]}
        return view.ask_json(DECIDE_PROMPT, f"Existing memories:\n{listing}\n\nNew fact: {fact.text}", schema,
                             max_tokens=128, read=lambda raw: decide(raw, id_map, fact),
                             fallback=lambda why: ops.Noop(reason=f"model reply unusable ({why}): fact not stored"))
