"""Rule-based text tools for the non-LLM paths of strategies (public: plugins may use them).

The embedded SmolLM2-135M cannot extract facts, so every extracting strategy needs a
deterministic path: first-person statements split into sentences, typed "slots" for
facts that have one current value (where you live, your job, your diet), keyphrases,
and time expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

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
_CLAUSE_SPLIT = re.compile(r",\s*(?:and\s+)?(?=(?:i|i'm|my|we|our)\b)|\s+and\s+(?=(?:i|i'm|my)\b)", re.I)
_CLEAN = re.compile(r"^(?:and|so|but|also|well|oh|ok|okay|by the way|btw)[, ]+", re.I)
_POLARITY = {"love": "+", "like": "+", "enjoy": "+", "adore": "+", "prefer": "+",
             "hate": "-", "dislike": "-", "can't stand": "-", "don't like": "-"}


def _clause(sentence: str) -> str:
    return _CLEAN.sub("", sentence).strip().rstrip(".!?")


def _readings(clause: str, text: str) -> list[Fact]:
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
    clauses = [(c, s) for s in sentences(text) for c in _CLAUSE_SPLIT.split(s)]
    for clause, sentence in clauses:
        clause = _clause(clause)
        n = len(words(clause))
        if n < 3 or n > 60 or clause.endswith("?") or sentence.endswith("?"):
            continue
        if not _FIRST_PERSON.search(clause):
            continue
        found = _readings(clause, f"{speaker}: {clause}")
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


_FULL_DATE = re.compile(r"\b(?:(\d{1,2}) (" + "|".join(_MONTHS) + r"),? (\d{4})|(" + "|".join(_MONTHS)
                        + r") (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}))\b")


def _full_date(q: str, now: datetime) -> datetime | None:
    """An explicit day in a lower-cased question ("april 10, 2023", "10 april 2023")."""
    m = _FULL_DATE.search(q)
    if m is None:
        return None
    day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
    try:
        return now.replace(year=int(year), month=_MONTHS.index(month) + 1, day=int(day), hour=0, minute=0, second=0,
                           microsecond=0)
    except ValueError:
        return None


def time_range(question: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The time span a question refers to ('last Tuesday', 'two weeks ago', 'in May 2023', 'on 7 May 2023'),
    if any. A relative phrase counts from an explicit day the question names ("the weekend before
    April 10, 2023"), else from `now`."""
    q = question.lower()
    anchor = _full_date(q, now)
    if anchor is not None:
        relative = _relative_range(_FULL_DATE.sub(" ", q), anchor + timedelta(days=1))
        return relative or (anchor, anchor + timedelta(days=1))
    return _relative_range(q, now)


def _relative_range(q: str, now: datetime) -> tuple[datetime, datetime] | None:
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
    if "last weekend" in q or "this past weekend" in q:
        saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
        return saturday, saturday + timedelta(days=2)
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


# -- statements about people (two people telling each other about their lives) -----------------

_PAST_IRREGULAR = frozenset("""went saw made took got had did met bought ran came began found gave kept left lost
felt thought told won wrote read heard held brought built caught chose drew drove ate fell flew forgot grew knew
led paid put rode sang sat sent slept spoke spent stood swam taught threw understood wore became started""".split())
_PLAN_WORDS = re.compile(r"\b(?:will|'ll|going to|gonna|plan(?:ning)? to|hope to|hoping to|want to|wanna|"
                         r"thinking of|about to|tomorrow|next (?:week|weekend|month|year|summer|winter|spring|fall|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)|soon)\b", re.I)
_KIN = (r"sister|brother|mother|mom|mum|father|dad|parents?|wife|husband|partner|son|daughter|kids?|children|"
        r"grand(?:ma|pa|mother|father|parents?)|aunt|uncle|cousin|girlfriend|boyfriend|fianc[ée]e?|"
        r"(?:best |close |old )?friends?|colleagues?|coworkers?|boss|neighbou?r|dog|cat|pet|puppy|kitten")
_RELATION_WORDS = re.compile(rf"\b(?:my|our|his|her|their) ({_KIN})\b", re.I)
_ATTRIBUTE = re.compile(r"\b(?:i(?:'m| am)|i have|i've got|i own|i work|i live|i study|i love|i like|i enjoy|"
                        r"i prefer|i hate|(?:is|are|has|have) (?:an?|my|the)\b)", re.I)
