"""Asking the chat model for schema-constrained JSON, with a strategy's rules as the fallback.

Every extracting strategy has two paths: the model's, when a capable model is configured
(`MemoryView.model` is not None), and a deterministic rule path otherwise. The rule path also
takes over when the model's reply is unusable, so that no turn is lost to a bad reply: the
reply is not JSON for the schema (StructuredOutputError), or its shape does not fit what the
strategy reads from it. Other model failures (a crashed server) are not a bad reply and propagate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from memcli.model.base import StructuredOutputError

if TYPE_CHECKING:
    from memcli.model.base import ChatModel

T = TypeVar("T")

FACTS_SCHEMA = {"type": "object", "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
                "required": ["facts"]}

# what reading a reply of the wrong shape raises (a missing key, a list where a dict was due, …)
_MISFIT = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def ask_json(model: ChatModel | None, instruction: str, text: str, schema: dict[str, Any], *,
             read: Callable[[Any], T | None], fallback: Callable[[str], T], max_tokens: int = 256) -> T:
    """`read(reply)` for the model's reply to `text` under the system `instruction`, constrained to
    `schema`; `fallback(why)` when there is no model, the reply is not valid JSON for the schema, or
    `read` finds it unusable (returns None or raises on a missing key or a wrong type).
    `why` says which, for a strategy that logs it."""
    if model is None:
        return fallback("no model")
    try:
        reply = model.complete_json([{"role": "system", "content": instruction}, {"role": "user", "content": text}],
                                    schema, max_tokens=max_tokens)
    except StructuredOutputError as exc:
        return fallback(exc.reason)
    try:
        value = read(reply)
    except _MISFIT as exc:
        return fallback(f"reply does not fit ({type(exc).__name__}: {exc})")
    return fallback("reply unusable") if value is None else value


def listed_facts(reply: Any) -> list[str]:
    """The non-empty facts of a FACTS_SCHEMA reply."""
    return [str(f).strip() for f in reply.get("facts", []) if str(f).strip()]
