"""The ``secgan`` command line.

Each command group lives in its own module under ``secgan.cli`` and exposes ``register(subparsers)``,
which adds its sub-parser(s) and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and
returning an exit code). Modules are imported lazily by name so a missing optional dependency of one
command (e.g. gradio for ``serve``) never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from secgan import __version__
from secgan.errors import (
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    SecganError,
    original_message,
)

log = logging.getLogger("secgan")

# Order = order in ``secgan --help``.
COMMAND_MODULES = [
    "secgan.cli.data_cmd",  # synth, data check
    "secgan.cli.parser_cmd",  # parser train|eval|predict|import|cache
    "secgan.cli.classifier_cmd",  # classifier train|eval
    "secgan.cli.train_cmd",  # train
    "secgan.cli.evaluate_cmd",  # evaluate, report
    "secgan.cli.reproduce_cmd",  # reproduce
    "secgan.cli.edit_cmd",  # edit, import stargan|attgan, serve
    "secgan.cli.info_cmd",  # info
]


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr as ``LEVEL message``; library modules only ever call ``logging.getLogger``."""
    root = logging.getLogger()
    if getattr(setup_logging, "_done", False):
        root.setLevel(logging.DEBUG if verbose else logging.INFO)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    setup_logging._done = True  # type: ignore[attr-defined]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help (``None``/``False`` defaults are not shown); descriptions keep
    their line breaks, each line wrapped to the terminal."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        # identity, not ==: a default of 0 or 0.0 is shown (0 == False)
        hidden = any(action.default is v for v in (None, False, argparse.SUPPRESS)) or action.default == []
        if hidden or "%(default)" in text:
            return text
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        lines = []
        for line in text.splitlines():
            lead = line[: len(line) - len(line.lstrip())]
            body = " ".join(line.split())
            lines.append(textwrap.fill(body, width, initial_indent=indent + lead,
                                       subsequent_indent=indent + lead + ("  " if lead else ""), break_on_hyphens=False) if body else "")  # fmt: skip
        return "\n".join(lines)


class SecganArgumentParser(argparse.ArgumentParser):
    """The parser class of every (sub)command: defaults shown in help, and a subcommand without its own
    description describes itself with its one-line help."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: ANN201 - argparse's signature (never returns)
        """A malformed command line: usage and one line, exit status 64 (2 is a refused input)."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _describe_subcommands(parser: argparse.ArgumentParser) -> None:
    """A subcommand without its own description is described by its one-line help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                if not (sub.description or "").strip() and helps.get(name):
                    text = helps[name]
                    sub.description = text[:1].upper() + text[1:] + "."
                _describe_subcommands(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = SecganArgumentParser(
        prog="secgan",
        description="Label-guided face editing with semantic consistency (SeCGAN).",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"secgan {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and err.name.startswith("secgan.cli"):
                continue  # command group not present in this build
            raise
        module.register(sub)
    _describe_subcommands(parser)
    return parser


def one_line(err: BaseException) -> str:
    """The user-facing line of an error. A DataLoader worker re-raises the worker's exception with the
    worker's whole traceback in the message ("Caught DataError in DataLoader worker process 0 ...
    Original Traceback ..."): keep only the original message, which is its last line."""
    text = original_message(err)
    return text.splitlines()[0] if text else type(err).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except SecganError as err:
        # One line, no traceback: the message names the file/field/choices at fault.
        sys.stderr.write(f"secgan: error: {one_line(err)}\n")
        return EXIT_INPUT
    except OSError as err:
        line = storage_line(err)
        if line is None:
            raise
        sys.stderr.write(f"secgan: error: {line}\n")
        return EXIT_INPUT
    except RecursionError:
        # only hostile or broken input files nest this deeply (a JSON of thousands of levels...)
        sys.stderr.write("secgan: error: an input file is nested too deeply to be read (hostile or broken)\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("secgan: interrupted\n")
        return EXIT_INTERRUPTED


def storage_line(err: OSError) -> str | None:
    """The one line of an output the disk or the file system refuses (read-only, full, no permission),
    naming the path; ``None`` for other OS errors (bugs keep their tracebacks)."""
    import errno

    write = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
    if err.errno not in write | {errno.EACCES, errno.EPERM} or not err.filename:
        return None
    hint = " (choose a writable --out with free space)" if err.errno in write else ""
    return (
        f"cannot write {err.filename}: {err.strerror}{hint}"
        if err.errno in write
        else (f"{err.filename}: {err.strerror}")
    )