_OPENER = re.compile(r"^(?:(?:wow|woah|whoa|yeah|yes|yep|yup|hey|hi|hello|oh|ah|aw+|haha|lol|thanks|thank you|cool|"
                     r"great|awesome|nice|sure|totally|absolutely|definitely|honestly|so|and|but|well|ok|okay|"
                     r"also|actually|anyway|by the way|btw|omg)\b[,!.:]*\s*)+", re.I)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|you're|you've|you'd|you'll|ya)\b", re.I)
_REACTION = re.compile(r"(?:that|this|it|sounds|looks|seems|what|how|such|glad|good|great|congrats|congratulations|"
                       r"love|awesome|amazing|cool|wow|sorry|hope|can't wait|keep|long time|nice to|good to|"
                       r"see ya|talk soon|take care|bye|have a)\b", re.I)
_NAME_TOKEN = re.compile(r"\b[A-Z][a-z][\w'’-]*\b")
_NOT_NAMES = frozenset("""i i'm i've i'd i'll mon monday tuesday wednesday thursday friday saturday sunday january
february march april may june july august september october november december god christmas easter lgbtq""".split())


def is_person(role: str, speaker: str) -> bool:
    """Whose statements are facts about people: the user, and any speaker with a name (in a conversation
    between two people both are); an unnamed assistant's replies are not."""
    return role == "user" or bool(speaker) and speaker.lower() != "assistant"


def statements(text: str, speaker: str, when: datetime) -> list[Fact]:
    """What a speaker tells about themselves and about the people they name: events, plans,
    relations and attributes, one Fact per sentence that has a subject, as 'Speaker: statement'
    with relative dates resolved against `when`, the turn's date ("I went to a pottery class
    yesterday" → "Ana: I went to a pottery class yesterday (7 May 2023)"). Questions,
    reactions and small talk ("Wow, that's so cool!") carry no fact and are skipped. A sentence
    splits where a new first-person clause starts ("…, and I moved to Porto"), as in `facts`."""
    out: list[Fact] = []
    for sentence, part in [(s, c) for s in sentences(text) for c in _CLAUSE_SPLIT.split(s)]:
        if "?" in sentence:
            continue
        clause = _OPENER.sub("", part).strip().rstrip(".!")
        subject = _subject(clause, speaker)
        if subject is None:
            continue
        told, date = resolve_time(clause, when)
        text_out = f"{speaker}: {told[:1].upper()}{told[1:]}"
        readings = _readings(clause, text_out) if subject == speaker else []
        if readings:  # "I moved to Lisbon" is still the residence slot, so that a later move updates it;
            # a short typed fact ("I am vegan now") counts however few words it has
            out.extend(replace(f, when=date) for f in [f for f in readings if f.slot] or readings[:1])
            continue
        if len(content_words(clause)) < (2 if _has_subject(clause) else 3):
            continue
        kind = _kind(clause)
        out.append(Fact(text_out, kind, importance={"plan": 0.6, "event": 0.6, "relation": 0.7}.get(kind, 0.5),
                        when=date))
    return out


def _has_subject(clause: str) -> bool:
    """Whether the clause says who it is about (first person or a name), not only the story's context."""
    return bool(_FIRST_PERSON.search(clause)) or named_person(clause) is not None


def named_person(clause: str) -> str | None:
    """The first person a clause names ("Mia painted …", "… with Jon")."""
    for m in _NAME_TOKEN.finditer(clause):
        word = m.group(0)
        if word.lower() in _NOT_NAMES or word.lower() in STOPWORDS or _SECOND_PERSON.fullmatch(word):
            continue
        if m.start() == 0 and not re.match(r"\s+(?:\w+ed|" + "|".join(_PAST_IRREGULAR) + r"|is|was|has|had|will|"
                                            r"and|'s)\b", clause[m.end():]):
            continue  # a capital at the start is a name only when a verb follows ("Mia painted …")
        if clause[:m.start()].rstrip().endswith(",") and not clause[m.end():].strip(" !.,"):
            continue  # the listener addressed ("That's amazing, Omar")
        return word
    return None


def _subject(clause: str, speaker: str) -> str | None:
    """The speaker for a first-person clause, else the first person it names, else the speaker
    unless the clause speaks to the listener or reacts to them (None: no fact)."""
    if _FIRST_PERSON.search(clause):
        return speaker
    named = named_person(clause)
    if named is not None:
        return named
    if _SECOND_PERSON.search(clause) or _REACTION.match(clause):
        return None  # about the listener, or a reaction to what they said
    return speaker  # the rest of the speaker's story ("The stories there were so inspiring")


