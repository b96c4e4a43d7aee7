"""The dataset table (secgan.data.registry): choices, traits, unknown names, and no dataset-name tests
outside data/."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest
import torch
from data_fixtures import write_rafd

import secgan
from secgan.config import apply_overrides, load_config
from secgan.data.attributes import PAPER_ATTRIBUTES, RAFD_EXPRESSIONS
from secgan.data.registry import (
    DATASETS,
    build_dataset,
    check_options,
    dataset_names,
    get_dataset,
)
from secgan.errors import ConfigError

SRC = Path(secgan.__file__).parent


def _subparser(argv: list[str]) -> argparse.ArgumentParser:
    from secgan.cli import build_parser

    parser = build_parser()
    for word in argv:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def _choices(argv: list[str]) -> list[str]:
    """The ``--dataset`` choices of the subcommand ``argv`` of ``secgan``."""
    return list(next(a for a in _subparser(argv)._actions if a.dest == "dataset").choices)


def test_cli_dataset_choices_come_from_the_table():
    assert DATASETS == ("celeba", "celebahq", "rafd", "custom")
    for argv in (["evaluate"], ["classifier", "train"], ["classifier", "eval"], ["data", "check"],
                 ["parser", "cache"]):  # fmt: skip
        assert _choices(argv) == list(DATASETS), argv
        flags = {f for a in _subparser(argv)._actions for f in a.option_strings}
        # every loader option of the table is a flag (rafd's split seed included)
        assert {"--split-scheme", "--cameras", "--identity-split", "--split-seed", "--csv"} <= flags, argv
    # the parser trains on ground-truth part masks: the datasets with that trait
    assert dataset_names(part_masks=True) == ("celeba", "celebahq")
    assert _choices(["parser", "train"]) == ["celeba", "celebahq"]


def test_traits():
    rafd, celeba, custom = get_dataset("rafd"), get_dataset("celeba"), get_dataset("custom")
    assert rafd.multiclass and rafd.fixed_attributes and rafd.drawn_split and not rafd.part_masks
    assert rafd.default_attributes == RAFD_EXPRESSIONS and celeba.default_attributes == PAPER_ATTRIBUTES
    assert not celeba.multiclass and celeba.counterfactuals and celeba.part_masks
    assert custom.own_faces and dataset_names(own_faces=True) == ("custom",)
    assert [o.name for o in rafd.options] == ["cameras", "identity_split", "split_seed"]
    # the evaluation protocol's targets: one-hot class i (RaFD) vs invert + conflict rules (CelebA)
    y = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 0]])
    assert rafd.edit_targets(y, 4, RAFD_EXPRESSIONS).tolist() == [[0, 0, 0, 0, 1, 0, 0, 0]]
    attrs = list(PAPER_ATTRIBUTES)
    y = torch.zeros(1, len(attrs))
    y[0, attrs.index("Black_Hair")] = 1
    t = celeba.edit_targets(y, attrs.index("Blond_Hair"), attrs)
    assert t[0, attrs.index("Blond_Hair")] == 1 and t[0, attrs.index("Black_Hair")] == 0


def test_config_reads_the_traits():
    from secgan.training.networks import config_attributes

    base = load_config("synthetic-stargan-64-baseline")
    rafd = apply_overrides(base, ["data.dataset=rafd", "data.split_seed=3", "data.cameras=090"])
    assert config_attributes(rafd) == list(RAFD_EXPRESSIONS)
    assert rafd.data.loader_options() == {"cameras": ["090"], "identity_split": "random", "split_seed": 3}
    celeba = apply_overrides(base, ["data.split_seed=3"])
    assert celeba.data.loader_options() == {} and config_attributes(celeba) == list(PAPER_ATTRIBUTES)


def test_unknown_dataset_and_foreign_options_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset='ffhq' is not a known dataset; valid datasets: "
                                          r"celeba, celebahq, rafd, custom$"):  # fmt: skip
        get_dataset("ffhq")
    with pytest.raises(
        ConfigError, match="data.dataset='ffhq' is not valid; choose one of: celeba, celebahq, rafd"
    ):
        apply_overrides(load_config("synthetic-stargan-64-baseline"), ["data.dataset=ffhq"])
    with pytest.raises(ConfigError, match="option 'split_seed' applies to rafd, not celeba"):
        build_dataset("celeba", tmp_path, split_seed=3)
    with pytest.raises(ConfigError, match="--split-scheme applies to celeba, celebahq, not rafd; rafd's"):
        check_options("rafd", {"split_scheme": "paper"}, flags=True)
    with pytest.raises(ConfigError, match="option 'colour' is unknown for custom"):
        check_options("custom", {"colour": 1})


def test_data_check_cli_options_follow_the_table(tmp_path, capsys):
    from secgan.cli import main

    root = write_rafd(tmp_path / "rafd", 4, cameras=("090",), gazes=("frontal",), size=(17, 26))
    assert main(["data", "check", str(root), "--dataset", "rafd", "--cameras", "090", "--split-seed", "5",
                 "--no-progress"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert '"split_seed": 5' in out and '"cameras": [\n' in out
    assert main(["data", "check", str(root), "--dataset", "rafd", "--csv", "x.csv", "--no-progress"]) == 2
    assert "--csv applies to custom, not rafd" in capsys.readouterr().err


# ----------------------------------------------------------------------------- no name tests outside data/
def _name_tests(tree: ast.AST) -> list[int]:
    """Lines comparing against a dataset name (``x == "rafd"``, ``x in ("celeba", ...)``) or holding a
    literal of dataset names only (hard-coded choices)."""

    def names_in(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in DATASETS
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(isinstance(e, ast.Constant) and e.value in DATASETS for e in node.elts)
        return False

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(names_in(n) for n in [node.left, *node.comparators]):
            lines.append(node.lineno)
        elif (
            isinstance(node, (ast.Tuple, ast.List, ast.Set))
            and node.elts
            and all(isinstance(e, ast.Constant) and e.value in DATASETS for e in node.elts)
        ):  # a hard-coded list of dataset names (choices); a command line naming one is no test
            lines.append(node.lineno)
        elif isinstance(node, ast.MatchValue) and names_in(node.value):
            lines.append(node.lineno)
    return lines


def test_the_checker_finds_name_tests():
    code = 'a = x == "rafd"\nb = y not in ("celeba", "x")\nc = ["custom"]\nd = f("rafd")\ne = x == "stargan"'
    code += '\nargv = ["--dataset", "celeba"]'
    assert sorted(set(_name_tests(ast.parse(code)))) == [1, 2, 3]


def test_no_module_outside_data_tests_a_dataset_name():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "data":
            continue
        found += [f"{rel}:{line}" for line in _name_tests(ast.parse(path.read_text()))]
    assert not found, f"dataset names tested outside data/ (use a trait of secgan.data.registry): {found}"
