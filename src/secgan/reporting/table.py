"""Table 1 of the paper from evaluation folders: one row per setting and method, mean ± std over seeds.

A *run* is one ``metrics.json`` (written by ``secgan evaluate``). Runs that share the setting (data,
resolution, backbone), the method, ``λ_sc`` and the evaluation protocol (split, number of images,
intensity, feature extractors) but differ in seed are aggregated into one row.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from secgan.metrics.eval_files import load_metrics
from secgan.metrics.registry import GT_PREFIX, HEADLINE, METRICS, lookup
from secgan.utils.io import atomic_path

log = logging.getLogger(__name__)

METHOD_NAMES = {"baseline": "Baseline", "concat": "Baseline + Concat", "secgan": "SeCGAN"}
METHOD_ORDER = ("baseline", "concat", "secgan")

# metric key -> (column title, higher is better): the headline metrics of the metric registry, in order.
METRIC_COLUMNS: dict[str, tuple[str, bool]] = {m.key: (m.heading, m.higher_is_better) for m in HEADLINE}


# Ground-truth (counterfactual) metrics, read generically from metrics.json when present:
#   metrics.json["ground_truth"][metric] = {"mean": float, "per_attribute": {attribute: float | None},
#                                           optional "higher_is_better": bool, optional "unit": str}
# They become columns "gt_<metric>", titled and directed by the metric registry; one it does not know is
# titled "GT <metric>", with ↑/↓ only when its metrics.json entry gives the direction.


def higher_is_better(metric: str, info: dict | None = None) -> bool | None:
    """A metric's direction (``"fid_cls"``, ``"gt_miou"`` or a ground-truth name such as ``"miou"``): the
    metric registry's, else ``info["higher_is_better"]`` when metrics.json says, else ``None`` (never
    guessed from the name)."""
    known = lookup(metric)
    if known is not None:
        return known.higher_is_better
    if info and isinstance(info.get("higher_is_better"), bool):
        return info["higher_is_better"]
    return None


def column_title(key: str, info: dict | None = None) -> str:
    """A column's title with its direction arrow (the registry's heading for a known metric)."""
    known = lookup(key)
    if known is not None:
        return known.heading
    metric = key[len(GT_PREFIX) :] if key.startswith(GT_PREFIX) else key
    arrow = {True: " ↑", False: " ↓", None: ""}[higher_is_better(metric, info)]
    return f"GT {metric}{arrow}"


@dataclass
class Run:
    """One evaluated model: its metrics.json and the values the table needs."""

    name: str
    path: Path  # the metrics.json
    metrics: dict[str, Any]
    dataset: str
    resolution: int
    backbone: str
    method: str
    lambda_sc: float | None
    seed: int | None
    values: dict[str, float]  # metric key -> number (accuracy in %)
    per_attribute: dict[str, float]  # attribute -> accuracy in %
    protocol_key: tuple
    # ground-truth metric (without "gt_") -> attribute -> value (the metric's own units)
    per_attribute_gt: dict[str, dict[str, float]] = field(default_factory=dict)

    def attribute_values(self, metric: str = "accuracy") -> dict[str, float]:
        """Per-attribute values of ``"accuracy"`` (%) or of a ground-truth metric (``"gt_<name>"``)."""
        if metric == "accuracy":
            return self.per_attribute
        return self.per_attribute_gt.get(
            metric[len(GT_PREFIX) :] if metric.startswith(GT_PREFIX) else metric, {}
        )

    @property
    def eval_dir(self) -> Path:
        return self.path.parent

    @property
    def setting(self) -> tuple[str, int, str]:
        return (self.dataset, self.resolution, self.backbone)


@dataclass
class Row:
    """Runs aggregated over seeds."""

    runs: list[Run] = field(default_factory=list)

    @property
    def first(self) -> Run:
        return self.runs[0]

    def mean_std(self, key: str) -> tuple[float, float] | None:
        vals = [r.values[key] for r in self.runs if key in r.values and _finite(r.values[key])]
        if not vals:
            return None
        return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0

    def per_attribute(self, metric: str = "accuracy") -> dict[str, tuple[float, float]]:
        """Attribute -> (mean, std over runs) of ``"accuracy"`` (%) or ``"gt_<name>"``."""
        names = list(self.first.attribute_values(metric))
        out = {}
        for a in names:
            vals = [r.attribute_values(metric)[a] for r in self.runs if a in r.attribute_values(metric)]
            out[a] = (float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)
        return out


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def load_run(path: str | os.PathLike) -> Run:
    """A run from a run folder (``RUN/eval/metrics.json``), an evaluation folder or a metrics.json."""
    m = load_metrics(path)
    mpath = Path(m["_path"])
    model = m.get("model", {})
    proto = m.get("protocol", {})
    values: dict[str, float] = {"accuracy": 100.0 * float(m["accuracy"]["mean"])}
    for key, d in (m.get("distances") or {}).items():
        values[key] = float(d["mean"])
    for key, d in (m.get("inception_scores") or {}).items():
        values[key] = float(d["mean"])
    gt_per_attribute: dict[str, dict[str, float]] = {}
    for metric, d in (m.get("ground_truth") or {}).items():
        if isinstance(d, dict) and _finite(d.get("mean")):
            values[GT_PREFIX + metric] = float(d["mean"])
            gt_per_attribute[metric] = {
                a: float(v) for a, v in (d.get("per_attribute") or {}).items() if _finite(v)
            }
    mode = model.get("mode") or "baseline"
    lam = model.get("lambda_sc")
    run_dir = model.get("run_dir")
    name = (
        Path(run_dir).name
        if run_dir
        else (mpath.parent.parent.name if mpath.parent.name == "eval" else mpath.parent.name)
    )
    extractors = tuple(
        sorted(
            (k, v.get("weights_sha256") or v.get("weights_hash") or "")
            for k, v in proto.get("feature_extractors", {}).items()
        )
    )
    return Run(
        name=name,
        path=mpath,
        metrics=m,
        dataset=str(model.get("dataset") or proto.get("dataset") or "?"),
        resolution=int(proto.get("resolution") or model.get("image_size") or 0),
        backbone=str(model.get("backbone") or "?"),
        method=str(mode),
        lambda_sc=float(lam) if lam is not None and mode == "secgan" else None,
        seed=model.get("seed"),
        values=values,
        per_attribute={
            k: 100.0 * float(v) for k, v in m["accuracy"]["per_attribute"].items() if v is not None
        },
        protocol_key=(proto.get("split"), proto.get("num_images"), proto.get("intensity"), extractors),
        per_attribute_gt=gt_per_attribute,
    )


def _method_rank(method: str) -> int:
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def aggregate(runs: Sequence[Run]) -> list[Row]:
    """Group runs that differ only in seed; rows ordered by setting, method, λ_sc."""
    rows: dict[tuple, Row] = {}
    for r in runs:
        key = (r.setting, r.method, r.lambda_sc, r.protocol_key)
        rows.setdefault(key, Row()).runs.append(r)
    seeds: dict[tuple, list] = {}
    for key, row in rows.items():
        s = [r.seed for r in row.runs]
        if len(s) != len(set(s)):
            log.warning("runs %s share setting, method, λ_sc and seed %s", [r.name for r in row.runs], s)
        seeds[key] = s
    return sorted(
        rows.values(),
        key=lambda row: (
            row.first.setting,
            _method_rank(row.first.method),
            row.first.lambda_sc if row.first.lambda_sc is not None else -1.0,
            str(row.first.protocol_key),
        ),
    )


def metric_keys(rows: Sequence[Row]) -> list[str]:
    """The metric columns present in any row, in table order."""
    return _keys([r for row in rows for r in row.runs])


def _keys(runs: Sequence[Run]) -> list[str]:
    present = {k for r in runs for k in r.values}
    return [k for k in METRIC_COLUMNS if k in present] + sorted(k for k in present if k.startswith(GT_PREFIX))


def gt_info(rows: Sequence[Row], key: str) -> dict | None:
    """metrics.json's own description of a ground-truth column (direction, unit), from the first run."""
    metric = key[len(GT_PREFIX) :]
    for row in rows:
        for r in row.runs:
            info = (r.metrics.get("ground_truth") or {}).get(metric)
            if isinstance(info, dict):
                return info
    return None


