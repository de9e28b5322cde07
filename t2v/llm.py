"""Chat backends: one small interface over an OpenAI-compatible HTTP endpoint or a local transformers model.

Story planning, question generation and knowledge retrieval only need "messages in, text out", so
they take any :class:`ChatBackend`. Two implementations:

- :class:`OpenAIChatBackend` speaks ``POST {base_url}/chat/completions`` with the standard library,
  so it works with vLLM, Ollama, llama.cpp's server and OpenAI alike; images travel as PNG data-URL
  ``image_url`` parts (vision models).
- :class:`TransformersChatBackend` runs a local chat model (``apply_chat_template`` + ``generate``).

Both keep identical requests in an on-disk JSON cache (``$T2V_CACHE/llm`` or ``~/.cache/t2v/llm``),
so re-running an evaluation does not pay for the same LLM call twice.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from http.client import HTTPException
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .disk_cache import JsonCache, cache_root, content_key

logger = logging.getLogger(__name__)

API_KEY_ENVS: tuple[str, ...] = ("T2V_LLM_API_KEY", "OPENAI_API_KEY")
ROLES: tuple[str, ...] = ("system", "user", "assistant")
DEFAULT_MAX_TOKENS = 512
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 3
MAX_BACKOFF = 30.0  # seconds; the longest single wait between retries

Message = dict[str, Any]


class ChatError(RuntimeError):
    """A chat request that failed for good; ``status`` is the last HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@runtime_checkable
class ChatBackend(Protocol):
    """Messages in, the assistant's reply out.

    ``images`` (uint8 ``(H, W, 3)`` arrays or PIL images) are shown with the first user message;
    text-only backends reject them. ``identity`` names the backend and model, for cache keys.
    """

    identity: str

    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0,
             max_tokens: int = DEFAULT_MAX_TOKENS, images: Sequence[Any] | None = None) -> str: ...


# -- validation and images ----------------------------------------------------------------

def check_messages(messages: Sequence[Message]) -> list[Message]:
    """Validate chat messages (role in system/user/assistant, text content); returns plain dict copies."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ValueError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
    checked = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}] must be a dict, got {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise ValueError(f"messages[{i}]['role'] must be one of {list(ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}]['content'] must be a string, got {type(content).__name__}")
        checked.append({"role": role, "content": content})
    if not any(m["role"] == "user" for m in checked):
        raise ValueError("messages must contain at least one user message")
    return checked


def check_generation(temperature: float, max_tokens: int) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0.0 <= temperature <= 2.0:
        raise ValueError(f"temperature must be a number in [0, 2], got {temperature!r}")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")


def to_rgb_array(image: Any, *, name: str = "image") -> np.ndarray:
    """A PIL image or an ``(H, W)`` / ``(H, W, 3)`` uint8 array as a uint8 ``(H, W, 3)`` array."""
    if hasattr(image, "convert") and hasattr(image, "size"):  # a PIL image
        image = np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got dtype {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise ValueError(f"{name} must have shape (H, W, 3) or (H, W), got {array.shape}")
    return np.ascontiguousarray(array)


def png_bytes(image: Any, *, name: str = "image") -> bytes:
    """Lossless PNG encoding of an RGB image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(to_rgb_array(image, name=name)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# -- caching shared by the backends --------------------------------------------------------

def default_llm_cache_dir() -> Path:
    """``$T2V_CACHE/llm`` when ``T2V_CACHE`` is set, else ``~/.cache/t2v/llm``."""
    return cache_root() / "llm"


class _CachedChat:
    """Validation and the request cache, shared by both backends; subclasses implement ``_complete``."""

    identity: str = ""

    def __init__(self, cache_dir: str | os.PathLike[str] | None, use_cache: bool) -> None:
        if not isinstance(use_cache, bool):
            raise ValueError(f"use_cache must be True or False, got {use_cache!r}")
        self.cache = JsonCache(cache_dir if cache_dir is not None else default_llm_cache_dir()) if use_cache else None

    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0,
             max_tokens: int = DEFAULT_MAX_TOKENS, images: Sequence[Any] | None = None) -> str:
        """The assistant's reply to ``messages``; identical requests are answered from the cache."""
        checked = check_messages(messages)
        check_generation(temperature, max_tokens)
        if images is not None and (isinstance(images, (str, bytes, np.ndarray)) or not isinstance(images, Sequence)):
            raise ValueError("images must be a list of images (uint8 (H, W, 3) arrays or PIL images)")
        encoded = [png_bytes(image, name=f"images[{i}]") for i, image in enumerate(images or [])]
        key = None
        if self.cache is not None:
            key = content_key({
                "backend": self.identity, "messages": checked, "temperature": float(temperature),
                "max_tokens": max_tokens, "images": [hashlib.sha256(data).hexdigest() for data in encoded],
            })
            hit = self.cache.get(key)
            if isinstance(hit, str):
                logger.debug("chat cache hit %s", key[:12])
                return hit
        reply = self._complete(checked, temperature=float(temperature), max_tokens=max_tokens, images=encoded)
        if key is not None:
            self.cache.put(key, reply)
        return reply

    def _complete(self, messages: list[Message], *, temperature: float, max_tokens: int,
                  images: list[bytes]) -> str:
        raise NotImplementedError


