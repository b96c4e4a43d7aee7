"""Every command's --help: a description for each subcommand, a help text and the default for each option,
one wording of --device / --precision, presets listed where a preset is chosen."""

from __future__ import annotations

import argparse

import pytest

from secgan.cli import build_parser
from secgan.cli.common import DEVICE_HELP


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))


PARSERS = list(_walk(build_parser()))


def test_every_command_and_option_is_described():
    missing = []
    for path, parser in PARSERS:
        if path and not (parser.description or "").strip():
            missing.append(" ".join(path) + ": no description")
        for action in parser._actions:
            if isinstance(
                action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
            ):
                continue
            if not (action.help or "").strip():
                missing.append(f"{' '.join(path)} {action.dest}: no help")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", [p for p, _ in PARSERS], ids=lambda p: " ".join(p) or "secgan")
def test_help_shows_defaults_and_one_device_wording(path, capsys):
    parser = dict(PARSERS)[path]
    text = parser.format_help()
    for action in parser._actions:
        hidden = (
            any(action.default is v for v in (None, False, True, argparse.SUPPRESS)) or action.default == []
        )
        if action.option_strings and not hidden:  # (by identity: a default of 0 is shown too)
            assert f"(default: {action.default})" in " ".join(text.split()), (path, action.dest)
        if action.dest == "device":
            assert " ".join(DEVICE_HELP.split()) in " ".join(text.split()), path
        if action.dest == "precision":
            assert "fp32 (exact) | bf16" in " ".join(text.split()), path


def test_presets_are_listed_in_train_and_reproduce_help():
    from secgan.config import preset_names

    helps = {path: p.format_help() for path, p in PARSERS if path in (("train",), ("reproduce",))}
    assert set(helps) == {("train",), ("reproduce",)}
    flat = {k: " ".join(v.split()) for k, v in helps.items()}
    assert all(name in flat[("train",)] for name in preset_names())
    from secgan.reproduce.plans import PRESETS

    assert all(name in flat[("reproduce",)] for name in PRESETS)
