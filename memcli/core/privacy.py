"""Secrets never at rest: every event's payload is redacted before it is appended.

`EventStore.append` passes each new event through `Redactor.events`, so one place covers
every event kind (messages, the retrieval query, the built context, the model's reply,
memory texts, extraction candidates). A secret becomes "[redacted KIND]" and a
`memory.redacted` event records which kinds were removed from which event — never the
secret itself.

The detector judges the *shape* of a value, not a list of examples:
- known key formats (vendor prefixes, JWTs, private key blocks, credentials in URLs);
- key–value shapes: a secret-naming word ("password", "PIN", "passphrase", "API key",
  "CVV", …) followed by a value that looks like one (digits, mixed classes, a quoted or
  multi-word phrase for passphrases), not an ordinary word ("my password is too short");
- payment cards (13–19 digits passing Luhn), IBANs (mod-97), US social security numbers;
- long tokens with high Shannon entropy and mixed character classes (a bare 40-character
  AWS secret key, a random token) that are not URLs, paths, e-mail addresses or UUIDs.
A value once redacted is remembered, in this process only, so that a later bare echo of it
(the model repeating "4821") is redacted too.

Written here rather than taken from detect-secrets (Yelp): measured, its line scanner is
built for source code — its keyword plugin wants assignments, its entropy plugins flag
every word of a prose line in ad-hoc mode, some plugins report only a key's prefix as the
secret (so the span cannot be redacted), and it has no Luhn, PIN or passphrase detector.

Over 300 lines on purpose: each pattern sits next to the check that judges its value (a
split would separate the two), and `Redactor` is the one caller of all of them.
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

from memcli.core.events import Kind, NewEvent

REDACTED = "[redacted {}]"
_MARK = re.compile(r"\[redacted [a-z -]+\]")

# -- known formats -----------------------------------------------------------------------------

_FORMATS: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?"
                               r"(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)")),
    ("private key", re.compile(r"\b(?:AGE-SECRET-KEY-1[0-9A-Z]{20,}|xprv[1-9A-HJ-NP-Za-km-z]{60,})")),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("api key", re.compile(
        r"(?<![A-Za-z0-9])(?:"
        r"sk-(?:ant-(?:api\d\d-)?|proj-|live-|or-v1-)?[A-Za-z0-9_-]{16,}"
        r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{16,}"
        r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}"
        r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}"
        r"|hf_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{30,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"
        r"|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{20,}|dop_v1_[a-f0-9]{40,}|EAA[A-Za-z0-9]{30,}"
        r"|(?:AC|SK)[0-9a-f]{32}|ya29\.[A-Za-z0-9_-]{20,}|key-[0-9a-zA-Z]{32}"
        r"|[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,}"
        r")")),
    ("token", re.compile(r"(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{12,}")),
    # user:password@ inside a URL or connection string: the password goes, the host stays
    ("connection string", re.compile(r"(?<=://)[^\s:/@]*:[^\s@/]{2,}(?=@)")),
    ("connection string", re.compile(r"(?i)(?:(?<=password=)|(?<=pwd=))[^\s;&\"']{2,}")),
]

# -- key–value shapes --------------------------------------------------------------------------

_PHRASE_KEYS = (r"(?:pass|seed|recovery|backup|wallet|secret|mnemonic)\s?(?:phrase|words)|mnemonic|"
                r"secret answer|security answer")
_KEYS = (r"(?:wi-?fi |master |admin |root |email |e-mail |bank |account |login |database |db |vault |"
         r"router |laptop |phone |computer |server |user |app |door |alarm |gate |garage |safe )?"
         r"(?:password|passwd|pwd|passwort|kennwort|mot de passe|senha|contraseña|contrasenya|clave|wachtwoord|"
         r"пароль|hasło|lösenord|salasana|adgangskode|parola d'ordine|密码|密碼|パスワード|비밀번호|"
         r"(?:wi-?fi|admin|root|router|account|login|master|server|door) pass|passcode|pass code|pin(?: code| number)?|access code|door code|alarm code|"
         r"pw|pword|p/w|(?:wi-?fi|network|router|wlan|hotspot) (?:code|key)|(?:keypad|padlock|locker|bike lock|building|"
         r"office|front door|back door|entry|entrance|lockbox|key ?safe) code|"
         r"gate code|entry code|(?:alarm|door|gate|safe|lock|garage|locker) code|code (?:for|to) the (?:alarm|door|gate|safe|lock|garage|locker)|unlock code|lock code|security code|verification code|one-time code|otp|2fa code|"
         r"backup codes?|recovery codes?|cvv2?|cvc|csc|api[ _-]?key|api[ _-]?token|access[ _-]?key|"
         r"secret(?:[ _-]?(?:access[ _-]?)?key)?|auth[ _-]?token|access[ _-]?token|bearer token|token|"
         r"private key|client secret|license key|serial (?:key|number)|social security(?: number)?|ssn|"
         r"sin|tax id|account number|routing number|iban|sort code)")
_SEP = (r"(?:\s*(?:[:=：]|->|=>|是|为|為|は|는|은|:)\s*|\s+(?:—|–|-|это|estas|è|är|er|jest|is|was|are|were|is still|is now|has been|will be|should be|"
        r"is set to|set to|changed to|to|reads|ist|est|é|es|è|är|er|jest|=)\s*:?\s*|\s+of\s+|\s+)")
_QUOTED = r"[\"'“‘`](?P<q>[^\"'”’`\n]{2,80})[\"'”’`]"
_KV = re.compile(rf"(?i)(?<![A-Za-z0-9_])(?P<key>{_KEYS})(?:'s)?(?P<sep>{_SEP})(?:{_QUOTED}|(?P<val>[^\s,;\"'()]+[^\s,;.!?\"'()]))")
_PHRASE = re.compile(rf"(?i)\b(?P<key>{_PHRASE_KEYS})(?:'s)?(?P<sep>{_SEP})(?:{_QUOTED}|"
                     r"(?P<val>[^\s.,;!?]+(?:[ -][^\s.,;!?]+){1,23}))")

# Words that end a key–value match without being a value ("my password is too short").
_NOT_VALUES = frozenset("""
a an the my your his her our their its this that these those it is was be been same different new old
too very so not no never always still now just only also really quite pretty rather set saved stored
changed reset expired wrong right correct incorrect invalid valid weak strong long short secure safe
unsafe hard easy simple complex required needed missing lost forgotten hidden private public manager
managers protected encrypted hashed and or but for to of in on at by with from about into as if when
which what where who how why there here has have had will would should could can may might must do
left blank empty unset none null undefined placeholder redacted here there
does did get got keep kept use used using change update rotate generate expire expires reset field
prompt box policy policies rules rule requirements length strength hint hints reminder recovery
form page screen login sign in up off number numbers code codes key keys stuff thing things something
anything nothing everything one ones same-as again back yesterday today tomorrow later soon before
after every each all any some many much more most less least enough generator generators vault
anyone someone everyone anybody somebody everybody nobody whoever people them him her me us you
""".split())

# The key, a few words about it, then the value ("root password on the Pi: …", "senha do banco é …").
_KV_FAR = re.compile(rf"(?i)(?<![A-Za-z0-9_])(?P<key>{_KEYS}|key|pass)(?![A-Za-z])(?:\s+[^\s:=]+){{0,4}}?\s*(?:[:=]|\s(?:is|was|to|é|est|ist|es|è|lautet)\s)"
                     r"\s*(?:(?:now|still|currently|set to|just)\s+)?[\"'“‘`]?(?P<val>[^\s,;\"'()“”‘’`]+[^\s,;.!?\"'()“”‘’`])")
# The value first: "hunter2 is my password", "4821 is the PIN for my card".
_KV_REV = re.compile(rf"(?i)(?<![^\s,;\"'()\[\]])(?P<val>[^\s,;\"'()\[\]]{{4,}}+) (?:is|was|=) (?:my|the|our|his|her|their) "
                     rf"(?:new |old |current )?(?:\w+ )?(?P<key>{_KEYS})\b")
_KV_AS = re.compile(rf"(?i)\b(?:use|using|set|try|with|chose|picked|made)\s+(?P<val>[^\s,;\"'()]{{4,}})\s+as\s+"
                    rf"(?:the|my|our|a|his|her|their)?\s*(?:new\s+|\w+\s+){{0,2}}(?P<key>{_KEYS})\b")
# the key, then a few words, then the value with no separator ("пароль от почты Moroz_Ivan1990")
_KV_NEAR = re.compile(rf"(?i)\b(?P<key>{_KEYS}|pass)\b(?:\s+[^\s:=\d]+){{0,3}}\s+(?P<val>[^\s,;\"'()]{{8,}})")
# a login and its password side by side: "me@mail.com / b1ngew@tch3r", "admin:hunter22"
_PAIR = re.compile(r"(?i)\b(?:login|log-in|sign-in|account|credentials?|user(?:name)?|creds)\b[^\n]{0,30}?"
                   r"[\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?\s*(?:/|\||:|,)\s*(?P<val>[^\s,;\"'()/]{4,})(?![^\s,;\"'()])")
# the number first: "sent 8816 as the one-time passcode"
_OTP_REV = re.compile(r"(?i)(?<![\d-])(?P<val>\d{4,8})(?![\d-])[^\n.\d]{0,30}?\b(?:one-time|otp|verification code|"
                      r"2fa|passcode|security code|login code|auth code|sms code)\b")
_OTP = re.compile(r"(?i)\b(?:authenticator|2fa|mfa|otp|one-time|verification|sms code|login code|auth code)\b"
                  r"[^\n.\d]{0,30}?(?<![\d-])(?P<val>\d{3}[ -]\d{3}|\d{4,8})(?![\d-])")
_HASH_CONTEXT = re.compile(r"(?i)\b(?:commit|sha-?\d*|hash(?:es)?|md5|checksum|digest|revision|rev|build|"
                           r"fingerprint|etag)\b[^\n]{0,30}$")
_PIN_KEYS = re.compile(r"(?i)\b(pin|code|otp|cvv2?|cvc|csc|ssn|sin)\b")


def _looks_like_value(key: str, sep: str, value: str) -> bool:
    low = value.lower().strip(".,;:!?")
    if not low or low in _NOT_VALUES or _MARK.match(value):
        return False
    if _PIN_KEYS.search(key) and not any(c.isdigit() for c in value):
        return len(value) >= 6 and any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    stated = re.search(r"[:=]|\b(is|was|are|were|reads|lautet|est|ist|é)\b", sep) is not None  # not just "password manager"
    return has_digit or has_symbol or mixed or (stated and len(value) >= 4 and value.isalpha())


def _strong_value(value: str) -> bool:
    """A value that reads like a generated or chosen secret, whatever precedes it."""
    alpha = any(c.isalpha() for c in value)
    return (alpha and any(c.isdigit() for c in value)) or \
        (alpha and len(value) >= 6 and any(not c.isalnum() for c in value.rstrip(".!?")))


def _pin_value(value: str) -> bool:
    """Digits, maybe with a symbol a keypad has ("4492#"): the value of a PIN or a door code."""
    return bool(re.fullmatch(r"[\d#*]{3,14}", value)) and sum(c.isdigit() for c in value) >= 3


def _phrase_value(value: str) -> bool:
    words = value.split()
    return len(words) >= 2 and sum(w.lower() in _NOT_VALUES for w in words) <= len(words) // 3


# -- numbers with a checksum -------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_shape(number: str) -> bool:
    """Written as cards are: one run, or groups of four (Amex 4-6-5), from a card network's first digit (2-6)."""
    groups = [len(g) for g in re.split(r"[ -]", number)]
    shaped = len(groups) == 1 or groups[:-1] == [4] * (len(groups) - 1) and 1 <= groups[-1] <= 4 or groups == [4, 6, 5]
    return shaped and number[0] in "23456"


