"""The editor and ``secgan evaluate`` on CUDA agree with the CPU (fp32 within TF32 rounding, bf16 looser)."""

from __future__ import annotations

import time

import pytest
import torch

from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.editing.editor import Editor
from secgan.metrics.evaluate import EvalOptions, evaluate
from secgan.models.classifier import AttributeClassifier
from secgan.models.export import save_pretrained
from secgan.models.stargan import StarGANGenerator

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
S = 32
ATTRS = list(PAPER_ATTRIBUTES)
META = {
    "kind": "editor",
    "attributes": ATTRS,
    "conditioning": "diff",
    "target_scale": 0.5,
    "image_size": S,
    "dataset": "celeba",
    "backbone": "stargan",
    "mode": "baseline",
    "needs_mask": False,
    "lambda_sc": 0.0,
    "iterations": 0,
    "seed": 0,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from secgan.data.synthetic.writer import write_dataset

    root = tmp_path_factory.mktemp("cudaworld")
    write_dataset(root / "data", num=24, seed=1, workers=1, progress=False)
    torch.manual_seed(0)
    save_pretrained(root / "model", {"G": StarGANGenerator(n_attrs=len(ATTRS), conv_dim=16, n_res=2)}, META)
    cls = AttributeClassifier(len(ATTRS), image_size=S, widths=(4, 4, 4, 4, 4), fc_dim=16)
    save_pretrained(
        root / "cls",
        {"classifier": cls.eval()},
        {"kind": "classifier", "attributes": ATTRS, "multilabel": True, "image_size": S},
    )
    return root


@pytest.mark.parametrize("precision,tol", [("fp32", 2e-2), ("bf16", 0.15)])
def test_editor_on_cuda_matches_cpu(world, precision, tol, record):
    x = torch.rand(4, 3, S, S, generator=torch.Generator().manual_seed(0)) * 2 - 1
    source = torch.zeros(4, len(ATTRS))
    edits = {"Bangs": 1.0, "Young": -1.0}
    ref = Editor.load(world / "model", device="cpu").edit(x, edits, source=source)
    ed = Editor.load(world / "model", device="cuda", precision=precision)
    assert ed.device.type == "cuda" and next(ed.G.parameters()).is_cuda
    got = ed.edit(x.cuda(), edits, source=source)
    assert got.is_cuda and got.dtype == torch.float32 and got.shape == x.shape
    diff = float((got.cpu() - ref).abs().max())
    ed.edit(x.cuda(), edits, source=source)  # warm
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    ed.edit(x.cuda(), edits, source=source)
    torch.cuda.synchronize()
    record(max_abs_diff_vs_cpu=diff, edit_4_faces_s=time.perf_counter() - t0)
    assert diff <= tol


def _opts(world, device, out):
    return EvalOptions(
        model=world / "model",
        data=world / "data",
        dataset="celeba",
        classifier=world / "cls",
        out=world / out,
        split="all",
        batch=8,
        device=device,
        precision="fp32",
        workers=0,
        num_examples=2,
        cache_dir=world / f"cache-{out}",
    )


def test_evaluate_on_cuda_matches_cpu(world, record):
    cpu = evaluate(_opts(world, "cpu", "eval-cpu"))
    gpu = evaluate(_opts(world, "cuda", "eval-cuda"))
    assert gpu["protocol"]["device"].startswith("cuda")
    assert gpu["protocol"]["num_translations"] == cpu["protocol"]["num_translations"] == 24 * 13
    acc_c, acc_g = cpu["accuracy"]["per_attribute"], gpu["accuracy"]["per_attribute"]
    # a prediction near the threshold may flip under TF32 rounding: at most 1 of 24 images per attribute
    assert all(abs(acc_g[a] - acc_c[a]) <= 1 / 24 + 1e-9 for a in ATTRS), (acc_c, acc_g)
    fid_c, fid_g = cpu["distances"]["fid_cls"]["mean"], gpu["distances"]["fid_cls"]["mean"]
    record(
        accuracy_cpu=cpu["accuracy"]["mean"], accuracy_cuda=gpu["accuracy"]["mean"], fid_cls=[fid_c, fid_g]
    )
    assert fid_g == pytest.approx(fid_c, rel=5e-2, abs=1e-2)
