"""RaFD fidelity: ``secgan evaluate`` scores a run on the identities its data_split.json holds out (or
refuses another split), and the evaluation classifier takes the run's split seed."""

from __future__ import annotations

import json
import os

import pytest
import torch
from PIL import Image

from secgan.auxiliary.classifier.train import eval_classifier_dir, train_classifier
from secgan.data.attributes import RAFD_EXPRESSIONS
from secgan.data.rafd import split_identities
from secgan.data.registry import build_dataset
from secgan.errors import ConfigError
from secgan.metrics.evaluate import EvalOptions, evaluate
from secgan.metrics.per_image import load_per_image
from secgan.models.export import save_pretrained
from secgan.models.stargan import StarGANGenerator

S = 32
IDS = ["01", "02", "03", "04", "05", "06"]
SEED = next(s for s in range(1, 100) if split_identities(IDS, "random", s)[1] != split_identities(IDS)[1])


@pytest.fixture(scope="module")
def rafd_run(tmp_path_factory):
    """6 RaFD identities x 8 expressions (camera 090, frontal), a tiny editor trained (recorded) on the
    split of seed SEED, and a classifier trained on the same split."""
    tmp = tmp_path_factory.mktemp("rafdsplit")
    root = tmp / "rafd"
    root.mkdir()
    for m, model in enumerate(IDS):
        for e, expr in enumerate(RAFD_EXPRESSIONS):
            Image.new("RGB", (34, 51), (30 * e, 40 * m, 90)).save(root / "face.jpg")
            os.replace(root / "face.jpg", root / f"Rafd090_{model}_Caucasian_female_{expr}_frontal.jpg")
    run = tmp / "run"
    train = build_dataset("rafd", root, split="train", image_size=S, split_seed=SEED)
    run.mkdir()
    (run / "data_split.json").write_text(json.dumps(train.split_info))
    meta = {"kind": "editor", "attributes": list(RAFD_EXPRESSIONS), "conditioning": "diff", "image_size": S,
            "dataset": "rafd", "backbone": "stargan", "mode": "baseline", "needs_mask": False,
            "onehot_labels": True, "iterations": 0, "seed": 0}  # fmt: skip
    torch.manual_seed(0)
    g = StarGANGenerator(3, 3, n_attrs=8, conv_dim=8, n_res=1, output="tanh")
    save_pretrained(run / "export", {"G": g}, meta)
    cls = train_classifier(root, "rafd", S, tmp / "cls", epochs=1, batch_size=16, seed=0,
                           data_options={"split_seed": SEED}, augment=False)  # fmt: skip
    return {"root": root, "run": run, "cls": tmp / "cls", "cls_report": cls, "tmp": tmp}


def _opts(w, **kw) -> EvalOptions:
    base = dict(model=w["run"], data=w["root"], dataset="rafd", classifier=w["cls"], split="test", batch=8,
                device="cpu", workers=0, num_examples=0, is_splits=2, cache_dir=w["tmp"] / "cache")  # fmt: skip
    base.update(kw)
    return EvalOptions(**base)


def test_evaluate_scores_the_identities_the_run_held_out(rafd_run):
    m = evaluate(_opts(rafd_run, out=rafd_run["tmp"] / "eval"))
    held_out = split_identities(IDS, "random", SEED)[1]
    names = load_per_image(rafd_run["tmp"] / "eval").names
    assert sorted({n.split("_")[1] for n in names}) == held_out and len(names) == 8 * len(held_out)
    assert m["protocol"]["num_images"] == 8 * len(held_out)
    assert not [n for n in m["notes"] if "identities scored here" in n]  # the classifier's split is the run's
    # split seed 0 (the old default) holds out other identities, some of which the run trained on
    with pytest.raises(ConfigError, match=rf"split_seed={SEED}, this evaluation asks for 0 \(--split-seed\)"):
        evaluate(_opts(rafd_run, out=rafd_run["tmp"] / "eval0", data_options={"split_seed": 0}))


def test_the_classifier_takes_the_split_seed(rafd_run):
    record = json.loads((rafd_run["cls"] / "config.json").read_text())["data"]  # the classifier's meta
    train_ids, test_ids = split_identities(IDS, "random", SEED)
    assert record["options"] == {"split_seed": SEED}
    assert record["split"]["train_identities"] == train_ids and record["split"]["test_identities"] == test_ids
    assert rafd_run["cls_report"]["train_images"] == 8 * len(train_ids)
    # classifier eval defaults to the split it trained with: its held-out identities
    report = eval_classifier_dir(rafd_run["cls"], rafd_run["root"])
    assert report["images"] == 8 * len(test_ids)


def test_classifier_eval_options_update_the_recorded_ones(rafd_run, monkeypatch):
    import secgan.data.registry as registry

    real, seen = registry.build_dataset, {}

    def spy(*a, **k):
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(registry, "build_dataset", spy)
    eval_classifier_dir(rafd_run["cls"], rafd_run["root"], data_options={"cameras": ["090"]})
    assert seen["split_seed"] == SEED and seen["cameras"] == ["090"]  # the recorded seed is kept


def test_classifier_cli_passes_the_split_seed(monkeypatch):
    import secgan.auxiliary.classifier.train as train
    from secgan.cli import main

    seen = {}
    monkeypatch.setattr(train, "train_classifier", lambda *a, **k: seen.update(k) or {"ok": True})
    assert main(["classifier", "train", "--data", "D", "--dataset", "rafd", "--out", "O", "--split-seed",
                 "7", "--cameras", "045,090"]) == 0  # fmt: skip
    assert seen["data_options"] == {"split_seed": 7, "cameras": ["045", "090"]}
    assert main(["classifier", "train", "--data", "D", "--dataset", "celeba", "--out", "O", "--split-seed",
                 "7"]) == 2  # fmt: skip


def test_a_classifier_of_another_split_is_noted(rafd_run):
    # trained on split seed 0: some of its training identities are the ones the run holds out
    train_classifier(rafd_run["root"], "rafd", S, rafd_run["tmp"] / "cls0", epochs=1, batch_size=16,
                     data_options={"split_seed": 0}, augment=False)  # fmt: skip
    seen = sorted(set(split_identities(IDS)[0]) & set(split_identities(IDS, "random", SEED)[1]))
    assert seen  # SEED holds out an identity that seed 0 trains on
    m = evaluate(_opts(rafd_run, classifier=rafd_run["tmp"] / "cls0", out=rafd_run["tmp"] / "eval-cls0"))
    note = next(n for n in m["notes"] if "identities scored here" in n)
    assert f"trained on {len(seen)} of the" in note and f"--split-seed {SEED}" in note