def _iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


# -- high-entropy tokens -----------------------------------------------------------------------

_TOKEN = re.compile(r"(?<![\w/+=.-])[A-Za-z0-9+/=_.~-]{20,}(?![\w/+=-])")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://[^\s\"'<>]++", re.I)


def _in_url(text: str, start: int) -> bool:
    return any(m.start() <= start < m.end() for m in _URL.finditer(text))


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def _encoded_text(tok: str) -> bool:
    """The token is base64 or hex of readable words: encoded text, not a key (the guard judges what it says)."""
    try:
        raw = bytes.fromhex(tok) if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", tok) else \
            base64.b64decode(tok + "=" * (-len(tok) % 4), altchars=b"-_" if "-" in tok or "_" in tok else None)
        decoded = raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    words = decoded.split()
    return len(words) >= 4 and all(c.isprintable() or c.isspace() for c in decoded) and \
        sum(w.strip(".,:;!?'\"").isalpha() for w in words) >= 0.75 * len(words)


# One part of a readable identifier: a number, perhaps with a unit (135M, 8x7B, 45b0, 2xlarge); a short tag
# (Q8, e2e, L12, H4); or words run together (SmolLM2, MiniLM, Instruct, GGUF), perhaps ending in a number.
_SEGMENT = re.compile(r"\d+(?:[xX]\d+)?(?:[A-Za-z]{1,2}\d*|[a-z]{3,})?|[A-Za-z0-9]{1,3}|[A-Za-z]{1,2}\d+"
                      r"|(?:[A-Z]?[a-z]{2,}|[A-Z]{2,})+(?:[A-Z]?\d+[A-Za-z]?)?")


