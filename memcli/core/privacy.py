"""Secrets never become memories verbatim.

A memory text (and the candidates logged by extraction) passes through `redact`: API keys
and tokens, passwords given in a sentence, private keys and payment card numbers (Luhn
checked) are replaced by a marker naming what was there. The engine logs a
`memory.redacted` event saying which kinds were removed (never the secret itself).
"""

from __future__ import annotations

import re

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)")),
    ("api key", re.compile(r"\b(sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|"
                           r"xox[baprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b")),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")),
    ("password", re.compile(r"(?i)\b(password|passcode|passwd|pwd|pin code|pin)(\s+(?:is|was|=|:)\s*|\s*[:=]\s*)"
                            r"[\"']?([^\s\"',;]{3,})")),
]
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def redact(text: str) -> tuple[str, list[str]]:
    """The text with secrets replaced by [redacted KIND], and the kinds found."""
    found: list[str] = []
    for kind, pattern in _PATTERNS:
        if kind == "password":
            new = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted password]", text)
        else:
            new = pattern.sub(f"[redacted {kind}]", text)
        if new != text:
            found.append(kind)
            text = new

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            found.append("card number")
            return "[redacted card number]"
        return m.group(0)

    text = _CARD.sub(card, text)
    return text, sorted(set(found))
