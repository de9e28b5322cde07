"""The ``t2v`` console script: one argparse subcommand per capability.

Each subcommand lives in ``t2v/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` (``args -> exit code``). Bad input raises
``ValueError`` (or ``FileNotFoundError`` for a missing input); the CLI turns it into a one-line
message and exit code 2. Other ``OSError``s (an output that cannot be written, a full disk) are
one line and exit code 1.

Library chatter (transformers' and diffusers' warnings and weight-loading bars, Python warnings)
is hidden unless ``-v`` is given: the user sees t2v's own messages.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

COMMAND_MODULES: tuple[str, ...] = (
    "t2v.commands.world",
    "t2v.commands.generate",
    "t2v.commands.story",
    "t2v.commands.transition",
    "t2v.commands.animate",
    "t2v.commands.extend",
    "t2v.commands.edit",
    "t2v.commands.questions",
    "t2v.commands.evaluate",
    "t2v.commands.batch",
    "t2v.commands.finetune",
    "t2v.commands.demo",
    "t2v.commands.models",
    "t2v.commands.cache",
)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like the CLI's other errors; ``--help`` has the usage.

    Subcommand parsers are made with the parent's class, so they inherit this.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="t2v", description="Text-to-video generation, editing and evaluation.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress details, and show the warnings and loading bars of the libraries used")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


# Libraries whose own logging and progress bars the CLI sets; each has ``<name>.utils.logging``
# with set_verbosity_error/warning and disable/enable_progress_bar.
CHATTY_LIBRARIES: tuple[str, ...] = ("transformers", "diffusers")


class _OnFirstImport(importlib.abc.MetaPathFinder):
    """Calls a function right after a package is first imported.

    Setting a library up when it loads, rather than importing it to set it up, keeps commands that
    never load a model (``t2v world``) from paying seconds for torch.
    """

    def __init__(self) -> None:
        self.pending: dict[str, Callable[[], None]] = {}
        self._asking: set[str] = set()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.pending or fullname in self._asking:
            return None
        self._asking.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)  # what the other finders make of it
        finally:
            self._asking.discard(fullname)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_then_call(module: ModuleType) -> None:
                exec_module(module)
                callback = self.pending.pop(fullname, None)
                if callback is not None:
                    callback()

            # This spec's own loader object. Specs that are only looked at (libraries probe for
            # each other with find_spec) never run it, so the callback waits for the real import.
            spec.loader.exec_module = exec_then_call
        return spec


_ON_FIRST_IMPORT = _OnFirstImport()


def _set_library_output(library: str, verbose: bool) -> None:
    logs = importlib.import_module(f"{library}.utils.logging")
    if verbose:
        logs.set_verbosity_warning()
        logs.enable_progress_bar()
        return
    from huggingface_hub.utils import are_progress_bars_disabled, enable_progress_bars

    downloads_shown = not are_progress_bars_disabled()
    logs.set_verbosity_error()
    logs.disable_progress_bar()  # transformers' also turns off the hub's download bars:
    if downloads_shown:  # minutes of downloading deserve a bar, loading local weights does not
        enable_progress_bars()


def show_library_output(verbose: bool) -> None:
    """Show the chatty libraries' warnings and loading bars only when ``verbose``: now for those
    already imported, on first import for the others."""
    if _ON_FIRST_IMPORT not in sys.meta_path:
        sys.meta_path.insert(0, _ON_FIRST_IMPORT)
    for library in CHATTY_LIBRARIES:
        set_output = functools.partial(_set_library_output, library, verbose)
        if library in sys.modules:
            _ON_FIRST_IMPORT.pending.pop(library, None)
            set_output()
        else:
            _ON_FIRST_IMPORT.pending[library] = set_output


def _error(command: str, err: BaseException) -> None:
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    print(f"t2v {command}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    show_library_output(args.verbose)
    try:
        with warnings.catch_warnings():
            if not args.verbose:
                warnings.simplefilter("ignore")  # deprecations and notices from libraries, for their developers
            return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        _error(args.command, err)
        return 2
    except OSError as err:
        _error(args.command, err)
        return 1
    except KeyboardInterrupt:
        print("t2v: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
