"""benchmarks/learning_curves.py: a perfect editor's curve point, on a tiny synthetic dataset.

A perfect editor outputs the ground-truth counterfactuals, so the curve's accuracy must equal the accuracy
ceiling computed from the data and the classifier alone (the protocol of ``secgan evaluate``), its edit error
must be 0, and its shape IoU the parser's IoU on the true edits; batches smaller than the test split check
that each edit is scored against its own image's counterfactual.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from secgan.auxiliary.parser.frozen import FrozenParser
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.counterfactuals import load_counterfactual
from secgan.metrics.accuracy_ceiling import counterfactual_accuracy
from secgan.metrics.ground_truth_eval import GroundTruthScorer
from secgan.models.bisenet import BiSeNet
from secgan.models.classifier import AttributeClassifier

S = 32
ATTRS = list(PAPER_ATTRIBUTES)


@pytest.fixture(scope="module")
def curves(load_benchmark):
    return load_benchmark("learning_curves")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from secgan.data.synthetic.writer import write_dataset

    root = tmp_path_factory.mktemp("lcworld") / "data"
    write_dataset(root, num=40, seed=1, workers=1, progress=False)
    return root


class _Oracle(nn.Module):
    """Per batch: call 0 (the reconstruction G(x, 0)) returns the input, call k the counterfactuals of
    attribute k-1 (``evaluate_generator`` edits the attributes in order)."""

    def __init__(self, root: Path, images: torch.Tensor, names: list[str]) -> None:
        super().__init__()
        self.root, self.images, self.names, self.calls = root, images, names, 0

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        k, self.calls = self.calls % (len(ATTRS) + 1), self.calls + 1
        if k == 0:
            assert not c.any()  # the reconstruction asks for no change
            return x
        rows = [int((self.images - xi).abs().flatten(1).amax(1).argmin()) for xi in x]
        return torch.stack([load_counterfactual(self.root, self.names[r], ATTRS[k - 1], S)[0] for r in rows])


def test_a_perfect_editor_scores_the_ceiling_and_no_edit_error(curves, data):
    x, y, names = curves.load_test_set(str(data), ATTRS, S, 200)
    assert x.shape == (4, 3, S, S) and y.shape == (4, 13) and len(names) == 4
    # a classifier on the fence (bias = minus the median logit), so its calls on real and edited faces differ
    torch.manual_seed(0)
    cnet = AttributeClassifier(len(ATTRS), image_size=S, widths=(4, 4, 4, 4, 4), fc_dim=16).eval()
    with torch.no_grad():
        cnet.head.bias -= cnet(x).median(0).values
    cmeta = {"kind": "classifier", "attributes": ATTRS, "image_size": S, "multilabel": True}
    torch.manual_seed(0)
    parser = FrozenParser(BiSeNet(base_width=4), input_size=S)
    scorer = GroundTruthScorer(data, "test", ATTRS, S)
    res = curves.evaluate_generator(
        _Oracle(data, x, names), x, y, ATTRS, cnet, cmeta, batch=3, names=names, scorer=scorer, parser=parser
    )
    alone = counterfactual_accuracy(data, cnet, cmeta, S, progress=False)
    assert res["per_attribute"] == pytest.approx(alone["per_attribute"], abs=1e-4)
    assert res["accuracy"] == pytest.approx(alone["mean"], abs=1e-6)
    assert res["gt_edit_l1"] == 0.0  # every edit is its own image's counterfactual
    assert res["rec_l1"] == 0.0
    # shape IoU is defined for the shape edits only; a colour edit changes no segment
    assert res["gt_shape_iou_per_attribute"]["Pale_Skin"] is None
    assert 0.0 <= res["gt_shape_iou"] <= 1.0 and 0.0 <= res["gt_miou"] <= 1.0
    # Bangs: the parser's IoU on the true edits over the changed segments, by hand, image by image
    from secgan.data.registry import build_dataset
    from secgan.metrics.ground_truth import shape_iou

    ds = build_dataset("celeba", data, split="test", image_size=S, masks="gt")
    cf, cf_mask = zip(*[load_counterfactual(data, n, "Bangs", S)[:2] for n in names], strict=True)
    src = torch.stack([ds.load(i)["mask"].long() for i in range(4)])
    per = shape_iou(parser.labels12(torch.stack(cf)), torch.stack(cf_mask).long(), src)
    assert res["gt_shape_iou_per_attribute"]["Bangs"] == pytest.approx(float(per.nanmean()))
    # a judge scores with its own parse: given the training parser itself, it gives the same figures
    judged = curves.evaluate_generator(
        _Oracle(data, x, names), x, y, ATTRS, cnet, cmeta, batch=3, names=names,
        scorer=GroundTruthScorer(data, "test", ATTRS, S), parser=parser, judge=parser,
    )  # fmt: skip
    assert judged["gt_judge_shape_iou"] == pytest.approx(res["gt_shape_iou"])
    assert judged["gt_judge_miou"] == pytest.approx(res["gt_miou"])
    assert "gt_judge_shape_iou" not in res


def test_without_counterfactuals_the_curve_has_no_ground_truth(curves, data):
    x, y, names = curves.load_test_set(str(data), ATTRS, S, 2)
    torch.manual_seed(0)
    cnet = AttributeClassifier(len(ATTRS), image_size=S, widths=(4, 4, 4, 4, 4), fc_dim=16).eval()
    cmeta = {"kind": "classifier", "attributes": ATTRS, "image_size": S, "multilabel": True}
    res = curves.evaluate_generator(lambda xb, c: xb, x, y, ATTRS, cnet, cmeta)
    assert not any(k.startswith("gt_") for k in res)
    assert res["rec_l1"] == 0.0 and 0.0 <= res["accuracy"] <= 1.0


def test_final_point_reads_the_last_step_of_a_curve_and_a_metrics_file(curves, tmp_path):
    import json

    run = tmp_path / "r1"
    run.mkdir()
    rows = [
        {"run": "r1", "mode": "baseline", "step": 1000, "accuracy": 0.5, "rec_psnr": 20.0},
        {"run": "r1", "mode": "baseline", "step": 2000, "accuracy": 0.6, "rec_psnr": 21.0},
        {"run": "r1", "mode": "baseline", "step": 1000, "accuracy": 0.55, "rec_psnr": 20.5},  # re-evaluated
    ]
    (run / "curve.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert curves.final_point(run)["step"] == 2000 and curves.final_point(run)["accuracy"] == 0.6
    ev = tmp_path / "s1" / "eval"
    ev.mkdir(parents=True)
    from secgan.metrics.eval_files import FORMAT

    metrics = {
        "format": FORMAT,
        "model": {"mode": "secgan"},
        "accuracy": {"mean": 0.8},
        "reconstruction": {"psnr": 23.5},
        "ground_truth": {"shape_iou": {"mean": 0.66}},
    }
    (ev / "metrics.json").write_text(json.dumps(metrics))
    pt = curves.final_point(ev / "metrics.json")
    assert pt == {"run": "s1", "mode": "secgan", "accuracy": 0.8, "rec_psnr": 23.5, "gt_shape_iou": 0.66}
    out = tmp_path / "frontier.png"
    with pytest.raises(SystemExit, match="no curve points"):  # a run folder's validation curve by default
        curves.main(["frontier", str(run), "--out", str(out)])
    curves.main(["frontier", str(run), str(ev / "metrics.json"), "--out", str(out), "--label", "r1=B",
                 "--split", "test"])  # fmt: skip
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="no curve points"):
        curves.final_point(tmp_path / "empty")


def test_strip_takes_each_runs_own_steps(curves, data, tmp_path):
    """``RUN@STEP,STEP`` selects that run's checkpoints; other runs use ``--steps``; absent steps are skipped."""
    import json

    from secgan.config import apply_overrides, load_config, to_dict
    from secgan.training.checkpoint import plain_state_dict, save_checkpoint
    from secgan.training.networks import build_networks

    cfg = apply_overrides(
        load_config("synthetic-stargan-64-baseline"), ["data.image_size=32", "model.g_conv_dim=4"]
    )
    runs = []
    for name in ("a", "b"):
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(json.dumps(to_dict(cfg)))
        for step in (100, 200):
            g = build_networks(cfg)["G_rgb"]
            save_checkpoint(run / "checkpoints", step, {"networks": {"G_rgb": plain_state_dict(g)}}, keep=5)
        runs.append(run)
    out = tmp_path / "strip.png"
    labels = curves.strip(
        curves.argparse.Namespace(
            runs=[f"{runs[0]}@200,300", str(runs[1])],
            data=str(data),
            steps=[100, 200],
            image=1,
            split="test",
            edits=["Bangs"],
            out=str(out),
        )
    )
    assert labels == ["a\n200", "b\n100", "b\n200"]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_each_split_has_its_own_curve_file(curves, tmp_path):
    import json

    run = tmp_path / "r"
    run.mkdir()
    (run / "curve.jsonl").write_text(json.dumps({"run": "r", "step": 500, "accuracy": 0.4}) + "\n")
    (run / "curve-val.jsonl").write_text(json.dumps({"run": "r", "step": 500, "accuracy": 0.7}) + "\n")
    assert curves.curve_name("test") == "curve.jsonl" and curves.curve_name("val") == "curve-val.jsonl"
    assert curves.read_curve(run)[0]["accuracy"] == 0.4  # the test curve, as before splits existed
    assert curves.read_curve(run, "val")[0]["accuracy"] == 0.7
    assert curves.load_curves([str(run)], [], "val")[0][1][0]["accuracy"] == 0.7
