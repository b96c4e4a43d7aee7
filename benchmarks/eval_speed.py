"""Evaluation throughput: translations (and test images) per second of ``secgan evaluate``.

Builds, in a temporary folder, a synthetic CelebA-format test set, a freshly initialised StarGAN generator
(exported like a trained one) and an evaluation classifier, then times :func:`secgan.metrics.evaluate.evaluate`
end to end (data loading, 13 edits per image, classification, features, statistics). With
``--random-extractors`` the SwAV ResNet-50 and Inception-v3 run too, with random weights saved to temporary
files in the public layouts (their speed does not depend on the weights). Prints one JSON object.

    python benchmarks/eval_speed.py --images 64 --size 64 --batch 32
    python benchmarks/eval_speed.py --images 512 --size 128 --conv-dim 64 --n-res 6 --random-extractors --device cuda
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=64, help="test images (x13 translations)")
    ap.add_argument("--size", type=int, default=64, help="image side")
    ap.add_argument("--conv-dim", type=int, default=16, help="generator width (paper: 64)")
    ap.add_argument("--n-res", type=int, default=3, help="generator residual blocks (paper: 6)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16"],
        help="generator precision (secgan evaluate's)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--random-extractors", action="store_true", help="also run SwAV ResNet-50 and Inception-v3"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from secgan.data.attributes import PAPER_ATTRIBUTES
    from secgan.data.synthetic.writer import write_dataset
    from secgan.metrics.evaluate import EvalOptions, evaluate
    from secgan.models.classifier import AttributeClassifier
    from secgan.models.export import save_pretrained
    from secgan.models.stargan import StarGANGenerator

    torch.manual_seed(args.seed)
    attrs = list(PAPER_ATTRIBUTES)
    with tempfile.TemporaryDirectory(prefix="secgan-evalbench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_dataset(
            root / "data", num=args.images, seed=args.seed, workers=args.workers or 1, progress=False
        )
        synth_s = time.perf_counter() - t0
        g = StarGANGenerator(3, 3, n_attrs=len(attrs), conv_dim=args.conv_dim, n_res=args.n_res)
        meta = {"kind": "editor", "attributes": attrs, "conditioning": "diff", "target_scale": 0.5,
                "image_size": args.size, "dataset": "celeba", "backbone": "stargan", "mode": "baseline",
                "needs_mask": False, "lambda_sc": 0.0, "iterations": 0, "seed": args.seed}  # fmt: skip
        save_pretrained(root / "model", {"G": g}, meta)
        cls = AttributeClassifier(len(attrs), image_size=args.size)
        save_pretrained(root / "cls", {"classifier": cls.eval()},
                        {"kind": "classifier", "attributes": attrs, "multilabel": True, "image_size": args.size})  # fmt: skip
        swav = inception = None
        if args.random_extractors:
            import torchvision
            from torchvision.models import inception as tv_inception

            r50 = torchvision.models.resnet50(weights=None)
            r50.fc = torch.nn.Identity()
            swav = root / "swav_800ep_pretrain.pth.tar"
            torch.save({f"module.{k}": v for k, v in r50.state_dict().items()}, swav)
            inc = tv_inception.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
            inception = root / "pt_inception-2015-12-05-6726825d.pth"
            torch.save(inc.state_dict(), inception)
        opts = EvalOptions(
            model=root / "model",
            data=root / "data",
            dataset="celeba",
            classifier=root / "cls",
            out=root / "eval",
            swav=swav,
            inception=inception,
            split="all",
            batch=args.batch,
            device=args.device,
            precision=args.precision,
            workers=args.workers,
            cache_dir=root / "cache",
            num_examples=4,
        )
        m = evaluate(opts)
    result = {
        "benchmark": "eval_speed",
        "device": m["protocol"]["device"],
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "precision": m["protocol"]["precision"],
        "images": m["protocol"]["num_images"],
        "translations": m["protocol"]["num_translations"],
        "image_size": args.size,
        "generator": {"conv_dim": args.conv_dim, "n_res": args.n_res},
        "batch": args.batch,
        "extractors": sorted(m["protocol"]["feature_extractors"]),
        "test_images_per_second": m["timing"]["test_images_per_second"],
        "translations_per_second": m["timing"]["translations_per_second"],
        "loop_seconds": m["timing"]["loop_seconds"],
        "total_seconds": m["timing"]["seconds"],
        "synth_seconds": round(synth_s, 3),
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