def _readable_identifier(tok: str) -> bool:
    """A model, package, branch or resource name made of readable parts (SmolLM2-135M-Instruct-Q8_0,
    meta-llama/Llama-3.2-3B-Instruct, apache-airflow==8.20.0), a file extension aside: each part a number, a
    short tag or words whose letters read as words (a vowel in every run of three lowercase letters), one
    part with a word of four letters or more. A generated secret's random part (xofpEf, 9fK2mQ7x, K7QX9,
    57zpdd) is none of these: such a token is judged as before, by its entropy."""
    parts = [p for p in re.split(r"[-_./=]+", re.sub(r"\.[A-Za-z0-9]{1,5}$", "", tok)) if p]  # less .xlsx, .gguf

    def readable(part: str) -> bool:
        runs = re.findall("[a-z]{3,}", part)
        return bool(_SEGMENT.fullmatch(part)) and all(re.search("[aeiouy]", run) for run in runs)

    def has_word(part: str) -> bool:
        return any(re.search("[aeiouy]", run, re.I) for run in re.findall("[A-Za-z]{4,}", part))

    return len(parts) >= 2 and all(map(readable, parts)) and any(map(has_word, parts))


def _random_token(tok: str) -> bool:
    """A long token that reads like random bytes (base64, hex, a generated key), not a word or a path."""
    tok = tok.rstrip(".")
    if len(tok) < 20 or _UUID.match(tok) or tok.count(".") > 2 or "--" in tok or _encoded_text(tok):
        return False
    classes = sum((any(c.islower() for c in tok), any(c.isupper() for c in tok), any(c.isdigit() for c in tok)))
    if re.fullmatch(r"[0-9a-fA-F]+", tok):
        return len(tok) >= 32 and classes >= 2
    if re.fullmatch(r"[A-Za-z]+(?:[-_][A-Za-z]+)*", tok) or re.fullmatch(r"\d+", tok):
        return False  # words joined by hyphens, or a plain number
    if _readable_identifier(tok):
        return False
    return classes >= 2 and _entropy(tok) >= 3.7 and sum(c.isdigit() for c in tok) >= 2 or \
        classes == 3 and _entropy(tok) >= 4.0


