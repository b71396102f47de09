"""The rules that read what two people tell each other (memcli.strategy.statements).

Examples in the LoCoMo style — two friends catching up, dated sessions — written for these
tests (none is taken from the LoCoMo data).
"""

from __future__ import annotations

from datetime import datetime, timezone

from memcli.strategy.dates import iso_span, resolve_time
from memcli.strategy.statements import is_person, statements

# A Monday: "last Saturday" is the 6th, "yesterday" the 7th.
MONDAY = datetime(2023, 5, 8, 14, 0, tzinfo=timezone.utc)


def _said(text: str, speaker: str = "Nadia") -> list[tuple[str, str, str | None]]:
    return [(f.text, f.kind, f.when) for f in statements(text, speaker, MONDAY)]


def test_an_event_of_the_speaker_is_kept_with_its_date() -> None:
    assert _said("I ran my first half marathon yesterday and my legs still hurt!") == [
        ("Nadia: I ran my first half marathon yesterday (7 May 2023)", "event", "2023-05-07"),
        ("Nadia: My legs still hurt", "attribute", None)]  # a new first-person clause is a fact of its own


def test_an_event_of_a_person_the_speaker_names() -> None:
    assert _said("Omar finished building a treehouse for the kids last Saturday.") == [
        ("Nadia: Omar finished building a treehouse for the kids last Saturday (6 May 2023)", "event", "2023-05-06")]


def test_a_plan_with_its_month() -> None:
    assert _said("Gonna sign up for a pottery workshop next month, so excited.") == [
        ("Nadia: Gonna sign up for a pottery workshop next month (June 2023), so excited", "plan", "2023-06")]


def test_a_relation_keeps_the_name() -> None:
    [(text, kind, _)] = _said("My cousin Leila just moved back from Montreal.")
    assert (text, kind) == ("Nadia: My cousin Leila just moved back from Montreal", "relation")


def test_an_attribute_and_a_slot_still_read() -> None:
    facts = statements("I work as a nurse, and I live in Leeds.", "Nadia", MONDAY)
    assert [(f.text, f.slot, f.value) for f in facts] == [("Nadia: I work as a nurse", "job", "nurse"),
                                                          ("Nadia: I live in Leeds", "residence", "Leeds")]


def test_questions_reactions_and_talk_about_the_listener_carry_no_fact() -> None:
    assert _said("Wow, that's amazing, Omar! How did the kids like it?") == []
    assert _said("You'd be a great coach. Your patience is unreal.") == []
    assert _said("Haha, so cool!") == []


def test_the_rest_of_the_speakers_story_is_kept_as_theirs() -> None:
    assert _said("The volunteers at the shelter were so welcoming.") == [
        ("Nadia: The volunteers at the shelter were so welcoming", "attribute", None)]


def test_relative_times_resolve_against_the_turns_date() -> None:
    def when(phrase: str) -> str:
        text, iso = resolve_time(phrase, MONDAY)
        return f"{text} | {iso}"

    assert when("last weekend") == "last weekend (weekend of 6 May 2023) | 2023-05-06"
    assert when("two weeks ago") == "two weeks ago (about 24 April 2023) | 2023-04-24"
    assert when("last year") == "last year (2022) | 2022"
    assert when("next Friday") == "next Friday (12 May 2023) | 2023-05-12"
    assert when("a few months ago") == "a few months ago (February 2023) | 2023-02"
    assert when("Tuesdays") == "Tuesdays | None"  # not a relative time
    assert iso_span("2023-02") == (datetime(2023, 2, 1), datetime(2023, 3, 1))
    assert iso_span("2022", timezone.utc)[1] == datetime(2023, 1, 1, tzinfo=timezone.utc)


def test_whose_messages_are_about_people() -> None:
    assert is_person("user", "")
    assert is_person("assistant", "Omar")  # the second person of an imported conversation
    assert not is_person("assistant", "")  # an unnamed assistant's reply


def test_a_questions_relative_time_counts_from_the_day_it_names() -> None:
    from memcli.strategy.dates import time_range

    now = datetime(2023, 11, 1, tzinfo=timezone.utc)
    start, end = time_range("What did Maria do the last weekend before April 10, 2023?", now)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2023-04-08", "2023-04-10")
    start, end = time_range("What happened on 7 May 2023?", now)
    assert (start.day, end.day) == (7, 8)
    start, _ = time_range("What did she do last weekend?", now)  # no day named: from now
    assert start.date().isoformat() == "2023-10-28"


def test_short_typed_facts_and_two_slots_in_one_sentence_are_kept() -> None:
    """Found by sample session 02: "I am vegan now" (one content word) was dropped, and of
    "I live in Lisbon and I am vegetarian" only the residence was kept."""
    when = datetime(2026, 3, 2)
    assert [(f.slot, f.value) for f in statements("I live in Lisbon and I am vegetarian.", "User", when)] == [
        ("residence", "Lisbon"), ("diet", "vegetarian")]
    assert [(f.slot, f.value) for f in statements("Also, I am vegan now.", "User", when)] == [("diet", "vegan")]
    assert statements("I am fine.", "User", when) == []  # no slot, too few words: still no fact
