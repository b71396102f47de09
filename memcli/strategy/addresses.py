"""Addresses in a text: links, domain names, e-mail addresses and handles, phone numbers (the
guard's destination cue, and the runs its leetspeak decoding leaves alone)."""

from __future__ import annotations

import re

LINK = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b(?:\d{1,3}\.){3}\d{1,3}\b", re.I)
# A dotted name, matched whole and possessively (linear time), then kept if its last label is a TLD.
_DOTTED = re.compile(r"(?<![\w.@-])[\w-]++(?:\.[\w-]++)++(?:/\S*+)?")
_TLDS = frozenset("""com net org io co biz info shop store ru cn me app dev xyz top site online help link live click
example br it nl de fr es uk pl tk gq ml cf ga ly gg to cc in us eu ai tv ws pw su bet casino win vip club pro tech
cloud email page space website fun games bid loan money finance bank health care pharmacy deals gift market trade
news today world life ua vn id ph ng za au nz ca jp kr tw hk sg tr ir pt ch at be se no dk fi cz ro gr ie mx ar""".split())


def links(text: str) -> list[re.Match[str]]:
    """URLs, www. names, IP addresses and domain names (a dotted name ending in a known TLD)."""
    found = list(LINK.finditer(text))
    for m in _DOTTED.finditer(text):
        labels = m.group(0).split("/")[0].split(".")
        inside = any(f.start() <= m.start() < f.end() for f in found)
        if not inside and (labels[-1] in _TLDS or len(labels) > 2 and labels[-2] in _TLDS and len(labels[-1]) == 2):
            found.append(m)
    return found


EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++|(?<![\w.@])@[A-Za-z][A-Za-z0-9_]{2,}\b")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d(?!\w)")