# -- OpenAI-compatible HTTP ----------------------------------------------------------------

def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, or a ValueError naming it."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError(f"base_url must be an http(s) URL such as http://localhost:8000/v1, got {base_url!r}")
    url = base_url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"base_url must be an http(s) URL such as http://localhost:8000/v1, got {base_url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as err:
        raise ValueError(f"base_url has an invalid port: {base_url!r}") from err
    return url


def _api_key_from_env() -> str | None:
    for name in API_KEY_ENVS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _error_detail(err: urllib.error.HTTPError) -> str:
    try:
        body = err.read().decode("utf-8", errors="replace")
    except (OSError, HTTPException):
        body = ""
    try:
        data = json.loads(body)
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message", message)
        body = str(message)
    except ValueError:
        pass
    return " ".join(body.split())[:300] or (err.reason or "")


def _retry_after(err: urllib.error.HTTPError) -> float | None:
    value = err.headers.get("Retry-After") if err.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _reply_text(data: Any) -> str:
    """The assistant text of a chat-completions response, or a ChatError saying what was wrong."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as err:
        raise ChatError(f"unexpected chat-completions response (no choices[0].message.content): "
                        f"{json.dumps(data)[:200]}") from err
    if isinstance(content, list):  # some servers return content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise ChatError(f"unexpected chat-completions response: content is {type(content).__name__}")
    return content


class OpenAIChatBackend(_CachedChat):
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        base_url: the API root, e.g. ``http://localhost:8000/v1`` (vLLM), ``http://localhost:11434/v1``
            (Ollama), ``http://localhost:8080/v1`` (llama.cpp) or ``https://api.openai.com/v1``.
        model: the model name to request; None asks the server's ``/models`` and uses the first.
        api_key: sent as a Bearer token; None reads ``T2V_LLM_API_KEY``, then ``OPENAI_API_KEY``
            (local servers usually need none).
        timeout: seconds to wait for one HTTP request.
        max_retries: further attempts after a connection error, a timeout, a 5xx or a 429, waiting
            ``retry_backoff * 2**attempt`` seconds (or the server's Retry-After) in between;
            other 4xx answers fail at once.
        retry_backoff: the first wait, in seconds.
        cache_dir: folder of the request cache; None is ``$T2V_CACHE/llm`` or ``~/.cache/t2v/llm``.
        use_cache: False disables the cache.
    """

    def __init__(self, base_url: str, model: str | None = None, *, api_key: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_retries: int = DEFAULT_MAX_RETRIES,
                 retry_backoff: float = 1.0, cache_dir: str | os.PathLike[str] | None = None,
                 use_cache: bool = True) -> None:
        self.base_url = check_base_url(base_url)
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise ValueError(f"model must be a non-empty string or None, got {model!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        if isinstance(retry_backoff, bool) or not isinstance(retry_backoff, (int, float)) or retry_backoff < 0:
            raise ValueError(f"retry_backoff must be a non-negative number of seconds, got {retry_backoff!r}")
        if api_key is not None and (not isinstance(api_key, str) or not api_key):
            raise ValueError("api_key must be a non-empty string or None")
        super().__init__(cache_dir, use_cache)
        self._model = model.strip() if model else None
        self.api_key = api_key if api_key is not None else _api_key_from_env()
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.retry_backoff = float(retry_backoff)

    @property
    def model(self) -> str:
        """The model name requested; resolved from the server's ``/models`` on first use if not given."""
        if self._model is None:
            self._model = self._first_served_model()
        return self._model

    @property
    def identity(self) -> str:  # type: ignore[override]
        return f"openai-chat|{self.base_url}|{self.model}"

    def __repr__(self) -> str:
        return f"OpenAIChatBackend(base_url={self.base_url!r}, model={self._model!r})"

    def _first_served_model(self) -> str:
        data = self._request("GET", "/models")
        try:
            names = [entry["id"] for entry in data["data"]]
        except (KeyError, TypeError) as err:
            raise ChatError(f"{self.base_url}/models gave no model list; pass model= explicitly") from err
        if not names or not isinstance(names[0], str):
            raise ChatError(f"{self.base_url}/models lists no models; pass model= explicitly")
        return names[0]

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """One JSON request with retries on connection errors, timeouts, 5xx and 429."""
        url = self.base_url + path
        body = json.dumps(payload).encode("utf-8") if payload is not None else None
        attempts = self.max_retries + 1
        last_error, last_status = "", None
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=body, headers=self._headers(), method=method)
            wait = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    return json.loads(raw.decode("utf-8"))
                except ValueError as err:
                    raise ChatError(f"{url} answered with invalid JSON: {raw[:200]!r}",
                                    status=response.status) from err
            except urllib.error.HTTPError as err:
                last_status, detail = err.code, _error_detail(err)
                last_error = f"HTTP {err.code}: {detail}"
                if err.code != 429 and err.code < 500:
                    hint = " (check the API key: T2V_LLM_API_KEY or OPENAI_API_KEY)" if err.code in (401, 403) else ""
                    raise ChatError(f"{method} {url} failed with HTTP {err.code}: {detail}{hint}",
                                    status=err.code) from err
                wait = _retry_after(err)
            except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as err:
                reason = getattr(err, "reason", err)
                last_error = f"{type(err).__name__}: {reason}"
            if attempt + 1 < attempts:
                delay = min(MAX_BACKOFF, wait if wait is not None else self.retry_backoff * 2**attempt)
                logger.warning("%s %s: %s; retry %d/%d in %.2fs", method, url, last_error, attempt + 1,
                               self.max_retries, delay)
                time.sleep(delay)
        raise ChatError(f"{method} {url} failed after {attempts} attempt(s); last error: {last_error}",
                        status=last_status)

    def _complete(self, messages: list[Message], *, temperature: float, max_tokens: int,
                  images: list[bytes]) -> str:
        wire: list[dict[str, Any]] = [dict(m) for m in messages]
        if images:
            first_user = next(i for i, m in enumerate(wire) if m["role"] == "user")
            parts: list[dict[str, Any]] = [
                {"type": "image_url", "image_url": {"url": png_data_url(data)}} for data in images
            ]
            parts.append({"type": "text", "text": wire[first_user]["content"]})
            wire[first_user]["content"] = parts
        payload = {"model": self.model, "messages": wire, "temperature": temperature, "max_tokens": max_tokens,
                   "stream": False}
        return _reply_text(self._request("POST", "/chat/completions", payload))


