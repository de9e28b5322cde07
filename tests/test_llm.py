"""Chat backends against a real local HTTP server and a tiny random transformers chat model."""

from __future__ import annotations

import base64
import io
import json
import socket
import time

import numpy as np
import pytest

from t2v.llm import ChatError, OpenAIChatBackend, TransformersChatBackend, make_backend
from tests.chat_server import ChatServer, Reply, scripted
from tests.tiny_chat_models import build_tiny_chat_model

USER = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Keep every default cache and API key of these tests inside the test's own folder."""
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))
    monkeypatch.delenv("T2V_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def backend(server: ChatServer, **options) -> OpenAIChatBackend:
    settings = {"use_cache": False, "retry_backoff": 0.01, "timeout": 5.0, **options}
    return OpenAIChatBackend(server.base_url, "tiny-chat", **settings)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the protocol ---------------------------------------------------------------------------

def test_request_carries_model_messages_and_parameters():
    with ChatServer(lambda r: f"echo: {r.last_user_text()}") as server:
        reply = backend(server).chat(USER, temperature=0.3, max_tokens=17)
    assert reply == "echo: Say hello."
    (request,) = server.chat_requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "tiny-chat"
    assert request.body["messages"] == USER
    assert request.body["temperature"] == pytest.approx(0.3)
    assert request.body["max_tokens"] == 17
    assert request.headers["Content-Type"] == "application/json"


def test_api_key_header_explicit_then_from_env(monkeypatch):
    with ChatServer(lambda r: "ok") as server:
        backend(server).chat(USER)
        backend(server, api_key="sk-explicit").chat(USER)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
        backend(server).chat(USER)
        monkeypatch.setenv("T2V_LLM_API_KEY", "sk-t2v")
        backend(server).chat(USER)
    auth = [r.headers.get("Authorization") for r in server.chat_requests]
    assert auth == [None, "Bearer sk-explicit", "Bearer sk-openai", "Bearer sk-t2v"]


def test_model_resolved_from_the_server_model_list():
    with ChatServer(lambda r: "ok", models=("served-model", "other")) as server:
        client = OpenAIChatBackend(server.base_url, use_cache=False)
        assert client.chat(USER) == "ok"
    assert client.model == "served-model"
    assert server.chat_requests[0].body["model"] == "served-model"
    assert [r.path for r in server.requests] == ["/v1/models", "/v1/chat/completions"]


def test_images_travel_as_png_data_urls_with_the_first_user_message():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (6, 5, 3), dtype=np.uint8) for _ in range(3)]
    messages = [{"role": "system", "content": "judge"}, {"role": "user", "content": "What is shown?"},
                {"role": "assistant", "content": "Shapes."}, {"role": "user", "content": "Sure?"}]
    with ChatServer(lambda r: "ok") as server:
        backend(server).chat(messages, images=images)
    sent = server.chat_requests[0].body["messages"]
    assert sent[0] == messages[0] and sent[2:] == messages[2:]
    parts = sent[1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 3 + ["text"]
    assert parts[-1]["text"] == "What is shown?"
    from PIL import Image

    for part, original in zip(parts[:3], images, strict=True):
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert decoded.format == "PNG"
        np.testing.assert_array_equal(np.asarray(decoded), original)


def test_content_parts_in_the_response_are_joined():
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    raw = json.dumps({"choices": [{"message": {"role": "assistant", "content": parts}}]})
    with ChatServer(lambda r: Reply(raw=raw.encode())) as server:
        assert backend(server).chat(USER) == "ab"


# -- failures and retries -------------------------------------------------------------------

def test_retries_after_503_then_succeeds():
    with ChatServer(scripted([Reply(status=503), Reply(status=503), "finally"])) as server:
        assert backend(server, max_retries=3).chat(USER) == "finally"
    assert len(server.chat_requests) == 3


def test_server_that_keeps_failing_raises_chat_error_with_last_status():
    with ChatServer(scripted([Reply(status=500), Reply(status=502, error="bad gateway")])) as server:
        with pytest.raises(ChatError, match="after 3 attempt") as info:
            backend(server, max_retries=2).chat(USER)
    assert info.value.status == 502
    assert "bad gateway" in str(info.value)
    assert len(server.chat_requests) == 3


def test_429_is_retried_honouring_retry_after():
    with ChatServer(scripted([Reply(status=429, headers={"Retry-After": "0"}), "ok"])) as server:
        assert backend(server, max_retries=1, retry_backoff=5.0).chat(USER) == "ok"
    assert len(server.chat_requests) == 2


def test_400_is_not_retried():
    with ChatServer(lambda r: Reply(status=400, error="max_tokens too large")) as server:
        with pytest.raises(ChatError, match="max_tokens too large") as info:
            backend(server, max_retries=3).chat(USER)
    assert info.value.status == 400
    assert len(server.chat_requests) == 1


def test_401_error_mentions_the_api_key():
    with ChatServer(lambda r: Reply(status=401, error="invalid key")) as server:
        with pytest.raises(ChatError, match="API key"):
            backend(server).chat(USER)


def test_timeout_is_retried_then_reported():
    with ChatServer(lambda r: Reply("late", delay=1.0)) as server:
        start = time.monotonic()
        with pytest.raises(ChatError, match="(?i)timed out|timeout") as info:
            backend(server, timeout=0.2, max_retries=1).chat(USER)
        elapsed = time.monotonic() - start
    assert info.value.status is None
    assert len(server.chat_requests) == 2
    assert elapsed < 1.5  # two 0.2 s attempts, not the server's full delay each


def test_connection_refused_is_retried_then_reported():
    client = OpenAIChatBackend(f"http://127.0.0.1:{free_port()}/v1", "m", use_cache=False, max_retries=2,
                               retry_backoff=0.01, timeout=2.0)
    with pytest.raises(ChatError, match="after 3 attempt"):
        client.chat(USER)


def test_invalid_json_from_the_server_is_a_chat_error():
    with ChatServer(lambda r: Reply(raw=b"<html>oops</html>")) as server:
        with pytest.raises(ChatError, match="invalid JSON"):
            backend(server).chat(USER)
    with ChatServer(lambda r: Reply(raw=b'{"choices": []}')) as server:
        with pytest.raises(ChatError, match="unexpected"):
            backend(server).chat(USER)


# -- the cache --------------------------------------------------------------------------------

def test_identical_requests_are_served_from_the_disk_cache(tmp_path):
    cache = tmp_path / "llm-cache"
    with ChatServer(lambda r: f"reply {len(r.body['messages'])} {r.body['temperature']}") as server:
        first = backend(server, use_cache=True, cache_dir=cache)
        assert first.chat(USER) == "reply 1 0.0"
        assert first.chat(USER) == "reply 1 0.0"
        assert len(server.chat_requests) == 1
        # A new backend object on the same folder (a re-run) still hits the cache.
        assert backend(server, use_cache=True, cache_dir=cache).chat(USER) == "reply 1 0.0"
        assert len(server.chat_requests) == 1
        # Any change of the request is a miss.
        first.chat(USER, temperature=0.5)
        first.chat(USER, max_tokens=9)
        first.chat(USER + [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "again"}])
        first.chat(USER, images=[np.zeros((2, 2, 3), np.uint8)])
        assert len(server.chat_requests) == 5
        # Another model on the same server is another backend identity.
        OpenAIChatBackend(server.base_url, "other-model", cache_dir=cache).chat(USER)
        assert len(server.chat_requests) == 6
    files = sorted(cache.rglob("*"))
    entries = [f for f in files if f.is_file()]
    assert len(entries) == 6 and all(f.suffix == ".json" and not f.name.startswith(".tmp") for f in entries)
    assert {json.loads(f.read_text())["value"] for f in entries} >= {"reply 1 0.0", "reply 1 0.5"}