def _fmt(ms: tuple[float, float] | None, n: int, digits: int) -> str:
    if ms is None:
        return "–"
    mean, std = ms
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f}"


DIGITS = {m.key: m.digits for m in METRICS}


def _method_label(run: Run, show_lambda: bool) -> str:
    label = METHOD_NAMES.get(run.method, run.method)
    if show_lambda and run.lambda_sc is not None:
        label += f" (λ_sc={run.lambda_sc:g})"
    return label


def table_markdown(rows: Sequence[Row]) -> str:
    """The Table 1 analogue as GitHub markdown."""
    keys = metric_keys(rows)
    lambdas = {r.lambda_sc for row in rows for r in row.runs if r.method == "secgan"}
    show_lambda = len(lambdas) > 1
    protos = {row.first.protocol_key for row in rows}
    show_eval = len(protos) > 1
    head = ["Data", "Res", "Backbone", "Method", "Runs"] + [column_title(k, gt_info(rows, k)) for k in keys]
    if show_eval:
        head += ["Split", "Images", "Intensity"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    prev = None
    for row in rows:
        r = row.first
        setting = (r.dataset, f"{r.resolution}", r.backbone)
        cells = list(setting) if setting != prev else ["", "", ""]
        prev = setting
        cells += [_method_label(r, show_lambda), str(len(row.runs))]
        cells += [_fmt(row.mean_std(k), len(row.runs), DIGITS.get(k, 3)) for k in keys]
        if show_eval:
            split, n, intensity, _ = r.protocol_key
            cells += [str(split), str(n), f"{intensity:g}" if intensity is not None else "?"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table_csv(rows: Sequence[Row]) -> str:
    """One line per aggregated row: setting, method, λ_sc, number of runs, seeds, mean and std of each metric."""
    keys = metric_keys(rows)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "dataset",
            "resolution",
            "backbone",
            "method",
            "lambda_sc",
            "runs",
            "seeds",
            "split",
            "num_images",
            "intensity",
        ]
        + [f"{k}_{s}" for k in keys for s in ("mean", "std")]
    )
    for row in rows:
        r = row.first
        split, n, intensity, _ = r.protocol_key
        vals: list[Any] = []
        for k in keys:
            ms = row.mean_std(k)
            vals += [f"{ms[0]:.6g}", f"{ms[1]:.6g}"] if ms else ["", ""]
        w.writerow(
            [r.dataset, r.resolution, r.backbone, METHOD_NAMES.get(r.method, r.method),
             "" if r.lambda_sc is None else f"{r.lambda_sc:g}", len(row.runs),
             " ".join(str(x.seed) for x in row.runs), split, n, intensity] + vals
        )  # fmt: skip
    return buf.getvalue()


def runs_csv(runs: Sequence[Run]) -> str:
    """One line per run (no aggregation), with the per-attribute accuracies."""
    keys = _keys(runs)
    attrs: list[str] = []
    for r in runs:
        attrs += [a for a in r.per_attribute if a not in attrs]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["run", "dataset", "resolution", "backbone", "method", "lambda_sc", "seed", "metrics"] + keys
               + [f"acc_{a}" for a in attrs])  # fmt: skip
    for r in runs:
        w.writerow(
            [r.name, r.dataset, r.resolution, r.backbone, r.method, "" if r.lambda_sc is None else f"{r.lambda_sc:g}",
             r.seed, str(r.path)] + [f"{r.values[k]:.6g}" if k in r.values else "" for k in keys]
            + [f"{r.per_attribute[a]:.4g}" if a in r.per_attribute else "" for a in attrs]
        )  # fmt: skip
    return buf.getvalue()


def write_text(text: str, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
