"""Rule-based text tools for the non-LLM paths of strategies (public: plugins may use them).

The embedded SmolLM2-135M cannot extract facts, so every extracting strategy needs a
deterministic path: first-person statements split into sentences, typed "slots" for
facts that have one current value (where you live, your job, your diet), keyphrases,
and time expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

STOPWORDS = frozenset("""a an the and or but if then so of to in on at by for with about from into over after before
is are was were be been being am do does did have has had i me my mine we our us you your yours he him his she her
it its they them their this that these those there here what which who whom whose when where why how not no yes
very really just also too can could will would shall should may might must up down out off again once all any both
each few more most other some such only own same than s t don now i'm i've i'd i'll it's that's let's ok okay oh
well yeah hi hello thanks thank please""".split())

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|im|my|me|mine|myself|we|our|us)\b", re.I)
_WORD = re.compile(r"[A-Za-zÀ-ÿ0-9][\w'’-]*")


def sentences(text: str) -> list[str]:
    return [s.strip(" \t-–—•") for s in _SENTENCE.split(text) if s and s.strip(" \t-–—•")]


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


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
_CLAUSE_SPLIT = re.compile(r",\s*(?:and\s+)?(?=(?:i|i'm|my|we|our)\b)|\s+and\s+(?=(?:i|i'm|my)\b)", re.I)
_CLEAN = re.compile(r"^(?:and|so|but|also|well|oh|ok|okay|by the way|btw)[, ]+", re.I)
_POLARITY = {"love": "+", "like": "+", "enjoy": "+", "adore": "+", "prefer": "+",
             "hate": "-", "dislike": "-", "can't stand": "-", "don't like": "-"}


def _clause(sentence: str) -> str:
    return _CLEAN.sub("", sentence).strip().rstrip(".!?")


def facts(text: str, speaker: str = "User") -> list[Fact]:
    """First-person statements in `text`, each as 'Speaker: statement', with slots where known."""
    out: list[Fact] = []
    clauses = [(c, s) for s in sentences(text) for c in _CLAUSE_SPLIT.split(s)]
    for clause, sentence in clauses:
        clause = _clause(clause)
        n = len(words(clause))
        if n < 3 or n > 60 or clause.endswith("?") or sentence.endswith("?"):
            continue
        if not _FIRST_PERSON.search(clause):
            continue
        found = False
        for slot, pattern, kind, importance in _SLOTS:
            m = pattern.search(clause)
            if m:
                value = next(g for g in reversed(m.groups()) if g)
                out.append(Fact(f"{speaker}: {clause}", kind, slot, value.strip(), importance))
                found = True
                break
        for slot, pattern, kind, importance in _MULTI:
            for m in pattern.finditer(clause):
                groups = [g for g in m.groups() if g]
                if slot == "pref":
                    verb, obj = groups[0].lower(), groups[-1].strip().lower()
                    out.append(Fact(f"{speaker}: {clause}", kind, f"pref:{obj}", _POLARITY.get(verb, "+"), importance))
                elif slot == "relation":
                    out.append(Fact(f"{speaker}: {clause}", kind, f"relation:{groups[0].lower()}", groups[-1],
                                    importance))
                else:
                    out.append(Fact(f"{speaker}: {clause}", kind, None, groups[-1].strip(), importance))
                found = True
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


# -- time ----------------------------------------------------------------------------------

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}
_AGO = re.compile(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of) "
                  r"(day|week|month|year)s? ago\b", re.I)


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def time_range(question: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The time span a question refers to ('last Tuesday', 'two weeks ago', 'in May 2023'), if any."""
    q = question.lower()
    today = _day(now)
    if "yesterday" in q:
        return today - timedelta(days=1), today
    if "today" in q or "this morning" in q or "tonight" in q:
        return today, today + timedelta(days=1)
    for i, name in enumerate(_WEEKDAYS):
        if re.search(rf"\b(?:last|on|this past) {name}\b", q):
            back = (today.weekday() - i) % 7 or 7
            start = today - timedelta(days=back)
            return start, start + timedelta(days=1)
    if "last week" in q:
        start = today - timedelta(days=today.weekday() + 7)
        return start, start + timedelta(days=7)
    if "this week" in q:
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    if "last month" in q:
        first = today.replace(day=1)
        prev = (first - timedelta(days=1)).replace(day=1)
        return prev, first
    if "last year" in q:
        return today.replace(year=today.year - 1, month=1, day=1), today.replace(month=1, day=1)
    m = _AGO.search(q)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        unit = {"day": 1, "week": 7, "month": 30, "year": 365}[m.group(2)]
        center = today - timedelta(days=n * unit)
        slack = timedelta(days=max(1, unit * n // 3))
        return center - slack, center + slack + timedelta(days=1)
    m = re.search(r"\bin (" + "|".join(_MONTHS) + r")(?:,? (\d{4}))?\b", q)
    if m:
        month = _MONTHS.index(m.group(1)) + 1
        year = int(m.group(2)) if m.group(2) else (now.year if month <= now.month else now.year - 1)
        start = now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1)
        return start, end
    m = re.search(r"\bin (\d{4})\b", q)
    if m:
        year = int(m.group(1))
        start = now.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return start, start.replace(year=year + 1)
    return None


# -- the LLM path ----------------------------------------------------------------------------

FACTS_SCHEMA = {"type": "object", "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
                "required": ["facts"]}


def model_facts(model, text: str, instruction: str, max_tokens: int = 192) -> list[str] | None:
    """Facts stated in `text`, by a schema-constrained model call; None without a model or when
    its reply is unusable (the caller then takes its rule-based path, so no turn is lost)."""
    if model is None:
        return None
    from memcli.model.base import StructuredOutputError

    try:
        found = model.complete_json([{"role": "system", "content": instruction}, {"role": "user", "content": text}],
                                    FACTS_SCHEMA, max_tokens=max_tokens)
    except StructuredOutputError:
        return None
    return [str(f).strip() for f in found.get("facts", []) if str(f).strip()]
