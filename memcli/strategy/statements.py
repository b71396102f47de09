"""What two people tell each other about their lives, read by rules (public: plugins may use it).

A LoCoMo conversation is two named speakers; their statements carry events, plans, relations and
attributes, about themselves and about people they name, with relative dates resolved.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from memcli.strategy.dates import AGO, resolve_time
from memcli.strategy.text import (CLAUSE_SPLIT, FIRST_PERSON, STOPWORDS, Fact, content_words, sentences, slot_readings,
                                  words)

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
    for sentence, part in [(s, c) for s in sentences(text) for c in CLAUSE_SPLIT.split(s)]:
        if "?" in sentence:
            continue
        clause = _OPENER.sub("", part).strip().rstrip(".!")
        subject = _subject(clause, speaker)
        if subject is None:
            continue
        told, date = resolve_time(clause, when)
        text_out = f"{speaker}: {told[:1].upper()}{told[1:]}"
        readings = slot_readings(clause, text_out) if subject == speaker else []
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
    return bool(FIRST_PERSON.search(clause)) or named_person(clause) is not None


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
    if FIRST_PERSON.search(clause):
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
    if any(w.endswith("ed") and len(w) > 4 or w in _PAST_IRREGULAR for w in words(clause)) or AGO.search(clause) \
            or re.search(r"\b(?:yesterday|last \w+)\b", clause, re.I):
        return "event"
    return "attribute"
