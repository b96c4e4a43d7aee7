"""A short ``secgan train`` under ``torchrun --nproc_per_node=1``: the process group (NCCL on CUDA, gloo on
CPU), checkpoint, resume and export, end to end through the public CLI. Prints JSON.

    python benchmarks/nccl_train.py --out /tmp/nccl --device cuda            # ~30 s on a GPU
    python benchmarks/nccl_train.py --out /tmp/nccl --device cpu --tiny      # the same path on a CPU

It renders a few synthetic faces, saves a randomly initialised parser (SeCGAN mode needs one; its weights
do not matter here), trains ``synthetic-stargan-64-secgan`` for ``--iters`` steps with a checkpoint, resumes
the run to ``--iters + --more`` steps, checks the run folder (``env.json``'s ``dist_backend``, checkpoints,
export) and edits a batch with the exported model through :class:`secgan.editing.Editor`. Exits 1 when a
check fails, with the failures listed in the JSON (``failures``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import _last_json_object  # noqa: E402

TINY = [
    "data.image_size=32",
    "train.batch_size=4",
    "model.g_conv_dim=8",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
]


def _train(args: argparse.Namespace, data: Path, parser: Path, run: Path, iters: int, resume: bool) -> dict:
    """One ``torchrun --standalone --nproc_per_node=1 -m secgan train`` call; returns its JSON and timing."""
    over = [f"train.iterations={iters}", f"log.checkpoint_every={args.iters}", "log.sample_every=1000000"]
    over += ["log.log_every=1", "train.decay_start=1", "data.num_workers=2"]
    if args.tiny:
        over += TINY
    if args.precision == "bf16":
        over.append("train.amp=true")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1"]
    cmd += ["-m", "secgan", "train", "--config", "synthetic-stargan-64-secgan", "--data", str(data)]
    cmd += ["--parser", str(parser), "--out", str(run), "--device", args.device, "--no-progress"]
    cmd += [a for o in over for a in ("--set", o)] + (["--resume"] if resume else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    out = {"returncode": proc.returncode, "seconds": round(time.perf_counter() - t0, 2)}
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        out["error_tail"] = (proc.stderr or proc.stdout)[-2000:]
        return out
    out["summary"] = _last_json_object(proc.stdout)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="work folder (data, parser, run)")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--precision", default="bf16", choices=("fp32", "bf16"))
    ap.add_argument(
        "--iters", type=int, default=20, help="steps of the first run (one checkpoint at the end)"
    )
    ap.add_argument("--more", type=int, default=10, help="steps added by the resumed run")
    ap.add_argument("--images", type=int, default=64, help="synthetic faces to render")
    ap.add_argument("--tiny", action="store_true", help="32 px, width-8 networks, batch 4 (dry runs)")
    args = ap.parse_args(argv)

    import torch

    from secgan.auxiliary.parser import FrozenParser
    from secgan.data.synthetic.writer import write_dataset
    from secgan.editing.editor import Editor
    from secgan.models.bisenet import BiSeNet

    root = Path(args.out)
    data, parser_dir, run = root / "data", root / "parser", root / "run"
    if not (data / "list_attr_celeba.txt").is_file():
        write_dataset(data, num=args.images, seed=0, workers=min(8, os.cpu_count() or 1), progress=False)
    torch.manual_seed(0)
    FrozenParser(BiSeNet(base_width=8), input_size=32 if args.tiny else 64).save(
        parser_dir, "random (benchmark)"
    )

    first = _train(args, data, parser_dir, run, args.iters, resume=False)
    result: dict = {"benchmark": "nccl_train", "device": args.device, "first_run": first, "failures": []}
    fail = result["failures"].append
    if first["returncode"] == 0:
        resumed = _train(args, data, parser_dir, run, args.iters + args.more, resume=True)
        result["resumed_run"] = resumed
        env = json.loads((run / "env.json").read_text())
        result["env"] = {
            k: env.get(k) for k in ("dist_backend", "world_size", "device", "gpu", "cuda", "cudnn")
        }
        want = "nccl" if args.device == "cuda" else "gloo"
        if env.get("dist_backend") != want:
            fail(f"env.json dist_backend is {env.get('dist_backend')!r}, expected {want!r}")
        ckpts = sorted(p.name for p in (run / "checkpoints").glob("step-*.pt"))
        result["checkpoints"] = ckpts
        total = args.iters + args.more
        if resumed["returncode"] != 0:
            fail("the resumed run failed")
        else:
            if resumed["summary"].get("step") != total:
                fail(f"the resumed run ended at step {resumed['summary'].get('step')}, expected {total}")
            if f"step-{args.iters:06d}.pt" not in ckpts or f"step-{total:06d}.pt" not in ckpts:
                fail(f"checkpoints {ckpts}: expected steps {args.iters} and {total}")
            stats = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
            result["logged_steps"] = [s["step"] for s in stats]
            if [s["step"] for s in stats] != list(range(1, total + 1)):
                fail("stats.jsonl does not hold every step once")
            result["img_per_s_last"] = stats[-1].get("img_per_s")
        try:
            editor = Editor.load(run / "export", device=args.device, precision=args.precision)
            x = torch.rand(4, 3, editor.image_size, editor.image_size) * 2 - 1
            y = editor.edit(
                x.to(args.device), {editor.attributes[0]: 1.0}, source=torch.zeros(len(editor.attributes))
            )
            result["export"] = {
                "files": sorted(p.name for p in (run / "export").iterdir()),
                "iterations": json.loads((run / "export" / "config.json").read_text()).get("iterations"),
                "edit_finite": bool(torch.isfinite(y).all()),
            }
            if not result["export"]["edit_finite"]:
                fail("the exported model's edit is not finite")
        except Exception as err:  # noqa: BLE001 - reported in the JSON
            fail(f"loading / editing with the export failed: {type(err).__name__}: {err}")
    else:
        fail("the torchrun training run failed")
    result["ok"] = not result["failures"]
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
