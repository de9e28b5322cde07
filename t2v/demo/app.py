"""The demo app: the tabs in one ``gr.Blocks``, the queue, and a launch with the hardening settings.

* One generation at a time per device (the tabs' ``device`` concurrency group), one reward fine-tune at a
  time (its own ``finetune`` group, with a bounded step count), a bounded queue (``queue_size``; a request
  over it is refused with "queue is full"), and an upload size cap.
* Every file served comes from the app's own temp folder (``GRADIO_TEMP_DIR`` points into it; the samples
  folder is the one extra allowed path), cleaned on a schedule and removed when the app stops.
* It listens on 127.0.0.1 unless told otherwise, and never opens a share link.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from .context import DemoContext
from .models import ModelRegistry
from .workspace import Workspace

logger = logging.getLogger(__name__)

INTRO = """# t2v — text to video on diffusers
Every tab calls t2v's Python API (the same calls as the `t2v` command line) on models this server knows.
The embedded **tiny-shapes** model draws coloured shapes moving on plain backgrounds: describe one
(colour, size, shape, motion, background) and it is generated in seconds on a CPU."""


@dataclass
class DemoConfig:
    """How the demo is served; ``t2v demo``'s options."""

    host: str = "127.0.0.1"
    port: int = 7860
    models: Sequence[str] = field(default_factory=lambda: ("tiny-shapes",))
    device: str | None = None
    queue_size: int = 16
    max_file_size: str = "25mb"
    clean_every_s: int = 600
    keep_outputs_s: int = 3600


def _theme():
    """Gradio's default look with the system's fonts: the stock theme fetches web fonts from the internet."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def edit_available() -> bool:
    """Whether video editing is installed: a tab for a capability that is not there is left out, not faked."""
    try:
        from t2v.pipelines import EditAnimateDiffPipeline  # noqa: F401
    except ImportError:
        logger.warning("video editing is not available (t2v.pipelines.EditAnimateDiffPipeline): no Edit tab")
        return False
    return True


def build_app(ctx: DemoContext, config: DemoConfig):
    """The ``gr.Blocks`` app, queued; the default model is loaded now, so the first request is not slow."""
    import gradio as gr

    from t2v.generation import model_defaults

    from . import tab_evaluate, tab_finetune, tab_generate, tab_story, tab_transition

    base = ctx.models.get(ctx.models.default)
    guidance = float(model_defaults(base)["guidance"])
    with gr.Blocks(title="t2v demo", analytics_enabled=False,
                   delete_cache=(config.clean_every_s, config.keep_outputs_s)) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            tab_generate.build(ctx, guidance)
            tab_story.build(ctx, guidance)
            tab_transition.build(ctx, guidance, base.frame_limit)
            if edit_available():
                from . import tab_edit

                tab_edit.build(ctx, guidance, base.frame_limit)
            tab_evaluate.build(ctx)
            tab_finetune.build(ctx, guidance)
    demo.queue(max_size=config.queue_size, default_concurrency_limit=1)
    return demo


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def launch(config: DemoConfig) -> None:
    """Serve the demo until interrupted (Ctrl-C, or SIGTERM as a service manager stops it), then remove its
    temp folder."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    workspace = Workspace()
    workspace.use_for_gradio()
    try:
        ctx = DemoContext(workspace=workspace, models=ModelRegistry(config.models, config.device))
        ctx.make_samples()
        demo = build_app(ctx, config)
        workspace.start_janitor(config.clean_every_s, config.keep_outputs_s)
        logger.info("serving on http://%s:%d (files under %s)", config.host, config.port, workspace.root)
        demo.launch(server_name=config.host, server_port=config.port, share=False,
                    max_file_size=config.max_file_size, allowed_paths=[str(workspace.samples)],
                    ssr_mode=False, show_error=False, theme=_theme(), footer_links=["api", "settings"])
    finally:
        workspace.close()
