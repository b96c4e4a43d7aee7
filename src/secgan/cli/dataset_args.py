"""``--dataset`` and the dataset options (``--split-scheme``, ``--cameras``, ``--split-seed``, ...) of the
commands that read a dataset, built from the dataset table (:mod:`secgan.data.registry`): a dataset added
to the table appears in every command's choices and its options become flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


def add_dataset_argument(
    p: argparse.ArgumentParser,
    required: bool = True,
    names: Sequence[str] | None = None,
    help: str = "dataset loader",
) -> None:
    """``--dataset`` with the table's names (or ``names``, a subset chosen by trait) as its choices."""
    from secgan.data.registry import DATASETS

    p.add_argument("--dataset", required=required, default=None, choices=list(names or DATASETS), help=help)


def add_dataset_options(p: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """One flag per loader option of the table (of the datasets ``names``), default ``None`` (the
    loader's default); each help says which datasets take it."""
    from secgan.data.registry import all_options

    for _name, (opt, takers) in all_options().items():
        takers = [t for t in takers if names is None or t in names]
        if not takers:
            continue
        p.add_argument(
            opt.flag,
            default=None,
            type=int if opt.kind == "int" else str,
            choices=_choices(opt.name, takers),
            help=f"{', '.join(takers)}: {opt.help}",
        )


def _choices(option: str, takers: list[str]) -> list[str] | None:
    """The union of the choices the datasets ``takers`` give ``option`` (``None``: free text)."""
    from secgan.data.registry import get_dataset

    out: list[str] = []
    for name in takers:
        opt = get_dataset(name).option(option)
        if opt is None or opt.choices is None:
            return None
        out += [c for c in opt.choices if c not in out]
    return out


def dataset_options(args: argparse.Namespace) -> dict[str, Any]:
    """The loader options given on the command line for ``args.dataset``; one that the dataset does not
    take is refused in one line naming the datasets that do."""
    from secgan.data.registry import all_options, check_options, get_dataset

    given = {k: getattr(args, k) for k in all_options() if getattr(args, k, None) is not None}
    if args.dataset is None:
        return given
    check_options(args.dataset, given, flags=True)
    spec = get_dataset(args.dataset)
    return {k: spec.option(k).parse(v) for k, v in given.items()}  # type: ignore[union-attr]
