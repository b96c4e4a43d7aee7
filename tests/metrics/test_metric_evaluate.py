"""End-to-end ``secgan evaluate`` on tiny exported models and a tiny synthetic CelebA-format dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from secgan.auxiliary.parser.frozen import FrozenParser
from secgan.data.attributes import PAPER_ATTRIBUTES, RAFD_EXPRESSIONS
from secgan.errors import ConfigError
from secgan.metrics.evaluate import EvalOptions, default_out_dir, evaluate
from secgan.metrics.per_image import load_per_image
from secgan.models.bisenet import BiSeNet
from secgan.models.classifier import AttributeClassifier
from secgan.models.export import save_pretrained
from secgan.models.stargan import StarGANGenerator

S = 32
ATTRS = list(PAPER_ATTRIBUTES)


def _editor_meta(mode: str = "baseline", **kw) -> dict:
    meta = {
        "kind": "editor",
        "attributes": ATTRS,
        "conditioning": "diff",
        "target_scale": 0.5,
        "image_size": S,
        "dataset": "celeba",
        "backbone": "stargan",
        "mode": mode,
        "needs_mask": mode == "concat",
        "lambda_sc": 0.01 if mode == "secgan" else 0.0,
        "iterations": 0,
        "seed": 0,
    }
    meta.update(kw)
    return meta


def _classifier_dir(path, attributes, multilabel=True):
    torch.manual_seed(0)
    net = AttributeClassifier(
        len(attributes), image_size=S, widths=(4, 4, 4, 4, 4), fc_dim=16, multilabel=multilabel
    )
    meta = {"kind": "classifier", "attributes": list(attributes), "multilabel": multilabel, "image_size": S}
    save_pretrained(path, {"classifier": net.eval()}, meta)
    return path


def _gen(in_ch=3, out_ch=3, output="tanh", n_attrs=len(ATTRS)):
    return StarGANGenerator(in_ch, out_ch, n_attrs=n_attrs, conv_dim=8, n_res=1, output=output)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 40-image synthetic dataset, a classifier, a parser and three exported models."""
    from secgan.data.synthetic.writer import write_dataset

    root = tmp_path_factory.mktemp("evalworld")
    write_dataset(root / "data", num=40, seed=1, workers=1, progress=False)
    torch.manual_seed(0)
    parser = FrozenParser(BiSeNet(base_width=4), input_size=S)
    parser.save(root / "parser", trained_on="test")
    pmeta = {"input_size": S, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    save_pretrained(root / "baseline" / "export", {"G": _gen()}, _editor_meta("baseline"))
    save_pretrained(root / "concat", {"G": _gen(in_ch=15)}, _editor_meta("concat"))
    save_pretrained(
        root / "secgan" / "export",
        {"G": _gen(), "G_seg": _gen(12, 12, "softmax"), "parser": parser.net},
        _editor_meta("secgan", parser=pmeta),
    )
    return {
        "root": root,
        "data": root / "data",
        "classifier": _classifier_dir(root / "cls", ATTRS),
        "parser": root / "parser",
    }


def _opts(world, model, **kw) -> EvalOptions:
    base = dict(
        model=model,
        data=world["data"],
        dataset="celeba",
        classifier=world["classifier"],
        split="all",
        max_images=8,
        batch=3,
        device="cpu",
        workers=0,
        num_examples=4,  # spans two batches
        cache_dir=world["root"] / "cache",
    )
    base.update(kw)
    return EvalOptions(**base)


def test_baseline_metrics_examples_and_cache(world):
    run = world["root"] / "baseline"
    m = evaluate(_opts(world, run))
    out = default_out_dir(run)
    assert out == run / "eval" and (out / "metrics.json").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["format"] == "secgan-metrics"
    acc = saved["accuracy"]
    assert set(acc["per_attribute"]) == set(ATTRS) and 0 <= acc["mean"] <= 1
    assert acc["mean"] == pytest.approx(np.mean(list(acc["per_attribute"].values())))
    assert acc["counts"] == {a: 8 for a in ATTRS}
    # Only the substitutes without SwAV/Inception weights; never under the names ssfid/fid/is.
    assert set(saved["distances"]) == {"fid_cls"} and set(saved["inception_scores"]) == {"is_cls"}
    assert len(saved["distances"]["fid_cls"]["per_attribute"]) == 13
    assert 1.0 <= saved["inception_scores"]["is_cls"]["mean"] <= 2.0
    assert any("swav_800ep_pretrain.pth.tar" in n for n in saved["notes"])
    proto = saved["protocol"]
    assert proto["num_images"] == 8 and proto["num_translations"] == 8 * 13 and proto["intensity"] == 1.0
    assert "G.safetensors" in proto["model_weights_sha256"]
    assert proto["feature_extractors"]["fid_cls"]["name"] == "classifier_penultimate"
    assert proto["generator_norm_stats"] == "input"
    assert proto["precision"] == "fp32"  # the default, recorded
    assert set(acc["conflict_rule_targets"]) == set(ATTRS)

    ex = np.load(out / "examples.npz")
    assert ex["images"].shape == (4, S, S, 3) and ex["images"].dtype == np.uint8
    assert ex["translations"].shape == (13, 4, S, S, 3) and ex["y_trg"].shape == (13, 4, 13)
    assert "mask_in" not in ex.files  # no parser for a baseline without --parser

    # per_image.npz: one row per test image, one column per attribute; its column means are the accuracies
    per = load_per_image(out)
    assert saved["per_image"] == "per_image.npz" and per is not None
    assert per.attributes == ATTRS and per.acc_correct.shape == (8, 13) and per.acc_correct.dtype == bool
    assert per.names[:4] == [str(n) for n in ex["names"]] and len(set(per.names)) == 8
    assert per.acc_correct.mean(0) == pytest.approx([acc["per_attribute"][a] for a in ATTRS])
    # the first 8 images are training images, whose counterfactuals (rendered for every split) are scored;
    # a baseline evaluated without --parser gets no shape metrics, and without --judge-parser no judged ones
    assert set(per.gt) == {"edit_l1", "edit_psnr", "preserve_l1", "preserve_psnr"}

    # A second evaluation with another batch size: same numbers (per-image norms), real stats from the cache.
    assert list((world["root"] / "cache").glob("classifier_penultimate-*.npz"))
    m2 = evaluate(_opts(world, run, batch=8, out=world["root"] / "b8"))
    assert m2["accuracy"]["per_attribute"] == pytest.approx(m["accuracy"]["per_attribute"])
    assert m2["distances"]["fid_cls"]["mean"] == pytest.approx(m["distances"]["fid_cls"]["mean"], rel=1e-4)
    per8 = load_per_image(world["root"] / "b8")
    assert per8.names == per.names and np.array_equal(per8.acc_correct, per.acc_correct)


class _Identity(nn.Module):
    """A generator that returns its input: translations are the real images."""

    def forward(self, x, c):
        return x[:, :3]


def _patch_identity(monkeypatch, model_dir, meta):
    """``load_pretrained(model_dir)`` gives the identity generator; other folders load as usual."""
    import secgan.models.export as export

    real = export.load_pretrained

    def fake(d, names=None, device="cpu"):
        if Path(d) == Path(model_dir):
            return {"G": _Identity()}, meta
        return real(d, names=names, device=device)

    monkeypatch.setattr(export, "load_pretrained", fake)


def test_identity_generator_closed_forms(world, monkeypatch, tmp_path):
    # Translations == real images: every group's Fréchet distance is 0, and an inverted target is met
    # exactly where the classifier disagrees with the source label on the real image.
    (tmp_path / "config.json").write_text(json.dumps({"format": "secgan-model"}))
    _patch_identity(monkeypatch, tmp_path, _editor_meta("baseline"))
    m = evaluate(_opts(world, tmp_path, out=tmp_path / "eval", cache_dir=tmp_path / "c"))
    assert m["distances"]["fid_cls"]["mean"] == pytest.approx(0.0, abs=1e-6)
    # an identity generator reconstructs exactly: L1 0, PSNR at its 100 dB cap, over every image
    rec = m["reconstruction"]
    assert (
        rec["l1"] == 0.0
        and rec["psnr"] == pytest.approx(100.0)
        and rec["images"] == m["protocol"]["num_images"]
    )
    real = m["classifier_on_real"]["per_attribute"]
    for a in ATTRS:
        assert m["accuracy"]["per_attribute"][a] == pytest.approx(1.0 - real[a], abs=1e-9), a


def test_ground_truth_metrics_and_per_image_arrays(world, monkeypatch, tmp_path):
    # Identity edits on the test split (with counterfactuals): nothing outside the changed region moves
    # (preservation at the PSNR cap), and the edit error is the input's distance to the counterfactual.
    from secgan.data.counterfactuals import load_counterfactual
    from secgan.data.registry import build_dataset

    (tmp_path / "config.json").write_text(json.dumps({"format": "secgan-model"}))
    _patch_identity(monkeypatch, tmp_path, _editor_meta("baseline"))
    opts = _opts(world, tmp_path, split="test", max_images=None, parser=world["parser"], out=tmp_path / "ev")
    m = evaluate(opts)
    gt = m["ground_truth"]
    assert gt["images"] == 4 and gt["missing"] == 0
    assert gt["preserve_l1"]["mean"] == 0.0 and gt["preserve_psnr"]["mean"] == 100.0
    assert gt["shape_iou"]["per_attribute"]["Pale_Skin"] is None  # a colour edit changes no segment
    assert 0 <= gt["shape_iou"]["per_attribute"]["Bangs"] <= 1 and 0 <= gt["miou"]["mean"] <= 1
    ds = build_dataset("celeba", world["data"], split="test", image_size=S)
    x = ds.load(0)["image"]
    cf, cf_mask, changed = load_counterfactual(world["data"], ds.names[0], "Bald", S)
    want = (x - cf).abs()[:, changed].mean().item()
    per = load_per_image(tmp_path / "ev")
    assert per.names == list(ds.names) and per.attributes == ATTRS
    assert set(per.gt) == {"shape_iou", "miou", "edit_l1", "edit_psnr", "preserve_l1", "preserve_psnr"}
    assert per.gt["edit_l1"].shape == (4, 13)
    assert per.gt["edit_l1"][0, ATTRS.index("Bald")] == pytest.approx(want, rel=1e-5)
    assert np.nanmean(per.gt["edit_l1"][:, 0]) == pytest.approx(
        gt["edit_l1"]["per_attribute"]["Bald"], rel=1e-5
    )
    ex = np.load(tmp_path / "ev" / "examples.npz")
    assert ex["counterfactuals"].shape == (13, 4, S, S, 3)
    np.testing.assert_array_equal(ex["counterfactual_masks"][0, 0], cf_mask.numpy())
    # switched off: no ground truth
    off = evaluate(_opts(world, tmp_path, split="test", out=tmp_path / "e2", ground_truth=False))
    assert off["ground_truth"] is None and load_per_image(tmp_path / "e2").gt == {}


def test_judge_parser_scores_shape_beside_the_training_parser(world, monkeypatch, tmp_path):
    # Identity edits on the test split, judged by an independent (random) U-Net: its shape IoU and mIoU
    # equal a by-hand computation with its parse of each edit, beside the training parser's own figures.
    from secgan.data.counterfactuals import load_counterfactual
    from secgan.data.registry import build_dataset
    from secgan.metrics.ground_truth import mean_iou, shape_iou
    from secgan.models.unet_parser import UNetParser
    from secgan.reporting.table import column_title

    torch.manual_seed(1)
    FrozenParser(UNetParser(base_width=4, n_down=2), input_size=S).save(
        tmp_path / "judge", trained_on="test", evaluation={"split": "test", "images": 4, "mean_iou": 0.5}
    )
    (tmp_path / "config.json").write_text(json.dumps({"format": "secgan-model"}))
    _patch_identity(monkeypatch, tmp_path, _editor_meta("baseline"))
    opts = _opts(world, tmp_path, split="test", max_images=None, batch=4, parser=world["parser"])
    m = evaluate(dataclasses.replace(opts, judge_parser=tmp_path / "judge", out=tmp_path / "ev"))
    judge = m["judge"]
    assert (judge["arch"], judge["dir"], judge["miou_vs_ground_truth"]) == (
        "unet_parser",
        str(tmp_path / "judge"),
        0.5,
    )
    assert judge["same_as_training_parser"] is False and m["protocol"]["parser"]["arch"] == "bisenet"

    ds = build_dataset("celeba", world["data"], split="test", image_size=S, masks="gt")
    items = [ds.load(i) for i in range(len(ds))]
    images, masks = torch.stack([it["image"] for it in items]), torch.stack([it["mask"] for it in items])
    judged = FrozenParser.load(tmp_path / "judge").labels12(images)  # the edits are the inputs
    per, gt = load_per_image(tmp_path / "ev"), m["ground_truth"]
    for ai, a in enumerate(ATTRS):
        cf_masks = torch.stack([load_counterfactual(world["data"], n, a, S)[1] for n in ds.names])
        want_shape = shape_iou(judged, cf_masks, masks).numpy()
        want_miou = mean_iou(judged, cf_masks).numpy()
        np.testing.assert_allclose(per.gt["judge_shape_iou"][:, ai], want_shape, rtol=1e-6)
        np.testing.assert_allclose(per.gt["judge_miou"][:, ai], want_miou, rtol=1e-6)
        assert gt["judge_miou"]["per_attribute"][a] == pytest.approx(want_miou.mean())
    assert gt["judge_miou"]["mean"] == pytest.approx(
        np.mean(list(gt["judge_miou"]["per_attribute"].values()))
    )
    assert not np.allclose(per.gt["judge_miou"], per.gt["miou"])  # another parser, other figures
    # each parser's own mIoU on the real inputs, against their ground-truth masks
    assert judge["miou_on_inputs"] == pytest.approx(mean_iou(judged, masks).mean().item())
    assert 0 <= m["protocol"]["parser"]["miou_on_inputs"] <= 1
    assert column_title("gt_judge_miou", gt["judge_miou"]) == "GT miou (independent judge) ↑"
    assert column_title("gt_shape_iou", gt["shape_iou"]) == "GT shape_iou (training parser) ↑"

    # the training parser given as its own judge: the judged figures are the training parser's, flagged
    same = evaluate(dataclasses.replace(opts, judge_parser=world["parser"], out=tmp_path / "e2"))
    per2 = load_per_image(tmp_path / "e2")
    np.testing.assert_array_equal(per2.gt["judge_shape_iou"], per2.gt["shape_iou"])
    np.testing.assert_array_equal(per2.gt["judge_miou"], per2.gt["miou"])
    assert same["judge"]["same_as_training_parser"] is True
    # without a judge: no judged keys
    none = evaluate(dataclasses.replace(opts, out=tmp_path / "e3"))
    assert none["judge"] is None and "judge_miou" not in none["ground_truth"]
    assert "judge_miou" not in load_per_image(tmp_path / "e3").gt


class _Oracle(nn.Module):
    """A perfect editor: per batch, the first call (the no-change reconstruction) returns the input, then call
    k returns the counterfactuals of attribute k-1 (the evaluation edits the attributes in order)."""

    def __init__(self, root, images: torch.Tensor, names: list[str]) -> None:
        super().__init__()
        self.root, self.images, self.names, self.calls = root, images, names, 0

    def forward(self, x, c):
        from secgan.data.counterfactuals import load_counterfactual

        k, self.calls = self.calls % (len(ATTRS) + 1), self.calls + 1
        if k == 0:
            return x[:, :3]
        rows = [int((self.images - xi).abs().flatten(1).amax(1).argmin()) for xi in x]  # which test images
        return torch.stack([load_counterfactual(self.root, self.names[r], ATTRS[k - 1], S)[0] for r in rows])


def test_a_perfect_editor_scores_the_accuracy_ceiling(world, monkeypatch, tmp_path):
    # An editor that outputs the ground-truth counterfactuals scores exactly the ceiling, per attribute, and
    # the ceiling of the evaluation equals the one computed from the data and the classifier alone.
    import secgan.models.export as export
    from secgan.auxiliary.classifier import load_classifier
    from secgan.data.registry import build_dataset
    from secgan.metrics.accuracy_ceiling import counterfactual_accuracy

    ds = build_dataset("celeba", world["data"], split="test", image_size=S)
    images = torch.stack([ds.load(i)["image"] for i in range(len(ds))])
    oracle = _Oracle(world["data"], images, list(ds.names))
    (tmp_path / "config.json").write_text(json.dumps({"format": "secgan-model"}))
    real = export.load_pretrained
    monkeypatch.setattr(
        export,
        "load_pretrained",
        lambda d, names=None, device="cpu": (
            ({"G": oracle}, _editor_meta()) if Path(d) == tmp_path else real(d, names=names, device=device)
        ),
    )
    # a classifier whose decisions sit on the fence (bias = minus the median logit): its calls on the real
    # images and on the counterfactuals differ
    torch.manual_seed(0)
    net = AttributeClassifier(len(ATTRS), image_size=S, widths=(4, 4, 4, 4, 4), fc_dim=16).eval()
    with torch.no_grad():
        net.head.bias -= net(images).median(0).values
    cls_dir = tmp_path / "cls"
    save_pretrained(
        cls_dir, {"classifier": net}, {"kind": "classifier", "attributes": ATTRS, "image_size": S}
    )
    m = evaluate(
        _opts(world, tmp_path, split="test", max_images=None, out=tmp_path / "ev", classifier=cls_dir)
    )
    ceiling = m["accuracy"]["ceiling"]
    assert ceiling["per_attribute"] == m["accuracy"]["per_attribute"] and ceiling["counts"]["Bald"] == 4
    cnet, cmeta = load_classifier(cls_dir)
    alone = counterfactual_accuracy(world["data"], cnet, cmeta, S, progress=False)
    assert alone["per_attribute"] == pytest.approx(ceiling["per_attribute"]) and alone["images"] == 4
    assert alone["mean"] == pytest.approx(ceiling["mean"])
    for key in ("ceiling_in_distribution", "ceiling_off_distribution", "ceiling_below_target"):
        assert m["accuracy"][key] == alone[key], key  # the same split of the same verdicts (docs/ruler.md)
    counts = m["accuracy"]["ceiling_distribution_counts"]
    assert all(c["in"] + c["off"] == ceiling["counts"][a] for a, c in counts.items())
    # an editor that changes nothing scores otherwise, against the same ceiling
    _patch_identity(monkeypatch, tmp_path, _editor_meta("baseline"))
    ident = evaluate(
        _opts(world, tmp_path, split="test", max_images=None, out=tmp_path / "e2", classifier=cls_dir)
    )
    assert ident["accuracy"]["ceiling"] == ceiling
    assert ident["accuracy"]["per_attribute"] != ceiling["per_attribute"]


class _TinyExpressions(torch.utils.data.Dataset):
    """8-expression one-hot labels, random images (the RaFD item format)."""

    def __init__(self, n=10):
        g = torch.Generator().manual_seed(0)
        self.images = torch.rand(n, 3, S, S, generator=g) * 2 - 1
        self.labels = torch.nn.functional.one_hot(torch.arange(n) % 8, 8).float()
        self.names = [f"rafd_{i}.jpg" for i in range(n)]
        self.attributes = list(RAFD_EXPRESSIONS)

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        return {"image": self.images[i], "label": self.labels[i], "index": i, "name": self.names[i]}


def test_expressions_identity_mean_accuracy_is_one_eighth(world, monkeypatch, tmp_path):
    # Each real image is classified as exactly one expression, so with translations == inputs exactly one
    # of the 8 edits of every image is "correct": the unweighted mean over expressions is 1/8.
    import secgan.data.registry as registry

    (tmp_path / "config.json").write_text(json.dumps({"format": "secgan-model"}))
    meta = _editor_meta("baseline", attributes=list(RAFD_EXPRESSIONS), dataset="rafd")
    _patch_identity(monkeypatch, tmp_path, meta)
    monkeypatch.setattr(registry, "build_dataset", lambda *a, **k: _TinyExpressions(10))
    cls = _classifier_dir(tmp_path / "cls8", RAFD_EXPRESSIONS, multilabel=False)
    m = evaluate(
        _opts(
            world, tmp_path, dataset="rafd", classifier=cls, out=tmp_path / "eval", cache_dir=tmp_path / "c"
        )
    )
    per = m["accuracy"]["per_attribute"]
    assert list(per) == list(RAFD_EXPRESSIONS)
    assert sum(per.values()) * 10 == pytest.approx(10)  # each image counted correct exactly once
    assert m["accuracy"]["mean"] == pytest.approx(1 / 8)
    per_image = load_per_image(tmp_path / "eval")
    assert per_image.acc_correct.shape == (10, 8)
    assert (per_image.acc_correct.sum(1) == 1).all()  # each image correct for exactly one expression
    assert 1.0 <= m["inception_scores"]["is_cls"]["mean"] <= 8.0


def test_concat_needs_parser_and_uses_it(world):
    model = world["root"] / "concat"
    with pytest.raises(ConfigError, match="--parser"):
        evaluate(_opts(world, model, out=world["root"] / "concat-eval"))
    m = evaluate(_opts(world, model, parser=world["parser"], out=world["root"] / "concat-eval"))
    ex = np.load(world["root"] / "concat-eval" / "examples.npz")
    assert ex["mask_in"].shape == (4, S, S) and ex["mask_in"].max() < 12
    assert m["protocol"]["parser"]["source"] == str(world["parser"])


def test_secgan_bundled_parser_and_gseg_masks(world):
    m = evaluate(_opts(world, world["root"] / "secgan"))
    ex = np.load(world["root"] / "secgan" / "eval" / "examples.npz")
    assert ex["mask_in"].shape == (4, S, S)
    assert ex["mask_out"].shape == (13, 4, S, S) and ex["mask_out"].max() < 12
    assert ex["mask_parsed_out"].shape == (13, 4, S, S)
    assert m["model"]["mode"] == "secgan" and m["model"]["lambda_sc"] == 0.01
    assert m["protocol"]["parser"]["source"] == "bundled"


def test_report_from_evaluated_runs(world, tmp_path):
    from secgan.reporting.report import build_report

    for name in ("baseline", "secgan"):
        if not (world["root"] / name / "eval" / "metrics.json").is_file():
            evaluate(_opts(world, world["root"] / name))
    res = build_report([world["root"] / "baseline", world["root"] / "secgan"], tmp_path / "rep")
    names = {p.split("/")[-1] for p in res["files"]}
    assert {"table.md", "table.csv", "runs.csv", "report.md"} <= names
    assert "figure4-celeba-32-stargan.png" in names and "figure5-celeba-32-stargan.png" in names
    table = (tmp_path / "rep" / "table.md").read_text()
    assert (
        "Baseline" in table and "SeCGAN" in table and "clsFID (substitute)" in table and "ssFID" not in table
    )


def test_missing_model_folder_is_a_user_error(world, tmp_path):
    from secgan.errors import WeightsError

    with pytest.raises(WeightsError, match="neither a run folder"):
        evaluate(_opts(world, tmp_path / "nothing"))


def test_cli_evaluates_in_fp32_unless_bf16_is_asked_for():
    from secgan.cli import build_parser

    argv = ["evaluate", "RUN", "--data", "D", "--dataset", "celeba", "--classifier", "C"]
    assert build_parser().parse_args(argv).precision == "fp32"
    assert build_parser().parse_args([*argv, "--precision", "bf16"]).precision == "bf16"
    assert build_parser().parse_args(argv).judge_parser is None
    assert build_parser().parse_args([*argv, "--judge-parser", "J"]).judge_parser == Path("J")
    assert EvalOptions(model=".", data=".", dataset="celeba", classifier=".").precision == "fp32"