def test_failures_are_not_cached_and_cache_can_be_disabled(tmp_path):
    cache = tmp_path / "llm-cache"
    with ChatServer(scripted([Reply(status=400), "ok"])) as server:
        client = backend(server, use_cache=True, cache_dir=cache)
        with pytest.raises(ChatError):
            client.chat(USER)
        assert client.chat(USER) == "ok"
        uncached = backend(server, use_cache=False, cache_dir=cache)
        uncached.chat(USER)
        uncached.chat(USER)
    assert len(server.chat_requests) == 4


def test_default_cache_dir_follows_t2v_cache(tmp_path):
    with ChatServer(lambda r: "ok") as server:
        OpenAIChatBackend(server.base_url, "tiny-chat").chat(USER)
    assert list((tmp_path / "t2v-cache" / "llm").rglob("*.json"))


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["localhost:8000/v1", "ftp://host/v1", "http://", "", "http://h:notaport/v1",
                                 "http://host/v1?x=1"])
def test_bad_base_url_is_a_value_error_naming_it(url):
    with pytest.raises(ValueError, match="base_url"):
        OpenAIChatBackend(url, "m")


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", "5"), ("max_retries", -1),
                                               ("max_retries", 1.5), ("retry_backoff", -1), ("model", ""),
                                               ("api_key", ""), ("use_cache", "yes")])
