"""Rule-based text tools for the non-LLM paths of strategies (public: plugins may use them).

The embedded SmolLM2-135M cannot extract facts, so every extracting strategy needs a
deterministic path: first-person statements split into sentences, typed "slots" for
facts that have one current value (where you live, your job, your diet), and keyphrases.
Time expressions are in memcli.strategy.dates; what two people tell each other about
their lives, in memcli.strategy.statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOPWORDS = frozenset("""a an the and or but if then so of to in on at by for with about from into over after before
is are was were be been being am do does did have has had i me my mine we our us you your yours he him his she her
it its they them their this that these those there here what which who whom whose when where why how not no yes
very really just also too can could will would shall should may might must up down out off again once all any both
each few more most other some such only own same than s t don now i'm i've i'd i'll it's that's let's ok okay oh
well yeah hi hello thanks thank please""".split())

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|im|my|me|mine|myself|we|our|us)\b", re.I)
_WORD = re.compile(r"[A-Za-zÀ-ÿ0-9][\w'’-]*")


def sentences(text: str) -> list[str]:
    return [s.strip(" \t-–—•") for s in _SENTENCE.split(text) if s and s.strip(" \t-–—•")]


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


MIN_WORDS = 4  # a shorter fragment ("Wow!", "Yes, I did.") joins the next sentence


def sentence_units(text: str) -> list[str]:
    """The sentences of `text`, a fragment under MIN_WORDS words joined to the one after it."""
    out: list[str] = []
    carry = ""
    for sentence in sentences(text) or [text]:
        joined = f"{carry} {sentence}".strip()
        if len(words(joined)) < MIN_WORDS:
            carry = joined
            continue
        out.append(joined)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


@dataclass(frozen=True)
class Fact:
    """A statement worth remembering; `slot` names facts that have one current value."""

    text: str
    kind: str = "fact"
    slot: str | None = None
    value: str | None = None
    importance: float = 0.5
    when: str | None = None  # the date a statement's relative time means (ISO: day, month or year)


_NAME = r"([A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?)"
_PLACE = r"([A-Z][\w'’.-]+(?:[ -][A-Z][\w'’.-]+)*)"
_SLOTS: list[tuple[str, re.Pattern[str], str, float]] = [
    ("name", re.compile(rf"\b(?i:my name is|i am called|i'm called|call me) {_NAME}"), "identity", 0.9),
    ("residence", re.compile(
        rf"\b(?i:i (?:now |currently |still )?live in|i(?:'ve| have)? (?:just |recently )?moved (?:from {_PLACE} )?to"
        rf"|i(?:'m| am) (?:now )?based in|i relocated to) {_PLACE}"), "fact", 0.8),
    ("job", re.compile(r"\b(?:i work as(?: an?)?|i(?:'m| am) working as(?: an?)?|my job is(?: an?)?|i(?:'m| am) an?)"
                       r" (nurse|teacher|engineer|doctor|developer|programmer|student|designer|writer|chef|lawyer|"
                       r"accountant|scientist|artist|musician|manager|researcher|pilot|farmer|[\w-]+ engineer)\b",
                       re.I), "fact", 0.7),
    ("diet", re.compile(r"\bi(?:'m| am) (?:now |a |an )*(vegan|vegetarian|pescatarian|carnivore)\b"
                        r"|\bi (?:no longer|don't|do not) eat (meat|fish|dairy|gluten)\b", re.I), "preference", 0.7),
    ("age", re.compile(r"\bi(?:'m| am) (\d{1,3}) (?:years old|yo)\b", re.I), "identity", 0.6),
]
SINGLE_VALUED = tuple(slot for slot, *_ in _SLOTS)  # a new value replaces the old one
_MULTI: list[tuple[str, re.Pattern[str], str, float]] = [
    ("allergy", re.compile(r"\ballergic to ([\w -]+?)(?:[,.;!]|\band\b|$)", re.I), "health", 0.95),
    ("pref", re.compile(r"\bi (?:really |absolutely )?(love|like|enjoy|adore|prefer|hate|dislike|can't stand|"
                        r"don't like) ([\w' -]+?)(?:[,.;!]|\bbut\b|\band\b|$)", re.I), "preference", 0.6),
    ("relation", re.compile(r"\b(?i:my (sister|brother|mother|mom|mum|father|dad|wife|husband|partner|son|daughter|"
                            r"girlfriend|boyfriend|best friend|dog|cat)(?:'s name is| is called| named|,)?) ([A-Z]\w+)"),
     "relation", 0.7),
]
_PLAN = re.compile(r"\b(remind me|i(?:'ll| will)|i(?:'m| am) going to|i plan to|i have to|tomorrow|next "
                   r"(?:week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b", re.I)
CLAUSE_SPLIT = re.compile(r",\s*(?:and\s+)?(?=(?:i|i'm|my|we|our)\b)|\s+and\s+(?=(?:i|i'm|my)\b)", re.I)
_CLEAN = re.compile(r"^(?:and|so|but|also|well|oh|ok|okay|by the way|btw)[, ]+", re.I)
_POLARITY = {"love": "+", "like": "+", "enjoy": "+", "adore": "+", "prefer": "+",
             "hate": "-", "dislike": "-", "can't stand": "-", "don't like": "-"}


def _clause(sentence: str) -> str:
    return _CLEAN.sub("", sentence).strip().rstrip(".!?")


def slot_readings(clause: str, text: str) -> list[Fact]:
    """The slot readings of a first-person clause (name, residence, preference, …), as facts worded `text`."""
    out: list[Fact] = []
    for slot, pattern, kind, importance in _SLOTS:
        m = pattern.search(clause)
        if m:
            value = next(g for g in reversed(m.groups()) if g)
            out.append(Fact(text, kind, slot, value.strip(), importance))
            break
    for slot, pattern, kind, importance in _MULTI:
        for m in pattern.finditer(clause):
            groups = [g for g in m.groups() if g]
            if slot == "pref":
                verb, obj = groups[0].lower(), groups[-1].strip().lower()
                out.append(Fact(text, kind, f"pref:{obj}", _POLARITY.get(verb, "+"), importance))
            elif slot == "relation":
                out.append(Fact(text, kind, f"relation:{groups[0].lower()}", groups[-1], importance))
            else:
                out.append(Fact(text, kind, None, groups[-1].strip(), importance))
    return out


def facts(text: str, speaker: str = "User") -> list[Fact]:
    """First-person statements in `text`, each as 'Speaker: statement', with slots where known."""
    out: list[Fact] = []
    clauses = [(c, s) for s in sentences(text) for c in CLAUSE_SPLIT.split(s)]
    for clause, sentence in clauses:
        clause = _clause(clause)
        n = len(words(clause))
        if n < 3 or n > 60 or clause.endswith("?") or sentence.endswith("?"):
            continue
        if not FIRST_PERSON.search(clause):
            continue
        found = slot_readings(clause, f"{speaker}: {clause}")
        out += found
        if not found:
            kind = "plan" if _PLAN.search(clause) else "note"
            out.append(Fact(f"{speaker}: {clause}", kind, None, None, 0.5 if kind == "plan" else 0.4))
    # one fact per clause: keep the most specific reading (a slot beats a plain note)
    best: dict[str, Fact] = {}
    for f in out:
        if f.text not in best or (best[f.text].slot is None and f.slot is not None):
            best[f.text] = f
    return list(best.values())


def keyphrases(text: str, top: int = 6) -> list[str]:
    """RAKE-style candidate phrases (runs of content words), scored by word degree/frequency."""
    phrases: list[list[str]] = []
    current: list[str] = []
    for token in re.findall(r"[\w'’-]+|[^\w\s]", text.lower()):
        if token in STOPWORDS or not re.match(r"\w", token):
            if current:
                phrases.append(current)
            current = []
        else:
            current.append(token)
    if current:
        phrases.append(current)
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for p in phrases:
        for w in p:
            freq[w] = freq.get(w, 0) + 1
            degree[w] = degree.get(w, 0) + len(p) - 1
    scored = {" ".join(p): sum((degree[w] + freq[w]) / freq[w] for w in p) for p in phrases if len(p) <= 4}
    return [p for p, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
