"""LoCoMo question answering: the configured model answers from the retrieved memories, scored
by token F1 as the LoCoMo paper's evaluation does (snap-research/locomo, task_eval/evaluation.py).

Scoring follows that code: answers are lower-cased, commas, punctuation and the words
a/an/the/and removed, tokens Porter-stemmed; multi-hop answers (category 1) are lists — each
gold item takes its best-matching predicted item (split on commas) and the item scores are
averaged; open-domain gold answers (category 3) keep the part before the first ';'.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache

from memcli.context import memory_block

# The LoCoMo paper's prompt for categories 1-4.
QA_PROMPT = ("Based on the above context, write an answer in the form of a short phrase for the following "
             "question. Answer with exact words from the context whenever possible.\n\nQuestion: {question} "
             "Short answer:")
ANSWER_TOKENS = 32
_PUNCTUATION = str.maketrans("", "", string.punctuation)


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


def normalize_answer(text: str) -> str:
    text = text.replace(",", "").lower().translate(_PUNCTUATION)
    return " ".join(re.sub(r"\b(a|an|the|and)\b", " ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    stem = _stemmer().stemWord
    pred = [stem(w) for w in normalize_answer(prediction).split()]
    ref = [stem(w) for w in normalize_answer(gold).split()]
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def multi_answer_f1(prediction: str, gold: str) -> float:
    """A list answer: each gold item scored by its best predicted item, averaged."""
    predicted = [p.strip() for p in prediction.split(",")]
    items = [g.strip() for g in gold.split(",")]
    return sum(max(token_f1(p, g) for p in predicted) for g in items) / len(items)


def score(prediction: str, gold: str, category: int) -> float:
    if category == 1:
        return multi_answer_f1(prediction, gold)
    if category == 3:
        gold = gold.split(";")[0].strip()
    return token_f1(prediction, gold)


def prompt(memories: list[str], question: str) -> list[dict[str, str]]:
    """One user message: the memories (dated lines), then the paper's question prompt."""
    text = f"{memory_block(memories)}\n\n{QA_PROMPT.format(question=question)}"
    return [{"role": "user", "content": text.lstrip()}]


def answer(model, memories: list[str], question: str) -> str:
    """The model's short answer (greedy, first line only)."""
    generation = model.stream(prompt(memories, question), max_tokens=ANSWER_TOKENS, temperature=0.0)
    for _ in generation:
        pass
    lines = [line.strip() for line in generation.text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