def test_bad_constructor_options_name_the_argument(option, value):
    kwargs = {"model": "m", option: value}
    with pytest.raises(ValueError, match=option):
        OpenAIChatBackend("http://127.0.0.1:9/v1", **kwargs)


@pytest.mark.parametrize(("messages", "match"), [
    ([], "messages"), ("hello", "messages"), ([{"role": "robot", "content": "x"}], "role"),
    ([{"role": "user", "content": 3}], "content"), ([{"role": "system", "content": "x"}], "user message"),
])
def test_bad_messages_are_value_errors(messages, match):
    client = OpenAIChatBackend("http://127.0.0.1:9/v1", "m", use_cache=False)
    with pytest.raises(ValueError, match=match):
        client.chat(messages)


def test_bad_generation_parameters_and_images_are_value_errors():
    client = OpenAIChatBackend("http://127.0.0.1:9/v1", "m", use_cache=False)
    with pytest.raises(ValueError, match="temperature"):
        client.chat(USER, temperature=3)
    with pytest.raises(ValueError, match="max_tokens"):
        client.chat(USER, max_tokens=0)
    with pytest.raises(ValueError, match=r"images\[1\]"):
        client.chat(USER, images=[np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.float32)])
    with pytest.raises(ValueError, match="images"):
        client.chat(USER, images=np.zeros((2, 2, 3), np.uint8))


# -- make_backend -----------------------------------------------------------------------------

def test_make_backend_picks_the_backend_from_the_spec(tmp_path):
    assert make_backend(None) is None
    http = make_backend("http://127.0.0.1:8000/v1/", "qwen")
    assert isinstance(http, OpenAIChatBackend)
    assert (http.base_url, http.model) == ("http://127.0.0.1:8000/v1", "qwen")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert isinstance(make_backend(str(folder)), TransformersChatBackend)
    with pytest.raises(ValueError, match="spec"):
        make_backend(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="spec"):
        make_backend("  ")
    with pytest.raises(ValueError, match="model"):
        make_backend(str(folder), "qwen")


# -- a local transformers chat model ----------------------------------------------------------

@pytest.fixture(scope="module")
def chat_model_dir(tmp_path_factory):
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat") / "model")


def test_transformers_backend_generates_through_the_chat_template(chat_model_dir, tmp_path):
    client = TransformersChatBackend(chat_model_dir, device="cpu", cache_dir=tmp_path / "c")
    assert not client.loaded
    reply = client.chat([{"role": "system", "content": "Be brief."}, *USER], max_tokens=6)
    assert isinstance(reply, str)
    assert client.loaded
    model, tokenizer = client.load()
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert len(tokenizer.encode(reply, add_special_tokens=False)) <= 6 + 2  # re-encoding may split a little
    # Greedy decoding is deterministic: an uncached second model gives the same reply.
    fresh = TransformersChatBackend(chat_model_dir, device="cpu", use_cache=False)
    assert fresh.chat([{"role": "system", "content": "Be brief."}, *USER], max_tokens=6) == reply
    # And a third backend on the first one's cache answers without loading the model at all.
    cached = TransformersChatBackend(chat_model_dir, device="cpu", cache_dir=tmp_path / "c")
    assert cached.chat([{"role": "system", "content": "Be brief."}, *USER], max_tokens=6) == reply
    assert not cached.loaded


def test_transformers_backend_rejects_images_and_bad_arguments(chat_model_dir, tmp_path):
    client = TransformersChatBackend(chat_model_dir, use_cache=False)
    with pytest.raises(ValueError, match="images"):
        client.chat(USER, images=[np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="dtype"):
        TransformersChatBackend(chat_model_dir, dtype="float77")
    with pytest.raises(ValueError, match="model_name_or_path"):
        TransformersChatBackend(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="config.json"):
        TransformersChatBackend(tmp_path)
