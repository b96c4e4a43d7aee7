"""The parser and classifier training loops on a tiny in-memory dataset, and the classifier API."""

from __future__ import annotations

import math
from dataclasses import asdict

import torch

from secgan.auxiliary.classifier import load_classifier, predict_labels, predict_probs
from secgan.auxiliary.classifier.train import fit_classifier
from secgan.auxiliary.parser import FrozenParser
from secgan.auxiliary.parser.train import confusion_matrix, fit_parser, iou_report, log_probs12
from secgan.auxiliary.parser_settings import DEFAULTS, ParserTrainSettings
from secgan.data.masks import SEGMENTS_12, soft_19_to_12
from tiny_fixtures import TinyFaces


def test_log_probs12_equals_log_of_merged_softmax():
    z = torch.randn(2, 19, 5, 4) * 3
    torch.testing.assert_close(
        log_probs12(z), torch.log(soft_19_to_12(torch.softmax(z, 1))), atol=1e-5, rtol=1e-5
    )


def test_iou_report_by_hand():
    target = torch.tensor([[0, 0, 1, 1], [2, 2, 2, 11]])
    pred = torch.tensor([[0, 1, 1, 1], [2, 2, 11, 11]])
    rep = iou_report(confusion_matrix(pred, target))
    # skin: tp 1, union 2; eyebrows: tp 2, union 3; eyes: tp 2, union 3; others: tp 1, union 2
    assert rep["iou"]["skin"] == 0.5 and rep["iou"]["eyebrows"] == round(2 / 3, 4)
    assert rep["iou"]["eyes"] == round(2 / 3, 4) and rep["iou"]["others"] == 0.5
    assert rep["iou"]["hair"] is None  # never occurs: left out of the mean
    assert rep["mean_iou"] == round((0.5 + 2 / 3 + 2 / 3 + 0.5) / 4, 4)
    assert rep["pixel_accuracy"] == 0.75 and set(rep["iou"]) == set(SEGMENTS_12)


def test_fit_parser_learns_the_tiny_faces(tmp_path):
    train, test = TinyFaces(n=48, size=32, seed=0), TinyFaces(n=16, size=32, seed=1)
    result = fit_parser(train, test, tmp_path / "P", epochs=12, input_size=32)  # other settings: defaults
    assert result["steps"] == 12 * 6 and result["size"] == 32 and result["input_size"] == 32
    # predicting the majority segment everywhere scores ~0.64; the trained parser must do much better
    majority = max(torch.bincount(torch.stack([it["mask"] for it in test.items]).flatten()).tolist()) / (
        16 * 32 * 32
    )
    assert majority < 0.7
    assert result["pixel_accuracy"] > majority + 0.15
    assert result["iou"]["others"] > 0.8 and result["iou"]["skin"] > 0.6
    parser = FrozenParser.load(tmp_path / "P")
    assert parser.input_size == 32 and parser.meta["kind"] == "parser"
    # the settings it was trained with are recorded in its config
    want = {**asdict(DEFAULTS), "epochs": 12, "input_size": 32}
    assert result["settings"] == want and parser.meta["training"] == {**want, "image_size": 32}


def test_parser_defaults_run_the_network_at_256_px_at_least():
    assert DEFAULTS.input_size is None
    assert DEFAULTS.resolved(64).input_size == 256 and DEFAULTS.resolved(512).input_size == 512
    assert ParserTrainSettings(input_size=96).resolved(64).input_size == 96
    assert (DEFAULTS.lr, DEFAULTS.batch_size, DEFAULTS.base_width) == (3e-3, 8, 8)