# -- the redactor ------------------------------------------------------------------------------


@dataclass
class Redactor:
    """Finds secrets in text; remembers (in memory only) what it removed, to catch later echoes.

    Texts found clean are remembered too, until a secret is found (a new echo to look for): the
    same strings come back in event after event (a message's text in its memory, metadata values),
    and scanning one costs some twenty regular expressions.
    """

    seen: set[str] = field(default_factory=set)
    clean: set[str] = field(default_factory=set)
    CLEAN_LIMIT: ClassVar[int] = 50_000

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        for kind, pattern in _FORMATS:
            found += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
        for m in _PHRASE.finditer(text):
            group = "q" if m.group("q") else "val"
            if m.group("q") or _phrase_value(m.group("val")):
                found.append((m.start(group), m.end(group), "passphrase"))
        for m in _KV.finditer(text):
            group = "q" if m.group("q") else "val"
            value = m.group(group)
            if text[m.end(group):m.end(group) + 1] == "(":  # a function call in code, not a value
                continue
            if m.group("q") or _looks_like_value(m.group("key"), m.group("sep"), value):
                found.append((m.start(group), m.end(group), _kv_kind(m.group("key"))))
        for m in [*_KV_FAR.finditer(text), *_KV_REV.finditer(text), *_KV_AS.finditer(text), *_KV_NEAR.finditer(text)]:
            value = m.group("val").rstrip(".,!?")
            if len(value) >= 6 and _strong_value(value) or _PIN_KEYS.search(m.group("key")) and _pin_value(value):
                found.append((m.start("val"), m.start("val") + len(value), _kv_kind(m.group("key"))))
        for m in _PAIR.finditer(text):
            value = m.group("val").rstrip(".,!?")
            if _strong_value(value) and not _MARK.match(value):
                found.append((m.start("val"), m.start("val") + len(value), "password"))
        for m in [*_OTP.finditer(text), *_OTP_REV.finditer(text)]:
            if not re.fullmatch(r"(?:19|20)\d\d", m.group("val")):
                found.append((m.start("val"), m.end("val"), "pin"))
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and _luhn(digits) and _card_shape(m.group(0).strip()):
                found.append((m.start(), m.end(), "card number"))
        found += [(m.start(), m.end(), "bank account") for m in _IBAN.finditer(text) if _iban_ok(m.group(0))]
        found += [(m.start(), m.end(), "ssn") for m in _SSN.finditer(text)]
        found += [(m.start(), m.start() + len(m.group(0).rstrip(".")), "high-entropy string")
                  for m in _TOKEN.finditer(text)
                  if _random_token(m.group(0)) and not _HASH_CONTEXT.search(text[:m.start()])
                  and not _in_url(text, m.start())]
        # inside a URL, each path segment or query value is judged alone (a webhook's token, not the path)
        for url in _URL.finditer(text):
            for part in re.finditer(r"[^/?&=#:]+", url.group(0)):
                if _random_token(part.group(0)):
                    found.append((url.start() + part.start(), url.start() + part.end(), "high-entropy string"))
        for value in self.seen:
            start = text.find(value)
            while start != -1:
                found.append((start, start + len(value), "repeated secret"))
                start = text.find(value, start + 1)
        marks = [(m.start(), m.end()) for m in _MARK.finditer(text)]  # already redacted: leave as is
        return _merge(f for f in found if not any(f[0] < e and s < f[1] for s, e in marks))

    def redact(self, text: str) -> tuple[str, list[str]]:
        """The text with secrets replaced by [redacted KIND], and the kinds found (sorted)."""
        if text in self.clean:
            return text, []
        spans = self.spans(text)
        if not spans:
            if len(self.clean) >= self.CLEAN_LIMIT:
                self.clean.clear()
            self.clean.add(text)
            return text, []
        self.clean.clear()  # what is found now is looked for from now on, in every text
        out, last, kinds = [], 0, set()
        for start, end, kind in spans:
            value = text[start:end]
            if len(value) >= 4 and not _MARK.fullmatch(value):
                self.seen.add(value)
            out += [text[last:start], REDACTED.format(kind)]
            kinds.add(kind)
            last = end
        out.append(text[last:])
        return "".join(out), sorted(kinds)

    def value(self, value: Any, kinds: set[str]) -> Any:
        """Redact every string inside a JSON-shaped value (keys stay: they are field names)."""
        if isinstance(value, str):
            text, found = self.redact(value)
            kinds.update(found)
            return text
        if isinstance(value, list):
            return [self.value(v, kinds) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v, kinds) for k, v in value.items()}
        return value

    def events(self, new_events: Sequence[NewEvent]) -> list[NewEvent]:
        """The events with redacted payloads, each followed by a memory.redacted record when it held a secret."""
        out: list[NewEvent] = []
        for ne in new_events:
            kinds: set[str] = set()
            payload = self.value(ne.payload, kinds) if ne.kind is not Kind.MEMORY_REDACTED else ne.payload
            out.append(NewEvent(ne.kind, payload, ne.actor, ne.namespace, ne.memory_id) if kinds else ne)
            if kinds:
                out.append(NewEvent(Kind.MEMORY_REDACTED, {
                    "kinds": sorted(kinds), "event": ne.kind.value,
                    "reason": "secret-looking text was not stored"}, ne.actor, ne.namespace, ne.memory_id))
        return out


def _kv_kind(key: str) -> str:
    key = key.lower()
    for word, kind in (("pin", "pin"), ("cvv", "card number"), ("cvc", "card number"), ("csc", "card number"),
                       ("social", "ssn"), ("ssn", "ssn"), ("account", "bank account"), ("iban", "bank account"),
                       ("routing", "bank account"), ("sort code", "bank account"), ("key", "api key"),
                       ("token", "token"), ("secret", "api key"), ("code", "pin"), ("otp", "pin")):
        if re.search(rf"\b{word}", key):
            return kind
    return "password"


def _merge(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one (the first-starting, longest one names the kind)."""
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            s, e, k = merged[-1]
            merged[-1] = (s, max(e, end), k)
        else:
            merged.append((start, end, kind))
    return merged


def redact(text: str) -> tuple[str, list[str]]:
    """Redact one text with a fresh detector (no memory of earlier secrets)."""
    return Redactor().redact(text)
