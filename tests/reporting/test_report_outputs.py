"""``secgan report`` on hand-made evaluation folders: aggregation over seeds, the table files, the figures."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from scipy import stats

from secgan.errors import ConfigError
from secgan.reporting.report import build_report
from secgan.reporting.table import aggregate, load_run, table_markdown

ATTRS = ["Bald", "Bangs", "Male"]
S = 16


def write_run(
    root, name, mode, seed, acc, lam=None, fid_cls=1.0, is_cls=1.5, ssfid=None, examples=False, gt=None
):
    """A run folder with eval/metrics.json in the format ``secgan evaluate`` writes."""
    eval_dir = root / name / "eval"
    eval_dir.mkdir(parents=True)
    per = dict(zip(ATTRS, acc))
    m = {
        "format": "secgan-metrics",
        "version": 1,
        "model": {
            "run_dir": str(root / name),
            "dataset": "celeba",
            "backbone": "stargan",
            "mode": mode,
            "lambda_sc": lam if lam is not None else 0.0,
            "seed": seed,
            "image_size": S,
        },
        "accuracy": {"per_attribute": per, "mean": float(np.mean(acc))},
        "distances": {"fid_cls": {"per_attribute": {}, "mean": fid_cls}},
        "inception_scores": {"is_cls": {"mean": is_cls, "std": 0.1, "splits": []}},
        "protocol": {
            "dataset": "celeba",
            "split": "test",
            "num_images": 40,
            "intensity": 1.0,
            "resolution": S,
            "feature_extractors": {"fid_cls": {"weights_hash": "abc"}},
        },
        "notes": ["ssfid not computed"],
    }
    if ssfid is not None:
        m["distances"]["ssfid"] = {"per_attribute": {}, "mean": ssfid}
    if gt is not None:  # ground truth: {metric: per-attribute values}, as the counterfactual metrics write
        m["ground_truth"] = {
            k: {
                "per_attribute": dict(zip(ATTRS, v)),
                "mean": float(np.nanmean([x for x in v if x is not None])),
            }
            for k, v in gt.items()
        }
    (eval_dir / "metrics.json").write_text(json.dumps(m))
    if examples:
        rng = np.random.default_rng(seed)
        k = 2
        np.savez(
            eval_dir / "examples.npz",
            images=rng.integers(0, 255, (k, S, S, 3), dtype=np.uint8),
            names=np.array(["a.jpg", "b.jpg"]),
            y_src=np.array([[0, 1, 1], [1, 0, 0]], np.float32),
            groups=np.array(ATTRS),
            attributes=np.array(ATTRS),
            translations=rng.integers(0, 255, (3, k, S, S, 3), dtype=np.uint8),
            y_trg=np.zeros((3, k, 3), np.float32),
            correct=np.ones((3, k), bool),
            expressions=np.array(False),
            mask_in=rng.integers(0, 12, (k, S, S), dtype=np.uint8),
            mask_out=rng.integers(0, 12, (3, k, S, S), dtype=np.uint8),
            **(
                {
                    "counterfactuals": rng.integers(0, 255, (3, k, S, S, 3), dtype=np.uint8),
                    "counterfactual_masks": rng.integers(0, 12, (3, k, S, S), dtype=np.uint8),
                }
                if gt is not None
                else {}
            ),
        )
    return root / name


@pytest.fixture()
def runs(tmp_path):
    r = tmp_path / "runs"
    out = [
        write_run(r, "baseline-s0", "baseline", 0, [0.70, 0.80, 0.90], fid_cls=2.0, examples=True),
        write_run(r, "baseline-s1", "baseline", 1, [0.60, 0.80, 1.00], fid_cls=4.0),
        write_run(r, "concat-s0", "concat", 0, [0.75, 0.80, 0.85]),
        write_run(r, "secgan-s0", "secgan", 0, [0.90, 0.80, 0.90], lam=0.01, examples=True),
        write_run(r, "secgan-s1", "secgan", 1, [0.80, 0.90, 0.90], lam=0.01),
        write_run(r, "secgan-lsc0", "secgan", 0, [0.70, 0.70, 0.70], lam=0.0),
        write_run(r, "secgan-lsc1", "secgan", 0, [0.60, 0.70, 0.80], lam=1.0),
    ]
    return out


def test_rows_aggregate_seeds_only(runs):
    rows = aggregate([load_run(p) for p in runs])
    labels = [(row.first.method, row.first.lambda_sc, len(row.runs)) for row in rows]
    assert labels == [("baseline", None, 2), ("concat", None, 1), ("secgan", 0.0, 1), ("secgan", 0.01, 2),
                      ("secgan", 1.0, 1)]  # fmt: skip
    base = rows[0]
    mean, std = base.mean_std("accuracy")
    assert mean == pytest.approx(80.0) and std == pytest.approx(0.0)
    mean, std = base.mean_std("fid_cls")
    assert mean == pytest.approx(3.0) and std == pytest.approx(np.std([2.0, 4.0], ddof=1))
    per = base.per_attribute()
    assert per["Bald"][0] == pytest.approx(65.0) and per["Bald"][1] == pytest.approx(np.std([70, 60], ddof=1))


def test_markdown_table_names_and_substitutes(runs):
    md = table_markdown(aggregate([load_run(p) for p in runs]))
    lines = md.strip().splitlines()
    assert lines[0].startswith(
        "| Data | Res | Backbone | Method | Runs | Accuracy (%) ↑ | clsFID (substitute) ↓"
    )
    assert "ssFID" not in md  # no run has SwAV numbers
    assert "| celeba | 16 | stargan | Baseline | 2 | 80.00 ± 0.00 | 3.000 ± 1.414 |" in md
    assert "SeCGAN (λ_sc=0.01) | 2 | 86.67 ± 0.00" in md
    assert "Baseline + Concat | 1 | 80.00 |" in md


def test_report_files_and_csv(runs, tmp_path):
    res = build_report(runs, tmp_path / "rep")
    out = tmp_path / "rep"
    for f in ("table.md", "table.csv", "runs.csv", "report.md", "figure4-celeba-16-stargan.png",
              "figure5-celeba-16-stargan.png", "figure3-celeba-16-stargan.png"):  # fmt: skip
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
        assert str(out / f) in res["files"]
    rows = list(csv.DictReader(io.StringIO((out / "table.csv").read_text())))
    assert len(rows) == 5
    sec = [r for r in rows if r["method"] == "SeCGAN" and r["lambda_sc"] == "0.01"][0]
    assert float(sec["accuracy_mean"]) == pytest.approx(86.6667, rel=1e-4) and sec["seeds"] == "0 1"
    per_run = list(csv.DictReader(io.StringIO((out / "runs.csv").read_text())))
    assert len(per_run) == 7 and float(per_run[0]["acc_Bald"]) == pytest.approx(70.0)
    md = (out / "report.md").read_text()
    assert "![figure4-celeba-16-stargan](figure4-celeba-16-stargan.png)" in md
    assert "substitutes" in md and "+6.67 points" in md
    # no per_image.npz in these runs: the seed-level test needs only each seed's mean; both seeds differ by
    # exactly +6.67, so the t-interval is the degenerate [6.7, 6.7]
    assert (
        "Verdict: better: SeCGAN − Baseline: +6.7 points [6.7, 6.7] mean editing accuracy, 95 % paired " in md
    )
    assert "2 seeds (0, 1) (per-seed means; no per-image data), training budget not recorded" in md


def test_png_sizes_follow_layout(runs, tmp_path):
    from PIL import Image

    build_report(runs, tmp_path / "rep")
    w5, h5 = Image.open(tmp_path / "rep" / "figure5-celeba-16-stargan.png").size
    assert h5 > w5 / 3  # 3 edit rows x 7 columns
    w4, h4 = Image.open(tmp_path / "rep" / "figure4-celeba-16-stargan.png").size
    assert w4 > h4


def test_no_sweep_no_figure3(tmp_path):
    r = tmp_path / "runs"
    paths = [
        write_run(r, "b", "baseline", 0, [0.5, 0.5, 0.5]),
        write_run(r, "s", "secgan", 0, [0.6] * 3, lam=0.01),
    ]
    res = build_report(paths, tmp_path / "rep")
    names = [f.rsplit("/", 1)[-1] for f in res["files"]]
    assert not any(n.startswith("figure3") for n in names)
    assert not any(n.startswith("figure5") for n in names)  # no examples.npz


def test_missing_evaluation_is_a_user_error(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ConfigError, match="secgan evaluate"):
        build_report([tmp_path / "run"], tmp_path / "rep")


def test_cli_report_prints_json_and_user_errors_exit_2(runs, tmp_path, capsys):
    from secgan.cli import main

    assert main(["report", str(runs[0]), str(runs[3]), "--out", str(tmp_path / "rep")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 2 and out["rows"] == 2
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "rep2")]) == 2
    assert "secgan evaluate" in capsys.readouterr().err


def test_ground_truth_columns_figure4_and_figure5(tmp_path):
    from PIL import Image

    r = tmp_path / "runs"
    iou = {"shape_iou": [0.5, 0.7, None]}  # None: undefined for that attribute
    paths = [
        write_run(
            r,
            "b0",
            "baseline",
            0,
            [0.5] * 3,
            examples=True,
            gt={"shape_iou": [0.4, 0.6, None], "edit_l1": [0.2] * 3},
        ),
        write_run(
            r, "b1", "baseline", 1, [0.5] * 3, gt={"shape_iou": [0.6, 0.6, None], "edit_l1": [0.2] * 3}
        ),
        write_run(r, "s0", "secgan", 0, [0.6] * 3, lam=0.01, examples=True, gt={**iou, "edit_l1": [0.1] * 3}),
    ]
    res = build_report(paths, tmp_path / "rep")
    md = (tmp_path / "rep" / "table.md").read_text()
    assert "GT edit_l1 ↓ | GT shape_iou (training parser) ↑ |" in md.splitlines()[0] + " |"
    assert (
        "| Baseline | 2 | 50.00 ± 0.00 | 1.000 ± 0.000 | 1.500 ± 0.000 | 0.200 ± 0.000 | 0.550 ± 0.071 |"
        in md
    )
    rows = aggregate([load_run(p) for p in paths])
    assert rows[0].per_attribute("gt_shape_iou") == {"Bald": pytest.approx((0.5, np.std([0.4, 0.6], ddof=1))),
                                                     "Bangs": pytest.approx((0.6, 0.0))}  # fmt: skip
    names = {f.rsplit("/", 1)[-1] for f in res["files"]}
    assert {"figure4-gt_shape_iou-celeba-16-stargan.png", "figure4-gt_edit_l1-celeba-16-stargan.png"} <= names
    # Figure 5: original | Baseline | SeCGAN | ground truth | 2 heat maps | input mask | G_seg mask | GT mask
    w_gt, _ = Image.open(tmp_path / "rep" / "figure5-celeba-16-stargan.png").size
    paths_no_gt = [
        write_run(tmp_path / "r2", "b0", "baseline", 0, [0.5] * 3, examples=True),
        write_run(tmp_path / "r2", "s0", "secgan", 0, [0.6] * 3, lam=0.01, examples=True),
    ]
    build_report(paths_no_gt, tmp_path / "rep2")
    w_plain, _ = Image.open(tmp_path / "rep2" / "figure5-celeba-16-stargan.png").size
    assert w_gt > w_plain * 8.5 / 7 - 5  # two more columns (9 against 7)
    report_md = (tmp_path / "rep" / "report.md").read_text()
    assert "GT columns" in report_md
    assert "## Figure 4 analogue: per-attribute ground-truth shape_iou (figure4-gt_shape_iou-" in report_md
    # a metric name with a digit is still named as a ground-truth analogue, not as accuracy
    assert "## Figure 4 analogue: per-attribute ground-truth edit_l1 (figure4-gt_edit_l1-" in report_md
    assert "## Figure 4: per-attribute accuracy (figure4-celeba-16-stargan)" in report_md
    assert "accuracy ceiling" not in report_md  # these evaluations have no ceiling


def test_the_accuracy_ceiling_is_noted_and_drawn_in_figure4(tmp_path):
    import json

    from PIL import Image

    r = tmp_path / "runs"
    paths = [
        write_run(r, "b0", "baseline", 0, [0.5] * 3),
        write_run(r, "s0", "secgan", 0, [0.6] * 3, lam=0.01),
    ]
    build_report(paths, tmp_path / "plain")
    plain = np.asarray(Image.open(tmp_path / "plain" / "figure4-celeba-16-stargan.png").convert("L"))
    for p in paths:
        f = p / "eval" / "metrics.json"
        m = json.loads(f.read_text())
        m["accuracy"]["ceiling"] = {
            "mean": 0.9,
            "per_attribute": {"Bald": 0.95, "Bangs": 0.85, "Eyeglasses": 0.9},
        }
        f.write_text(json.dumps(m))
    build_report(paths, tmp_path / "ceil")
    md = (tmp_path / "ceil" / "report.md").read_text()
    assert "accuracy ceiling 90.00%" in md
    drawn = np.asarray(Image.open(tmp_path / "ceil" / "figure4-celeba-16-stargan.png").convert("L"))
    assert drawn.shape == plain.shape and (drawn != plain).any()  # the dashed marks and their legend entry


def test_a_torn_examples_file_is_one_line_not_an_eoferror(tmp_path):
    """A SIGKILL while examples.npz was written (before outputs were written atomically) left 0 bytes."""
    from types import SimpleNamespace

    from secgan.errors import DataError
    from secgan.reporting.figures import load_examples

    (tmp_path / "examples.npz").write_bytes(b"")
    run = SimpleNamespace(eval_dir=tmp_path)
    with pytest.raises(DataError, match=r"examples\.npz \(torn or damaged; run `secgan evaluate` again\)"):
        load_examples(run)


def test_figure3_points_are_seed_means_with_t_intervals_never_joined(tmp_path):
    from secgan.reporting.figures import _seed_interval
    from secgan.reporting.table import aggregate as rows_of

    r = tmp_path / "runs"
    paths = [write_run(r, f"b{s}", "baseline", s, [0.5 + 0.01 * s] * 3) for s in range(3)]
    paths += [write_run(r, f"l0-s{s}", "secgan", s, [a] * 3, lam=0.0) for s, a in enumerate((0.6, 0.7, 0.65))]
    paths += [write_run(r, "l1-s0", "secgan", 0, [0.8] * 3, lam=1.0)]  # one seed: a hollow point, no bar
    res = build_report(paths, tmp_path / "rep")
    assert any(f.endswith("figure3-celeba-16-stargan.png") for f in res["files"])
    rows = {(row.first.method, row.first.lambda_sc): row for row in rows_of([load_run(p) for p in paths])}
    mean, low, high, n = _seed_interval(rows[("secgan", 0.0)])
    vals = np.array([60.0, 70.0, 65.0])
    half = stats.t.ppf(0.975, 2) * vals.std(ddof=1) / np.sqrt(3)
    assert (mean, low, high, n) == pytest.approx((65.0, 65.0 - half, 65.0 + half, 3))
    mean1, low1, _, n1 = _seed_interval(rows[("secgan", 1.0)])
    assert (mean1, n1) == pytest.approx((80.0, 1)) and np.isnan(low1)


def test_figure3_puts_every_lambda_on_the_seeds_they_share(tmp_path):
    from secgan.reporting.figures import _seed_interval, sweep_seeds
    from secgan.reporting.table import aggregate as rows_of

    r = tmp_path / "runs"
    paths = [write_run(r, f"b{s}", "baseline", s, [0.5] * 3) for s in range(5)]
    main = (0.6, 0.7, 0.65, 0.2, 0.3)  # the main runs (λ 0.01) have seeds 0-4; seeds 3 and 4 score low
    paths += [write_run(r, f"m{s}", "secgan", s, [a] * 3, lam=0.01) for s, a in enumerate(main)]
    paths += [write_run(r, f"l0-s{s}", "secgan", s, [0.7] * 3, lam=0.0) for s in range(3)]
    rows = [row for row in rows_of([load_run(p) for p in paths]) if row.first.method == "secgan"]
    common = sweep_seeds(rows)
    assert common == {0, 1, 2}
    main_row = next(row for row in rows if row.first.lambda_sc == 0.01)
    assert _seed_interval(main_row, common)[::3] == pytest.approx((65.0, 3))  # not 49.0 over all 5 seeds
    assert _seed_interval(main_row)[::3] == pytest.approx((49.0, 5))
    assert sweep_seeds(rows[:1]) is None  # one λ: nothing to align
    res = build_report(paths, tmp_path / "rep")
    assert any(f.endswith("figure3-celeba-16-stargan.png") for f in res["files"])
