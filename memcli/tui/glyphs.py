"""How each event kind looks in the feed: a glyph and a colour."""

from __future__ import annotations

from memcli.core.events import Event, Kind

STYLE: dict[Kind, tuple[str, str]] = {
    Kind.MEMORY_ADDED: ("+", "green"),
    Kind.MEMORY_UPDATED: ("~", "yellow"),
    Kind.MEMORY_MERGED: ("⇉", "yellow"),
    Kind.MEMORY_EDITED: ("✎", "yellow"),
    Kind.MEMORY_DECAYED: ("↓", "blue"),
    Kind.MEMORY_REINFORCED: ("↑", "cyan"),
    Kind.MEMORY_ARCHIVED: ("▣", "red"),
    Kind.MEMORY_DELETED: ("×", "red"),
    Kind.MEMORY_RESTORED: ("↺", "green"),
    Kind.MEMORY_RETRIEVED: ("?", "magenta"),
    Kind.MEMORY_QUARANTINED: ("⚠", "bold red"),
    Kind.MEMORY_EXTRACTED: ("◇", "dim"),
    Kind.MEMORY_NOOP: ("=", "dim"),
    Kind.MEMORY_PINNED: ("★", "bold yellow"),
    Kind.MEMORY_UNPINNED: ("☆", "yellow"),
    Kind.STRATEGY_SWITCHED: ("⇄", "bold cyan"),
    Kind.STRATEGY_ERROR: ("!", "bold red"),
    Kind.CONTEXT_BUILT: ("▤", "dim"),
    Kind.MCP_CALL: ("⇆", "magenta"),
    Kind.CLOCK_ADVANCED: ("»", "bold blue"),
}


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 candidate', '2 candidates', '1 memory' / '3 memories' (with `many`)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters at a word boundary, with '…' when something was cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[:width - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,.;:") + "…"


def changes(payload: dict) -> str:
    """The learned values an update moved ("Δ vector" scores, as rmm's reranker reports them): "vector +0.012, …"."""
    scores = payload.get("scores") or {}
    return ", ".join(f"{k[2:]} {v:+.3f}" for k, v in scores.items() if k.startswith("Δ "))


def describe(event: Event) -> str:
    """One line about an event for the feed."""
    p = event.payload
    if event.kind is Kind.MEMORY_RETRIEVED:
        hits = p.get("hits", [])
        top = f" top {hits[0]['id']} {hits[0]['score']:.3f}" if hits else ""
        return (f"{plural(len(hits), 'hit')}, {plural(len(p.get('near_misses', [])), 'near miss', 'near misses')}"
                f"{top} · {clip(p.get('query', ''), 40)}")
    if event.kind is Kind.MEMORY_EXTRACTED:
        return f"{plural(len(p.get('candidates', [])), 'candidate')} ({p.get('path', 'rules')})"
    if event.kind is Kind.CONTEXT_BUILT:
        tokens = p.get("tokens", {})
        return " ".join(f"{k} {v}" for k, v in tokens.items()) + (f" · cut {len(p['cut'])}" if p.get("cut") else "")
    if event.kind is Kind.MCP_CALL:
        ids = p.get("hit_ids") or p.get("memories") or ([p["id"]] if p.get("id") else [])
        outcome = ", ".join(ids) if p.get("ok") else f"error: {p.get('error', '')[:60]}"
        return f"{event.actor} {p.get('tool')} {outcome}".rstrip()
    if event.kind is Kind.STRATEGY_SWITCHED:
        return f"{p.get('from')} → {p.get('to')}"
    if event.kind is Kind.CLOCK_ADVANCED:  # a replay's advance/at step: the time a decay that follows measures
        return f"{p.get('from', '')[:16]} → {p.get('to', '')[:16]}".replace("T", " ")
    if event.kind is Kind.STRATEGY_ERROR:
        return f"{p.get('strategy')}.{p.get('hook')}: {clip(p.get('error', ''), 80)}"
    if event.kind in (Kind.MEMORY_DECAYED, Kind.MEMORY_REINFORCED):
        return f"S {p.get('previous', 0):g} → {p.get('strength', 0):g} {p.get('reason', '')}"
    if event.kind is Kind.MEMORY_UPDATED and p.get("text") == p.get("previous_text") and p.get("reason"):
        return str(p["reason"])  # only the metadata changed (a strategy's bookkeeping): say why
    if event.kind is Kind.MEMORY_UPDATED and changes(p):
        return f"{p.get('reason', '')}: Δ {changes(p)} → {p.get('text', '')}"
    if event.kind is Kind.MEMORY_UPDATED and p.get("reason"):
        return f"{p['reason']} · {p.get('text', '')}"  # why first: "merged into this topic", "city: Lisbon → Porto"
    if event.kind is Kind.MEMORY_ADDED and p.get("metadata", {}).get("granularity") and p.get("reason"):
        return f"{p['reason']} · {p.get('text', '')}"  # memgas: which granularity, how many links
    return str(p.get("text") or p.get("reason") or "")