def test_fit_classifier_multilabel_and_predict_api(tmp_path):
    train, test = TinyFaces(n=64, size=32, seed=0), TinyFaces(n=32, size=32, seed=1)
    result = fit_classifier(
        train,
        test,
        tmp_path / "C",
        ["Has_Hair", "Big_Mouth"],
        epochs=8,
        batch_size=16,
        widths=(8, 16),
        fc_dim=32,
    )
    assert result["accuracy"]["Has_Hair"] >= 0.9 and result["mean_accuracy"] >= 0.8
    net, meta = load_classifier(tmp_path / "C")
    assert meta["attributes"] == ["Has_Hair", "Big_Mouth"] and meta["multilabel"] and meta["image_size"] == 32
    images = torch.stack([it["image"] for it in test.items])
    labels = predict_labels(net, meta, images)
    assert labels.shape == (32, 2) and set(labels.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(labels, (predict_probs(net, meta, images) > 0.5).float())
    acc = (labels == test.labels).float().mean(0)
    assert abs(float(acc[0]) - result["accuracy"]["Has_Hair"]) < 1e-3
    # other resolutions are resized to the classifier's
    assert predict_labels(net, meta, torch.nn.functional.interpolate(images, size=64)).shape == (32, 2)


def test_fit_classifier_multiclass_one_hot(tmp_path):
    train, test = (
        TinyFaces(n=48, size=32, seed=0, one_hot=True),
        TinyFaces(n=16, size=32, seed=1, one_hot=True),
    )
    result = fit_classifier(
        train,
        test,
        tmp_path / "C",
        ["expr_a", "expr_b"],
        multilabel=False,
        epochs=2,
        batch_size=16,
        widths=(4, 8),
        fc_dim=16,
    )
    assert "overall_accuracy" in result and not result["multilabel"]
    net, meta = load_classifier(tmp_path / "C")
    labels = predict_labels(net, meta, torch.stack([it["image"] for it in test.items]))
    assert torch.equal(labels.sum(1), torch.ones(16))  # one-hot


def test_cosine_schedule_by_steps_and_by_time(monkeypatch):
    import secgan.auxiliary.cosine_lr as sched

    s = sched.CosineSchedule(total_steps=100, base_lr=1.0, warmup_steps=10)
    assert s.lr(0) == 0.1 and s.lr(9) == 1.0
    assert abs(s.lr(55) - 0.5) < 1e-9  # half-way through the decay
    lrs = [s.lr(k) for k in range(10, 100)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:])) and s.lr(100) == 0.0
    assert not s.done(99) and s.done(100)

    clock = [1000.0]
    monkeypatch.setattr(sched.time, "monotonic", lambda: clock[0])
    s = sched.CosineSchedule(total_steps=1000, base_lr=1.0, warmup_steps=10, time_limit=60.0)
    clock[0] += 30.0  # half the budget gone after only 20 steps: the decay follows the clock
    assert s.progress(20) == 0.5
    assert abs(s.lr(20) - 0.5 * (1 + math.cos(math.pi * (0.5 - 0.01) / 0.99))) < 1e-9
    clock[0] += 30.0
    assert s.done(40) and s.lr(40) == 0.0


def test_segment_weights_closed_form():
    from secgan.auxiliary.batches import BatchSource
    from secgan.auxiliary.parser.train import segment_weights

    class Masks(torch.utils.data.Dataset):
        def __init__(self):
            m = torch.zeros(4, 4, dtype=torch.long)
            m[0, :] = 2  # 4 of 16 pixels are eyes, 12 skin; nothing else occurs
            self.m = m

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {"image": torch.zeros(3, 4, 4), "label": torch.zeros(1), "index": i, "mask": self.m}

    w = segment_weights(BatchSource(Masks(), batch_size=2), power=0.5)
    f_skin, f_eyes = 0.75, 0.25
    z = f_skin * f_skin**-0.5 + f_eyes * f_eyes**-0.5
    torch.testing.assert_close(w[0], torch.tensor(f_skin**-0.5 / z))
    torch.testing.assert_close(w[2], torch.tensor(f_eyes**-0.5 / z))
    assert torch.all(w[[1, 3, 4, 5, 6, 7, 8, 9, 10, 11]] == w[2])  # absent segments: the largest weight


def test_predict_labels_decides_on_the_logit_sign_like_evaluate():
    # a logit of 4e-8 is "on" (evaluate's logits > 0), although float32's sigmoid rounds it to exactly 0.5
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return torch.tensor([[4e-8, -4e-8, 1.0]]).expand(x.shape[0], 3)

    meta = {"image_size": 8, "multilabel": True}
    x = torch.zeros(2, 3, 8, 8)
    assert float(predict_probs(Fixed(), meta, x)[0, 0]) == 0.5
    assert predict_labels(Fixed(), meta, x).tolist() == [[1.0, 0.0, 1.0]] * 2
