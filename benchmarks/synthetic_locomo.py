"""A LoCoMo-shaped conversation made here, for ingest benchmarks (no outside data needed).

Two friends talk over many dated sessions. The sentences are built from templates so that
every path a strategy takes on real chat is exercised: stated facts ("I live in Porto", "my
sister Clara works as a nurse"), questions answered by the next message (longmemeval's key
context), relative times ("yesterday", "last week": date resolution), image captions, short
acknowledgements. Deterministic for a seed.

    python benchmarks/synthetic_locomo.py out.json --sessions 20 --turns 24
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

PEOPLE = ("Ana", "Ben")
CITIES = ["Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Oslo", "Rome", "Vienna", "Prague", "Dublin"]
RELATIVES = ["sister", "brother", "cousin", "aunt", "uncle", "mother", "father", "neighbour"]
NAMES = ["Clara", "Tomas", "Ines", "Hugo", "Marta", "Rui", "Sofia", "Pedro", "Lena", "Jonas"]
JOBS = ["nurse", "teacher", "carpenter", "pilot", "chef", "lawyer", "gardener", "designer", "baker"]
HOBBIES = ["pottery", "climbing", "salsa", "chess", "painting", "cycling", "piano", "yoga", "birdwatching"]
THINGS = ["a blue vase", "a wooden stool", "a birthday cake", "a short story", "a quilt", "a song", "a model boat"]
PETS = [("cat", "Pixel"), ("dog", "Biscuit"), ("parrot", "Kiwi"), ("rabbit", "Mochi"), ("turtle", "Sheldon")]
WHEN = ["yesterday", "last week", "two days ago", "last weekend", "three weeks ago", "last month", "this morning"]
FOODS = ["peanuts", "shellfish", "gluten", "dairy", "strawberries"]
ACKS = ["Sounds fun!", "Wow, that's great.", "Haha, I can imagine.", "Good for you!", "That's lovely.",
        "Oh no, sorry to hear that.", "Nice!", "Tell me more some time."]
CAPTIONS = ["a photo of a cat on a sofa", "a photo of a mountain at sunset", "a photo of a clay bowl",
            "a photo of a crowded market", "a photo of a birthday table", "a photo of a bicycle by a river"]


def _statement(rng: random.Random, me: str, other: str) -> str:
    pick = rng.randrange(9)
    if pick == 0:
        return f"I moved to {rng.choice(CITIES)} {rng.choice(WHEN)} and I love the new flat."
    if pick == 1:
        return (f"My {rng.choice(RELATIVES)} {rng.choice(NAMES)} works as a {rng.choice(JOBS)} "
                f"in {rng.choice(CITIES)}.")
    if pick == 2:
        return f"I started a {rng.choice(HOBBIES)} class on {rng.choice(['Mondays', 'Tuesdays', 'Fridays'])}."
    if pick == 3:
        return f"I made {rng.choice(THINGS)} in my {rng.choice(HOBBIES)} group {rng.choice(WHEN)}."
    if pick == 4:
        kind, name = rng.choice(PETS)
        return f"I adopted a {kind} called {name}; it keeps knocking things over."
    if pick == 5:
        return f"I am allergic to {rng.choice(FOODS)}, so the party food was tricky."
    if pick == 6:
        return f"{rng.choice(NAMES)} and I went hiking near {rng.choice(CITIES)} {rng.choice(WHEN)}."
    if pick == 7:
        return f"I finished the {rng.choice(CITIES)} half marathon in {rng.randint(90, 150)} minutes!"
    return f"Hey {other}, I have been busy with work, the {rng.choice(JOBS)} job is a lot these days."


def _question(rng: random.Random, other: str) -> str:
    return rng.choice([
        f"How was your trip to {rng.choice(CITIES)}, {other}?",
        "What did you do last weekend?",
        f"Are you still doing {rng.choice(HOBBIES)}?",
        f"How is your {rng.choice(RELATIVES)} doing?",
        "When is your next holiday?",
    ])


def make(sessions: int = 20, turns: int = 24, seed: int = 0, sample_id: str = "synthetic-1") -> dict:
    """One conversation in locomo10.json's shape: `sessions` sessions of `turns` messages each."""
    rng = random.Random(seed)
    conversation: dict = {"speaker_a": PEOPLE[0], "speaker_b": PEOPLE[1]}
    qa = []
    date = datetime(2023, 5, 8, 13, 56)
    for s in range(1, sessions + 1):
        date += timedelta(days=rng.randint(3, 20), minutes=rng.randint(0, 600))
        conversation[f"session_{s}_date_time"] = (f"{date:%-I:%M} {date:%p}".lower()
                                                  + f" on {date.day} {date:%B}, {date.year}")
        rows = []
        for t in range(1, turns + 1):
            me, other = PEOPLE[(t + s) % 2], PEOPLE[(t + s + 1) % 2]
            roll = rng.random()
            text = (_question(rng, other) if roll < 0.2 else rng.choice(ACKS) if roll < 0.3
                    else _statement(rng, me, other))
            row = {"speaker": me, "dia_id": f"D{s}:{t}", "text": text}
            if rng.random() < 0.05:
                row |= {"img_url": ["https://example.invalid/p.jpg"], "blip_caption": rng.choice(CAPTIONS)}
            rows.append(row)
            if roll >= 0.3 and rng.random() < 0.1:
                qa.append({"question": f"What did {me} say about {text.split()[2]}?", "answer": text,
                           "evidence": [row["dia_id"]], "category": 4})
        conversation[f"session_{s}"] = rows
    return {"sample_id": sample_id, "conversation": conversation, "qa": qa}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--turns", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.out.write_text(json.dumps([make(args.sessions, args.turns, args.seed)], indent=1))


if __name__ == "__main__":
    main()
