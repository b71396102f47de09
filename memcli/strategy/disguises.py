"""Undoing the disguises a steering text hides behind, before the guard judges it (guard_rules).

NFKC, zero-width and Unicode-tag characters, URL/HTML/backslash escapes, homoglyphs, spaced-out
letters, base64 / hex / binary runs, reversed and Caesar-shifted runs, leetspeak, upside-down
letters. Each decoded run is appended to the text, and the disguise is named: a disguise is
itself a signal.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

from memcli.strategy.addresses import EMAIL, links

_ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                         "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
# Cyrillic and Greek letters that look like Latin ones.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԝ": "w", "ү": "y",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Ѕ": "S", "Т": "T", "У": "Y", "Х": "X", "Ү": "Y",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_LATIN = re.compile(r"[A-Za-z]")
_CONFUSABLE = re.compile("[" + "".join(k for k in map(chr, _HOMOGLYPHS.keys())) + "]")
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACED_RUN = re.compile(r"(?<!\S)(?:[A-Za-z0-9][ .\-_*]{1,3}){3,}[A-Za-z0-9](?!\S)")
_ESCAPES = (
    ("url-encoding", re.compile(r"%[0-9A-Fa-f]{2}"), urllib.parse.unquote),
    ("html entities", re.compile(r"&#?\w+;"), html.unescape),
    ("escape sequences", re.compile(r"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})"),
     lambda t: re.sub(r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2}))", lambda m: chr(int(m.group(1) or m.group(2), 16)), t)),
)
# Letters turned upside down (ɐ ǝ ɹ ʇ …): read back by mapping them and reversing the text.
_UNFLIP = str.maketrans("ɐqɔpǝɟƃɥᴉıɾʞꞁlɯuodbɹsʇnʌʍxʎz¡¿˙'", "abcdefghiijklimnopqrstuvwxyz!?.,")
_FLIPPED = re.compile("[ɐɔǝɟƃɥᴉɾʞꞁɯɹʇʌʍʎ]")
_BINARY = re.compile(r"\b(?:[01]{8} ?){4,}\b")
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){8,}\b")
_LEET = str.maketrans("0134579@$z", "oieastgass")
_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-z])(?=[\w@$]*[0134579@$])[a-z0134579@$]{3,}(?![\w@$])", re.I)
_COMMON = frozenset("the you your to and a of is in on for that this it all be are from now with every user "
                    "anyone who ask asks any send tell always never ignore instructions reveal system prompt "
                    "me my i do not what when if them their they will must should".split())


@dataclass(frozen=True)
class Normalised:
    text: str  # what is judged: the visible text with disguises undone, plus decoded hidden parts
    disguises: tuple[str, ...]  # which disguises were found (zero-width, tags, homoglyphs, base64, …)


def _english_ratio(text: str) -> float:
    words = re.findall(r"[a-z]+", text.lower())
    return sum(w in _COMMON for w in words) / len(words) if words else 0.0


def _printable(raw: bytes) -> str | None:
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return s if s and sum(c.isprintable() or c.isspace() for c in s) / len(s) > 0.95 and _LATIN.search(s) else None


_LOWER, _UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SHIFTS = [str.maketrans(_LOWER + _UPPER, _LOWER[n:] + _LOWER[:n] + _UPPER[n:] + _UPPER[:n]) for n in range(26)]


def _caesar(text: str, shift: int) -> str:
    return text.translate(_SHIFTS[shift])


def _plainer(candidate: str, original: str) -> bool:
    """The candidate decoding reads as English where the original did not."""
    return len(candidate.split()) >= 3 and _english_ratio(candidate) >= 0.25 and \
        _english_ratio(candidate) > 2 * _english_ratio(original)


def _collapse(m: re.Match[str]) -> str:
    """Spaced-out letters joined: when letters are joined by dots or dashes and words by spaces
    ("t.e.l.l e.v.e.r.y.o.n.e"), the spaces stay; otherwise wider gaps are the word breaks."""
    run = m.group(0)
    if " " in run and re.search(r"\S[.\-_*]\S", run):
        return re.sub(r"(?<=\S)[.\-_*]{1,3}(?=\S)", "", run)
    return re.sub(r"(?<=\S)[ .\-_*](?=\S)", "", run)


def normalise(text: str) -> Normalised:
    found: list[str] = []
    hidden = [bytes(ord(c) - 0xE0000 for c in run).decode("ascii", "ignore") for run in _TAGS.findall(text)]
    if hidden:
        found.append("tag characters")
        text = _TAGS.sub(" ", text)
    if _ZERO_WIDTH.search(text):
        found.append("zero-width characters")
        text = _ZERO_WIDTH.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    # escapes that only a machine reads: %20, &#105;, \u0069
    for name, rx, decode in _ESCAPES:
        if len(rx.findall(text)) >= 3:
            unescaped = decode(text)
            if unescaped != text:
                found.append(name)
                text = unescaped

    def unmix(m: re.Match[str]) -> str:
        word = m.group(0)
        if _CONFUSABLE.search(word) and (_LATIN.search(word) or latin_text):
            return word.translate(_HOMOGLYPHS)
        return word

    letters = [c for c in text if c.isalpha()]
    latin_text = bool(letters) and sum("a" <= c.lower() <= "z" for c in letters) / len(letters) > 0.5
    unmixed = _WORD.sub(unmix, text)
    if unmixed != text:
        found.append("homoglyphs")
        text = unmixed
    # spaced-out letters: single separators inside a word, wider gaps between words
    collapsed = _SPACED_RUN.sub(_collapse, text)
    collapsed = re.sub(r" {2,}", " ", collapsed) if collapsed != text else collapsed
    if collapsed != text:
        found.append("spaced-out letters")
        text = collapsed
    for run in _B64.findall(text):
        try:
            decoded = _printable(base64.b64decode(run + "=" * (-len(run) % 4), validate=False))
        except (binascii.Error, ValueError):
            decoded = None
        # a long run that decodes to words is hidden text whatever its language
        if decoded and (_english_ratio(decoded) >= 0.2 or len(run) >= 24 and len(decoded.split()) >= 3):
            found.append("base64")
            hidden.append(decoded)
    for run in [*_HEX.findall(text), *_BINARY.findall(text)]:
        digits = re.sub(r"[ :]", "", run)
        if set(digits) <= {"0", "1"} and len(digits) % 8 == 0:
            raw = int(digits, 2).to_bytes(len(digits) // 8, "big")
        elif len(digits) % 2 == 0 and not set(digits) <= {"0", "1"}:
            raw = bytes.fromhex(digits)
        else:
            continue
        decoded = _printable(raw)
        if decoded:
            found.append("hex" if "0" <= run[0] <= "f" and not set(digits) <= {"0", "1"} else "binary")
            hidden.append(decoded)
    # 1 reads as l after a vowel ("ru13z"), as i elsewhere ("1gn0r3")
    plain = EMAIL.sub(" ", text)
    for m in reversed(links(plain)):
        plain = plain[:m.start()] + " " + plain[m.end():]
    leet = _LEET_WORD.sub(lambda m: re.sub(r"(?<=[aeiou0134@])1", "l", m.group(0), flags=re.I).translate(_LEET), plain)
    if leet != plain and _english_ratio(leet) > _english_ratio(plain):
        found.append("leetspeak")
        hidden.append(leet)
    if len(_FLIPPED.findall(text)) >= 3:
        found.append("upside-down text")
        hidden.append(text.translate(_UNFLIP)[::-1])
    for part in re.split(r"[.!?:;\n]+", text):  # a reversed or shifted run may sit inside plain text
        if len(part.split()) < 3:
            continue
        for name, candidate in (("reversed", part[::-1]), *((f"rot{n}" if n == 13 else "caesar", _caesar(part, n))
                                                             for n in range(1, 26))):
            if _plainer(candidate, part):
                found.append(name)
                hidden.append(candidate)
                break
    return Normalised("\n".join([text, *hidden]), tuple(dict.fromkeys(found)))
