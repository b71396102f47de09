"""Time expressions (public: plugins may use them): the span a question refers to ("last
Tuesday", "in May 2023") and relative times in a statement resolved to the dates they mean."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2}
AGO = re.compile(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of) "
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
    m = AGO.search(q)
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
                       + AGO.pattern[2:-2] + r")\b", re.I)


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
    m = AGO.fullmatch(phrase)
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
