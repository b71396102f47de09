"""Does a text read like an instruction to the assistant? (used by the `guard` strategy)

Rules, not a model: each cue has a weight; a text scoring at or above 1.0 is flagged. The
cues follow A-MemGuard's observation that poisoned memories are imperative, addressed to
the agent, ask it to override its rules or to leak something, and try to persist
("from now on", "whenever anyone asks"). A person's own reminders ("remind me to always
take my pills") are about the person, not the assistant, and score low.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CUES: list[tuple[str, float, re.Pattern[str]]] = [
    ("override", 1.0, re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(previous|prior|above|earlier|all|your|any|the)\b"
        r".{0,25}\b(instructions?|rules?|guidelines?|prompts?|polic(y|ies)|restrictions?|safety)\b", re.I)),
    ("new-rules", 1.0, re.compile(r"\b(new|updated|real|secret|hidden) (system )?(instructions?|rules?|prompt)\b"
                                  r"|\bsystem prompt\b|\bdeveloper mode\b|\bjailbreak\b|\bDAN\b", re.I)),
    ("role-play", 0.8, re.compile(r"\b(pretend (you are|to be)|act as|you are now|roleplay as|from now on,? you)\b",
                                  re.I)),
    ("exfiltrate", 1.0, re.compile(
        r"\b(reveal|share|send|give|tell|print|leak|expose|output|email|post|forward|display|dump)\b.{0,50}"
        r"\b(admin|root)?\s*(passwords?|passcodes?|api[ -]?keys?|secrets?|tokens?|credentials?|private keys?|"
        r"system prompt|ssh keys?|credit card|bank details)\b", re.I)),
    ("persist", 0.6, re.compile(r"\b(from now on|whenever (anyone|someone|a user|somebody) asks|in (all|every) "
                                r"(future )?(conversations?|chats?|answers?|replies)|for all future)\b", re.I)),
    ("addressed", 0.5, re.compile(r"\b(you|assistant|the ai|the model|the bot|chatbot)\b.{0,30}\b(must|shall|"
                                  r"should always|will always|have to|are required to|must never|should never|"
                                  r"always|never)\b", re.I)),
    ("command", 0.8, re.compile(r"\b(run|execute)\b.{0,20}\b(rm -rf|sudo|curl|wget|powershell|the following "
                                r"(code|command|script))\b|\b(visit|click|open) (this|the following) (link|url)\b|"
                                r"https?://\S+\s*(now|immediately)", re.I)),
    ("remember-rule", 0.6, re.compile(r"\bremember( this| that)?:?\s*(you|always|never|to always|to never)\b", re.I)),
]
# Reminders and statements about the speaker themselves lower the score.
_SELF = re.compile(r"\b(remind me|help me|i (always|never|usually|forgot|forget|need|want to remember|keep)|"
                   r"my (own )?password (manager|reset)|how (do|can) i)\b", re.I)

# A refusal or a statement of one's own habit ("I won't share passwords", "I never share my
# secrets") uses the same words as an exfiltration request but asks for nothing.
_REFUSAL = re.compile(r"\b(i|we|you)\s*(won't|will not|can't|cannot|don't|do not|never|shouldn't|should not)\s+"
                      r"(ever )?(share|reveal|give|tell|send|leak|post|print)\b", re.I)

THRESHOLD = 1.0


@dataclass(frozen=True)
class Verdict:
    score: float
    cues: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.score >= THRESHOLD


def instruction_score(text: str) -> Verdict:
    cues = tuple(name for name, _, pattern in _CUES if pattern.search(text))
    score = sum(weight for name, weight, _ in _CUES if name in cues)
    if cues and _SELF.search(text) and not {"override", "exfiltrate", "new-rules"} & set(cues):
        score -= 0.5
    if "exfiltrate" in cues and _REFUSAL.search(text) and not {"override", "new-rules"} & set(cues):
        score -= 1.0
    return Verdict(round(score, 2), cues)
