"""``t2v demo``: serve the Gradio web demo (needs the ``[demo]`` extra)."""

from __future__ import annotations

import argparse
import importlib.util

from ._common import positive_int

INSTALL_HINT = "the web demo needs Gradio: pip install 't2v[demo]'"


def port_number(text: str) -> int:
    port = positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"expected a port in [1, 65535], got {text!r}")
    return port


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="serve the web demo in a browser (Gradio)",
        description="Serve the Gradio web demo: generate, stories, transitions and evaluation on the models "
                    "listed here. It listens on 127.0.0.1 unless --host says otherwise, and opens no share link.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 serves other machines too)")
    parser.add_argument("--port", type=port_number, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--model", action="append", dest="models", default=None, metavar="NAME",
                        help="a model the page may use: 'tiny-shapes', a local folder or a hub id; repeat for "
                             "more (default: tiny-shapes). Users pick from this list, never a path")
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda (default: cpu)")
    parser.add_argument("--queue-size", type=positive_int, default=16,
                        help="requests that may wait; more are refused with 'queue is full' (default 16)")
    parser.add_argument("--max-file-size", default="25mb", help="largest upload, e.g. 25mb (default)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("gradio") is None:
        raise ValueError(INSTALL_HINT)
    from ..demo.app import DemoConfig, launch

    launch(DemoConfig(host=args.host, port=args.port, models=tuple(args.models or ("tiny-shapes",)),
                      device=args.device, queue_size=args.queue_size, max_file_size=args.max_file_size))
    return 0
