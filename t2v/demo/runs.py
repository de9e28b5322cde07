"""What every long call shares: one run at a time on the device, cancelling, errors as page messages, outputs.

Gradio's concurrency group already queues the generating events one at a time; the device lock also covers
the moment after a cancel, when Gradio has let the event go but its worker thread is still inside a step.
A cancel sets the session's flag and the pipelines' ``callback_on_step_end`` stops at the next step.
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

logger = logging.getLogger(__name__)

DISPLAY_SIDE = 256  # the page shows clips at this height; downloads keep the model's own size
Handler = TypeVar("Handler", bound=Callable[..., Any])


class RunCancelled(Exception):
    """The user pressed Cancel; raised from inside the denoising loop."""


class Runs:
    """One device: a lock so that one run uses the shared models at a time, and a cancel flag per session."""

    def __init__(self) -> None:
        self.device_lock = threading.Lock()
        self._flags: dict[str, threading.Event] = {}
        self._flags_lock = threading.Lock()

    def cancel(self, session: str) -> None:
        with self._flags_lock:
            flag = self._flags.get(session)
        if flag is not None:
            flag.set()

    @contextmanager
    def run(self, session: str) -> Iterator[Callable]:
        """Hold the device for one run; yields the ``callback_on_step_end`` that stops it when cancelled."""
        flag = threading.Event()
        with self._flags_lock:
            self._flags[session] = flag

        def stop_if_cancelled(pipe: Any, step: int, timestep: Any, tensors: dict) -> dict:
            if flag.is_set():
                raise RunCancelled
            return tensors

        try:
            with self.device_lock:
                if flag.is_set():
                    raise RunCancelled
                yield stop_if_cancelled
        finally:
            with self._flags_lock:
                if self._flags.get(session) is flag:
                    del self._flags[session]


def page_errors(handler: Handler) -> Handler:
    """Errors as messages in the page (``gr.Error``), never a stack trace: a ``ValueError`` is the user's to fix
    and keeps its text (escaped: Gradio renders the message as HTML, and it may quote a file name); anything
    else is logged here and named only by its type. A generator handler (one that streams its progress) stays
    a generator, so Gradio still streams it and an error raised between its updates is caught too."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from handler(*args, **kwargs)
            except Exception as err:  # not GeneratorExit: a closed stream is no error
                raise _page_error(err, handler.__name__) from None

        return streaming  # type: ignore[return-value]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as err:
            raise _page_error(err, handler.__name__) from None

    return wrapper  # type: ignore[return-value]


def _page_error(err: Exception, name: str) -> Exception:
    """The ``gr.Error`` the page shows for ``err``; called while ``err`` is being handled (so it can be logged)."""
    import gradio as gr

    if isinstance(err, gr.Error):
        return err
    if isinstance(err, RunCancelled):
        return gr.Error("Cancelled.", title="Cancelled", print_exception=False)
    if isinstance(err, (ValueError, KeyError)):
        text = str(err).strip("'\"").splitlines()[0] if str(err) else type(err).__name__
        return gr.Error(html.escape(text), title="Check the input", print_exception=False)
    logger.exception("demo handler %s failed", name)
    return gr.Error(f"The server could not finish this ({type(err).__name__}); its log has the details.",
                    title="Server error")


def save_clip(frames: np.ndarray, folder: Path, stem: str, fps: float) -> tuple[Path, Path]:
    """Write a clip twice: at the model's size for download, and scaled up (crisp blocks) for the page."""
    from t2v.video import resize_frames, to_uint8_frames, write_video

    frames = to_uint8_frames(frames)
    native = write_video(frames, folder / f"{stem}.mp4", fps=fps)
    side = max(DISPLAY_SIDE, frames.shape[1])
    view = write_video(resize_frames(frames, side), folder / f"{stem}_view.mp4", fps=fps)
    return view, native


def as_uint8(video: np.ndarray) -> np.ndarray:
    """A pipeline's float ``[0, 1]`` output (batched or not) as uint8 ``(F, H, W, 3)``."""
    from t2v.video import to_uint8_frames

    array = np.asarray(video)
    return to_uint8_frames(array[0] if array.ndim == 5 else array)
