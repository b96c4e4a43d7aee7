"""``secgan report``: Table 1 (markdown + CSV) and Figures 3-5 (PNG) from evaluated runs."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secgan.errors import ConfigError
from secgan.reporting.comparison import compare, verdict_sentence
from secgan.reporting.figures import accuracy_ceiling, figure3, figure4, figure5, main_rows, setting_name
from secgan.reporting.table import (
    GT_PREFIX,
    METRIC_COLUMNS,
    Row,
    aggregate,
    column_title,
    gt_info,
    load_run,
    metric_keys,
    runs_csv,
    table_csv,
    table_markdown,
    write_text,
)

log = logging.getLogger(__name__)


def build_report(paths: Sequence[str | os.PathLike], out: str | os.PathLike) -> dict[str, Any]:
    """Read every run's ``metrics.json`` and write ``table.md``, ``table.csv``, ``runs.csv``,
    ``figure4-*.png`` (and ``figure4-gt_<metric>-*.png`` per ground-truth metric), ``figure5-*.png``, ``figure3-*.png`` (settings with a λ_sc sweep) and ``report.md``.

    Returns ``{"out", "runs", "rows", "files": [...]}``.
    """
    if not paths:
        raise ConfigError("no run folders given")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = [load_run(p) for p in paths]
    rows = aggregate(runs)
    files: list[Path] = [
        write_text(table_markdown(rows), out / "table.md"),
        write_text(table_csv(rows), out / "table.csv"),
        write_text(runs_csv(runs), out / "runs.csv"),
    ]
    by_setting: dict[tuple, list[Row]] = {}
    for row in rows:
        by_setting.setdefault(row.first.setting, []).append(row)
    figs: dict[str, list[Path]] = {"figure3": [], "figure4": [], "figure5": []}
    for setting, srows in by_setting.items():
        name = setting_name(setting)
        dataset, res, backbone = setting
        label = f"{dataset}, {res}×{res}, {backbone}"
        p = figure4(srows, out / f"figure4-{name}.png", f"Accuracy per attribute ({label})")
        if p:
            figs["figure4"].append(p)
        for key in [k for k in metric_keys(srows) if k.startswith(GT_PREFIX)]:  # ground-truth metrics
            col = column_title(key, gt_info(srows, key))
            p = figure4(srows, out / f"figure4-{key}-{name}.png", f"{col} per attribute ({label})", key, col)
            if p:
                figs["figure4"].append(p)
        p = figure5(srows, out / f"figure5-{name}.png", f"{{methods}} ({label})")
        if p:
            figs["figure5"].append(p)
        p = figure3(srows, out / f"figure3-{name}.png", f"Accuracy vs λ_sc ({label})")
        if p:
            figs["figure3"].append(p)
    for v in figs.values():
        files += v
    files.append(write_text(_report_md(runs, rows, figs, by_setting), out / "report.md"))
    log.info("report written to %s", out)
    return {"out": str(out), "runs": len(runs), "rows": len(rows), "files": [str(f) for f in files]}


def _interval_note(secgan: Row, baseline: Row) -> str:
    """The paired bootstrap verdict of two rows (from the runs' per_image.npz, else their per-seed means)."""
    runs = [*secgan.runs, *baseline.runs]
    rows = [
        {"run": f"{i}:{r.name}", "method": r.method, "seed": r.seed if r.seed is not None else i, "sweep": False,
         "per_attribute": {a: v / 100.0 for a, v in r.per_attribute.items()},
         "iterations": (r.metrics.get("model") or {}).get("iterations")}
        for i, r in enumerate(runs)
    ]  # fmt: skip
    cmp = compare(rows, {row["run"]: r.eval_dir for row, r in zip(rows, runs)})
    return f"Verdict: {verdict_sentence(cmp)}." if cmp else ""


def _report_md(runs, rows: list[Row], figs: dict[str, list[Path]], by_setting: dict) -> str:
    lines = ["# Results", "", "## Table 1", "", table_markdown(rows)]
    keys = {k for r in runs for k in r.values}
    notes = []
    if keys & {"fid_cls", "is_cls"}:
        notes.append(
            "clsFID / clsIS are in-domain substitutes computed with the evaluation classifier (penultimate "
            "features; predictions), not ssFID / IS: compare them only with each other."
        )
    lams = sorted({r.lambda_sc for r in runs if r.lambda_sc is not None})
    if lams:
        notes.append(f"SeCGAN λ_sc values: {', '.join(f'{x:g}' for x in lams)}.")
    for setting, srows in by_setting.items():
        main = main_rows(srows)
        if "secgan" in main and "baseline" in main:
            a, b = main["secgan"].mean_std("accuracy"), main["baseline"].mean_std("accuracy")
            if a and b:
                notes.append(
                    f"{setting_name(setting)}: SeCGAN {a[0]:.2f}% vs Baseline {b[0]:.2f}% mean accuracy "
                    f"({a[0] - b[0]:+.2f} points). {_interval_note(main['secgan'], main['baseline'])}"
                )
    for setting, srows in by_setting.items():
        ceiling = accuracy_ceiling(srows)
        if ceiling:
            notes.append(
                f"{setting_name(setting)}: accuracy ceiling {100 * ceiling['mean']:.2f}%, the evaluation "
                "classifier's accuracy on the ground-truth counterfactual edits (what a perfect editor scores; "
                "dashed marks in Figure 4)."
            )
    run_notes: dict[str, list[str]] = {}
    for r in runs:
        for note in r.metrics.get("notes", []):
            run_notes.setdefault(note, []).append(r.name)
    for note, names in run_notes.items():
        who = "all runs" if len(names) == len(runs) else ", ".join(names)
        notes.append(f"{note} ({who})")
    if notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    titles_present = [v[0] for k, v in METRIC_COLUMNS.items() if k in keys]
    titles_present += [column_title(k, gt_info(rows, k)) for k in sorted(keys) if k.startswith(GT_PREFIX)]
    lines += ["Columns: " + "; ".join(titles_present), ""]
    if any(k.startswith(GT_PREFIX) for k in keys):
        lines += [
            "GT columns: ground-truth metrics against the synthetic renderer's counterfactual faces "
            "(metrics.json `ground_truth`).",
            "",
        ]
    titles = {
        "figure4": "Figure 4: per-attribute accuracy",
        "figure5": "Figure 5: qualitative comparison",
        "figure3": "Figure 3: accuracy vs λ_sc",
    }
    for key in ("figure4", "figure5", "figure3"):
        for p in figs[key]:
            title = titles[key]
            gt = re.match(r"figure4-(gt_[a-z0-9_]+?)-", p.stem)
            if gt:  # a Figure 4 analogue of a ground-truth metric: name the metric, not accuracy
                title = f"Figure 4 analogue: per-attribute ground-truth {gt.group(1)[3:]}"
            lines += [f"## {title} ({p.stem})", "", f"![{p.stem}]({p.name})", ""]
    lines += ["## Runs", ""] + [f"- {r.name}: `{r.path}`" for r in runs] + [""]
    return "\n".join(lines)
