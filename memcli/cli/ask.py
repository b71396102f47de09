"""`memcli ask PROMPT`: one streamed reply from the configured model, no memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from memcli.cli.options import DataDir, Json, print_json, settings_for

ModelPath = Annotated[
    str | None, typer.Option("--model", "-m", help="A GGUF file, a model name from `memcli models`, or an "
                             "OpenAI-compatible endpoint URL (default: the embedded SmolLM2-135M-Instruct).")
]
Cassette = Annotated[Path | None, typer.Option("--cassette", help="Record model calls in this JSONL file, or play them "
                                               "back from it.")]
Record = Annotated[bool, typer.Option("--record", help="With --cassette: always call the model and record.")]
# "playback", not "replay": `memcli replay` plays session files, a different thing
Playback = Annotated[bool, typer.Option("--playback", help="With --cassette: only play back recorded calls; a missing "
                                        "call is an error.")]


def cassette_mode(record: bool, playback: bool) -> str:
    if record and playback:
        raise typer.BadParameter("--record and --playback exclude each other")
    return "record" if record else "replay" if playback else "auto"


def ask(
    prompt: Annotated[str, typer.Argument(help="What to ask.")],
    system: Annotated[str | None, typer.Option("--system", "-s", help="A system message.")] = None,
    model: ModelPath = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Tokens to generate at most.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", "-t", min=0.0, max=2.0)] = None,
    cassette: Cassette = None,
    record: Record = False,
    playback: Playback = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Stream one reply from the chat model (no memory): the simplest way to see it work."""
    from memcli.model.factory import build_chat_model

    settings = settings_for(data_dir, model=model, max_tokens=max_tokens, temperature=temperature)
    chat = build_chat_model(settings, cassette=cassette, mode=cassette_mode(record, playback))  # type: ignore[arg-type]
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    generation = chat.stream(messages, max_tokens=settings.max_tokens)
    for piece in generation:
        if not json_out:
            sys.stdout.write(piece)
            sys.stdout.flush()
    stats = generation.stats
    if json_out:
        print_json({"reply": generation.text, "stats": stats.as_dict()})
        return
    sys.stdout.write("\n")
    typer.secho(
        f"[{stats.model_id} · {stats.prompt_tokens}+{stats.completion_tokens} tokens · "
        f"first token {stats.ttft_s * 1000:.0f} ms"
        + (f" · {stats.tokens_per_s:.0f} tok/s]" if stats.tokens_per_s >= 1 else "]"),  # a replayed call has no rate
        dim=True, err=True,
    )
