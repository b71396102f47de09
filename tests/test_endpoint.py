"""The OpenAI-compatible endpoint backend against a real llama-cpp-python server (`llama_cpp.server`)
started here on 127.0.0.1 with the embedded GGUF: the model tests the llama.cpp backend passes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from test_model import test_cancel_stops_generation as cancel_stops_generation
from test_model import test_same_seed_same_reply as same_seed_same_reply

from memcli.cli.app import app
from memcli.model import gguf
from memcli.model.base import ContextOverflowError, ModelError
from memcli.model.cassette import CassetteModel
from memcli.model.endpoint import EndpointChatModel
from memcli.model.llama import LlamaChatModel

runner = CliRunner()
HELLO = [{"role": "user", "content": "Say hello in five words"}]
SCHEMA = {"type": "object", "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
          "required": ["facts"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """llama_cpp.server on a free port; ready when /v1/models answers (no fixed wait)."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf.default_model_path()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--seed", "0"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {Path(log.name).read_text()[-2000:]}")
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)  # polling for readiness, not a timing assumption
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def model(server: str) -> EndpointChatModel:
    m = EndpointChatModel(server, n_ctx=2048, temperature=0.0)
    m.load()
    return m


def test_stream_yields_pieces_and_stats(model) -> None:
    gen = model.stream(HELLO, max_tokens=32)
    pieces = list(gen)
    assert len(pieces) > 1 and gen.text.strip()
    s = gen.stats
    assert s.model_id == model.model_name and model.model_name  # learned from /v1/models
    assert s.prompt_tokens > 0 and 0 < s.completion_tokens <= 32 and 0 < s.ttft_s <= s.total_s
    assert s.finish_reason in ("stop", "length")


def test_same_seed_same_reply(model) -> None:
    same_seed_same_reply(model)  # the llama.cpp backend's own test, run on the endpoint


def test_cancel_stops_generation(model) -> None:
    cancel_stops_generation(model)


def test_token_counts_are_the_server_s_own(model) -> None:
    local = LlamaChatModel(n_ctx=2048)
    for text in ("hello world", "memory " * 100, "Nadia lives in Edinburgh."):
        assert model.count_tokens(text) == local.count_tokens(text)


def test_context_overflow_is_reported_before_generating(model) -> None:
    with pytest.raises(ContextOverflowError) as err:
        model.stream([{"role": "user", "content": "word " * 3000}], max_tokens=64)
    assert err.value.prompt_tokens > err.value.limit == 2048 - 64


def test_structured_calls_are_schema_constrained(model) -> None:
    for text in ("My name is Ada.", "I live in Lisbon and I like tea.", "Nothing to see here."):
        value = model.complete_json([{"role": "system", "content": "List the facts in this message."},
                                     {"role": "user", "content": text}], SCHEMA, max_tokens=96)
        assert isinstance(value, dict) and isinstance(value["facts"], list)


def test_cassette_record_then_replay(model, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    recorded = "".join(CassetteModel(model, path, mode="record").stream(HELLO, max_tokens=16))
    replayed = CassetteModel(model, path, mode="replay")
    assert "".join(replayed.stream(HELLO, max_tokens=16)) == recorded and replayed.hits == 1


def test_a_server_that_is_not_there_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="does not answer"):
        EndpointChatModel(f"http://127.0.0.1:{_free_port()}/v1", timeout_s=5).load()


def test_ask_through_the_endpoint(server: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "Say hi", "--model", server, "--max-tokens", "8", "--json",
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stats"]["completion_tokens"] > 0


def test_the_eval_ops_judge_asks_the_server(model) -> None:
    """The judge of `memcli eval ops` through a real OpenAI-compatible server: a schema-constrained verdict."""
    from memcli.eval.ops_data import Point
    from memcli.eval.ops_judge import Judge

    judge = Judge(model)
    verdict = judge(Point("Ada lives in Porto", "fact", 0, must=("Porto",)), "Ada: I moved to Porto", 0.8, 0.55)
    assert verdict.by == "llm" and isinstance(verdict.match, bool) and not verdict.error
    assert judge.verdicts[("Ada lives in Porto", "Ada: I moved to Porto")] is verdict  # asked once per pair