# -- local transformers --------------------------------------------------------------------

def resolve_dtype(dtype: Any) -> Any:
    """A torch dtype from a name ("bfloat16") or a dtype; None stays None (keep the saved dtype)."""
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, dtype, None) if isinstance(dtype, str) else None
    if not isinstance(value, torch.dtype):
        raise ValueError(f"dtype must be a torch dtype or its name (e.g. 'bfloat16'), got {dtype!r}")
    return value


def folder_fingerprint(folder: Path) -> list[list[Any]]:
    """Names, sizes and modification times of a model folder's config and weights, so cached
    answers are not reused after the weights change."""
    entries = []
    for file in sorted(folder.iterdir()):
        if file.is_file() and (file.suffix in (".safetensors", ".json") or file.name.endswith(".jinja")):
            stat = file.stat()
            entries.append([file.name, stat.st_size, stat.st_mtime_ns])
    return entries


class TransformersChatBackend(_CachedChat):
    """A local transformers chat model: the tokenizer's chat template, then greedy (or sampled) ``generate``.

    Args:
        model_name_or_path: a local model folder (safetensors weights, a tokenizer with a chat template).
        device: torch device; None picks CUDA when available, else CPU.
        dtype: torch dtype name or dtype ("bfloat16", torch.float16, ...); None keeps the saved one.
        cache_dir, use_cache: the request cache, as for :class:`OpenAIChatBackend`.

    The model loads on the first call. Remote code is never trusted, and only safetensors load.
    """

    def __init__(self, model_name_or_path: str | os.PathLike[str], *, device: str | None = None,
                 dtype: Any = None, cache_dir: str | os.PathLike[str] | None = None,
                 use_cache: bool = True) -> None:
        if not isinstance(model_name_or_path, (str, os.PathLike)) or not str(model_name_or_path).strip():
            raise ValueError(f"model_name_or_path must be a model folder, got {model_name_or_path!r}")
        path = Path(model_name_or_path).expanduser()
        if not path.is_dir():
            raise ValueError(f"model_name_or_path must be an existing model folder, got {str(path)!r}")
        if not (path / "config.json").is_file():
            raise ValueError(f"model_name_or_path: {str(path)!r} has no config.json; not a transformers model folder")
        super().__init__(cache_dir, use_cache)
        self.path = path.resolve()
        self.device = device
        self.dtype = resolve_dtype(dtype)
        self._model: Any = None
        self._tokenizer: Any = None
        self.identity = f"transformers-chat|{self.path}|{json.dumps(folder_fingerprint(self.path))}"

    def __repr__(self) -> str:
        return f"TransformersChatBackend({str(self.path)!r})"

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded (it loads on the first uncached request)."""
        return self._model is not None

    def load(self) -> tuple[Any, Any]:
        """Load (once) and return ``(model, tokenizer)``."""
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.path)
            if not getattr(tokenizer, "chat_template", None):
                raise ValueError(f"model_name_or_path: the tokenizer in {str(self.path)!r} has no chat template")
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype, use_safetensors=True)
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            self._model, self._tokenizer = model.to(device).eval(), tokenizer
        return self._model, self._tokenizer

    def _complete(self, messages: list[Message], *, temperature: float, max_tokens: int,
                  images: list[bytes]) -> str:
        if images:
            raise ValueError("images: TransformersChatBackend is text-only; use a vision answerer for images")
        import torch

        model, tokenizer = self.load()
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                               return_tensors="pt").to(model.device)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=max_tokens, pad_token_id=pad, **sampling)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        return tokenizer.decode(new_tokens, skip_special_tokens=True).strip()


# -- choosing a backend --------------------------------------------------------------------

def make_backend(spec: str | os.PathLike[str] | None, model: str | None = None, **kwargs: Any) -> ChatBackend | None:
    """The backend a user names: an ``http(s)://host:port/v1`` URL → :class:`OpenAIChatBackend`
    (``model`` is the name to request), an existing local folder → :class:`TransformersChatBackend`,
    None → None (callers then use their rule-based fallback). ``kwargs`` go to the constructor."""
    if spec is None:
        return None
    text = str(spec).strip()
    if text.lower().startswith(("http://", "https://")):
        return OpenAIChatBackend(text, model, **kwargs)
    if not text:
        raise ValueError("spec must be an http(s) endpoint URL or a local model folder, got an empty string")
    if Path(text).expanduser().is_dir():
        if model is not None:
            raise ValueError(f"model names the model of an HTTP endpoint; the local folder {text!r} is the model")
        return TransformersChatBackend(text, **kwargs)
    raise ValueError(f"spec must be an http(s) endpoint URL (http://host:port/v1) or an existing local model "
                     f"folder, got {text!r}")