def _kind(clause: str) -> str:
    if _PLAN_WORDS.search(clause):
        return "plan"
    if _RELATION_WORDS.search(clause):
        return "relation"
    if any(w.endswith("ed") and len(w) > 4 or w in _PAST_IRREGULAR for w in words(clause)) or _AGO.search(clause) \
            or re.search(r"\b(?:yesterday|last \w+)\b", clause, re.I):
        return "event"
    return "attribute"


def _long(day: datetime) -> str:
    return f"{day.day} {_MONTHS[day.month - 1].capitalize()} {day.year}"


def _month(day: datetime) -> str:
    return f"{_MONTHS[day.month - 1].capitalize()} {day.year}"


def _shift_month(day: datetime, months: int) -> datetime:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def resolve_time(text: str, when: datetime) -> tuple[str, str | None]:
    """`text` with each relative time expression followed by the date it means on `when`
    ("last Saturday" said on Monday 8 May 2023 → "last Saturday (6 May 2023)"); also returns the
    first resolved date (ISO: a day, a month or a year)."""
    today = _day(when)
    found: list[str] = []

    def note(m: re.Match[str]) -> str:
        phrase = m.group(0)
        day, label, iso = _meaning(phrase.lower(), today)
        if label is None:
            return phrase
        found.append(iso)
        return f"{phrase} ({label})"

    out = _RELATIVE.sub(note, text)
    return out, found[0] if found else None


def iso_span(iso: str, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """An ISO day, month or year ("2023-05-07", "2023-05", "2023") → [start, end) in `tz`."""
    parts = [int(x) for x in iso.split("-")]
    start = datetime(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1, tzinfo=tz)
    if len(parts) == 3:
        return start, start + timedelta(days=1)
    if len(parts) == 2:
        return start, _shift_month(start, 1)
    return start, start.replace(year=start.year + 1)


_RELATIVE = re.compile(r"\b(?:yesterday|today|tonight|this morning|tomorrow|(?:last|this past|next) (?:"
                       + "|".join(_WEEKDAYS) + r"|weekend|week|month|year)|"
                       + _AGO.pattern[2:-2] + r")\b", re.I)


def _meaning(phrase: str, today: datetime) -> tuple[datetime | None, str | None, str]:
    """A relative time phrase → (day, label, ISO) on `today`; label None if it is not understood."""
    single = {"yesterday": -1, "today": 0, "tonight": 0, "this morning": 0, "tomorrow": 1}
    if phrase in single:
        day = today + timedelta(days=single[phrase])
        return day, _long(day), day.date().isoformat()
    m = re.fullmatch(r"(last|this past|next) (\w+)", phrase)
    if m:
        sign = 1 if m.group(1) == "next" else -1
        unit = m.group(2)
        if unit in _WEEKDAYS:
            i = _WEEKDAYS.index(unit)
            delta = ((i - today.weekday()) % 7 or 7) if sign > 0 else -((today.weekday() - i) % 7 or 7)
            day = today + timedelta(days=delta)
            return day, _long(day), day.date().isoformat()
        if unit == "weekend":
            saturday = today + timedelta(days=((5 - today.weekday()) % 7 or 7) if sign > 0
                                         else -((today.weekday() - 5) % 7 or 7))
            return saturday, f"weekend of {_long(saturday)}", saturday.date().isoformat()
        if unit == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7 * sign)
            return monday, f"week of {_long(monday)}", monday.date().isoformat()
        if unit == "month":
            first = _shift_month(today, sign)
            return first, _month(first), first.strftime("%Y-%m")
        if unit == "year":
            return today.replace(year=today.year + sign), str(today.year + sign), str(today.year + sign)
    m = _AGO.fullmatch(phrase)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        unit = m.group(2)
        if unit in ("day", "week"):
            day = today - timedelta(days=n * (7 if unit == "week" else 1))
            return day, f"about {_long(day)}" if unit == "week" else _long(day), day.date().isoformat()
        if unit == "month":
            first = _shift_month(today, -n)
            return first, _month(first), first.strftime("%Y-%m")
        return today, str(today.year - n), str(today.year - n)
    return None, None, ""


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
