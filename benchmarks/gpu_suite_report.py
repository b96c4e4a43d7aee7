"""Summarise a GPU suite folder (benchmarks/gpu_suite.sh) into OUT/summary.json and check it.

    python benchmarks/gpu_suite_report.py OUT [--dry-run] [--budget S] [--started EPOCH_S]

Reads OUT/steps.tsv (one line per step: name, status, return code, seconds, time limit, required), each
step's OUT/<step>.json and the tests' OUT/pytest_gpu.xml (JUnit), and writes OUT/summary.json: the steps,
the tests, the training-speed table per precision variant and preset, the goals of issue 16 with the
measured values, the projected cost of the synthetic reproduction presets, and every step's JSON embedded
(``results``), so that the one file carries the figures. Exit status 1 when a step failed, timed out, wrote
no valid JSON, or (dry run, or a required step) was skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

TRAIN_STEPS = ("train_fp32", "train_bf16", "train_bf16_cl", "train_compile")
# steps whose result file is not OUT/<step>.json
TEXT_STEPS = {"pytest_gpu": "pytest_gpu.xml", "pytest_gpu_compile": "pytest_gpu_compile.xml"}
GOAL_PRESET = "celeba-stargan-128"
GOALS = {  # issue 16
    "secgan_it_per_s": (
        ">=",
        40.0,
        "SeCGAN-StarGAN 128 px, batch 16: it/s on one GPU (200K schedule < 1.5 h)",
    ),
    "secgan_over_baseline": ("<=", 2.0, "SeCGAN/Baseline time per iteration (StarGAN 128 px)"),
    "peak_memory_ratio": ("<=", 1.5, "SeCGAN peak CUDA memory / Baseline's (StarGAN 128 px)"),
    "eval_translations_per_s": (">=", 500.0, "evaluation translations/s at 128 px (secgan evaluate)"),
}


def read_steps(out: Path) -> list[dict]:
    steps = []
    path = out / "steps.tsv"
    for line in path.read_text().splitlines() if path.is_file() else []:
        name, status, rc, secs, limit, required = (line.split("\t") + [""] * 6)[:6]
        steps.append(
            {
                "name": name,
                "status": status,
                "returncode": int(rc) if rc.strip() else None,
                "seconds": float(secs or 0),
                "timeout_s": int(float(limit or 0)),
                "required": required != "optional",
                "log": f"logs/{name}.log",
            }
        )
    return steps


def read_json(path: Path) -> tuple[dict | None, str | None]:
    if not path.is_file():
        return None, f"{path.name} was not written"
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        return None, f"{path.name} is not valid JSON ({err.msg} at line {err.lineno})"
    if not isinstance(obj, dict):
        return None, f"{path.name} holds no JSON object"
    return obj, None


def parse_junit(path: Path) -> tuple[dict | None, str | None]:
    """Counts, failed tests (name and first line of the message) and per-test seconds of a JUnit file."""
    if not path.is_file():
        return None, f"{path.name} was not written"
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        return None, f"{path.name} is not valid XML ({err})"
    out: dict = {"passed": 0, "failed": [], "skipped": 0, "seconds": {}}
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        out["seconds"][name] = round(float(case.get("time") or 0), 2)
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            out["failed"].append({"test": name, "message": (bad.get("message") or "").splitlines()[:1]})
        elif case.find("skipped") is not None:
            out["skipped"] += 1
        else:
            out["passed"] += 1
    return out, None


def merge_tests(parts: list[dict | None]) -> dict | None:
    """One count over the test steps (``pytest_gpu`` and ``pytest_gpu_compile``)."""
    parts = [p for p in parts if p]
    if not parts:
        return None
    return {
        "passed": sum(p["passed"] for p in parts),
        "skipped": sum(p["skipped"] for p in parts),
        "failed": [f for p in parts for f in p["failed"]],
        "seconds": {k: v for p in parts for k, v in p["seconds"].items()},
    }


def _preset_figures(result: dict, preset: str) -> dict | None:
    for key, fig in (result.get("summary") or {}).items():
        if key.split("@")[0] == preset:
            return fig
    return None


def train_table(results: dict) -> dict:
    """``{variant: {preset: {it/s per method, ratio, peak memory, projected hours}}}``."""
    table: dict = {}
    for name in TRAIN_STEPS:
        res = results.get(name)
        if not res:
            continue
        table[name] = {
            key: {
                "it_per_s": {m: v["it_per_s"] for m, v in fig["methods"].items()},
                "img_per_s": {m: v["img_per_s"] for m, v in fig["methods"].items()},
                "peak": {m: v["peak"] for m, v in fig["methods"].items()},
                "peak_basis": fig.get("peak_basis"),
                "secgan_over_baseline": fig.get("secgan_over_baseline"),
                "peak_memory_ratio": fig.get("peak_memory_ratio"),
                "projected_hours": fig.get("projected_hours"),
                "paper_iterations": fig.get("paper_iterations"),
            }
            for key, fig in (res.get("summary") or {}).items()
        }
    return table


def _goal(key: str, value: float | None, source: str | None, dry: bool) -> dict:
    op, target, what = GOALS[key]
    met = None
    if value is not None and not dry:
        met = value >= target if op == ">=" else value <= target
    return {
        "goal": key,
        "what": what,
        "target": f"{op} {target:g}",
        "value": value,
        "met": met,
        "source": source,
    }


def goals(results: dict, dry: bool) -> list[dict]:
    """The goals against the fastest variant's SeCGAN-StarGAN 128 figures (and evaluate's throughput)."""
    best, best_src = None, None
    for name in TRAIN_STEPS:
        fig = _preset_figures(results.get(name) or {}, GOAL_PRESET)
        sec = (fig or {}).get("methods", {}).get("secgan")
        if sec and (best is None or sec["it_per_s"] > best["methods"]["secgan"]["it_per_s"]):
            best, best_src = fig, name
    ev = results.get("eval_speed") or {}
    return [
        _goal("secgan_it_per_s", best["methods"]["secgan"]["it_per_s"] if best else None, best_src, dry),
        _goal("secgan_over_baseline", (best or {}).get("secgan_over_baseline"), best_src, dry),
        _goal("peak_memory_ratio", (best or {}).get("peak_memory_ratio"), best_src, dry),
        _goal(
            "eval_translations_per_s", ev.get("translations_per_second"), "eval_speed" if ev else None, dry
        ),
    ]


def reproduce_projection(demo: dict | None) -> dict:
    """GAN-training hours of each synthetic reproduction preset at the measured it/s per method of its own
    training preset (parser, classifier and evaluation not included); ``it_per_s``: the demo's."""
    if not demo:
        return {}
    out: dict = {}
    try:
        from secgan.config import load_config
        from secgan.reproduce.plans import PRESETS

        for name, p in PRESETS.items():
            fig = _preset_figures(demo, p.train_preset) if p.train_preset.startswith("synthetic-") else None
            if not fig:
                continue
            speed = {m: v["it_per_s"] for m, v in fig["methods"].items()}
            if name == "demo":
                out["it_per_s"] = speed
            overrides = dict(o.split("=", 1) for o in p.train_overrides if "=" in o)
            iters = (
                int(overrides.get("train.iterations", 0))
                or load_config(f"{p.train_preset}-secgan").train.iterations
            )
            secs = sum(iters / speed[r.method] for r in p.runs if speed.get(r.method))
            out[name] = {
                "train_preset": p.train_preset,
                "runs": len(p.runs),
                "iterations_per_run": iters,
                "gan_training_hours": round(secs / 3600, 3),
            }
    except Exception as err:  # noqa: BLE001 - the projection is a convenience
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--budget", type=float, default=None)
    ap.add_argument("--started", type=float, default=None, help="the suite's start (epoch seconds)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    steps = read_steps(out)
    results: dict = {}
    problems: list[str] = []
    for s in steps:
        if s["status"] == "skipped":
            if args.dry_run or s["required"]:
                problems.append(f"{s['name']}: skipped (out of time)")
            continue
        if s["name"] in TEXT_STEPS:
            obj, err = parse_junit(out / TEXT_STEPS[s["name"]])
            s["result_file"] = TEXT_STEPS[s["name"]]
        else:
            obj, err = read_json(out / f"{s['name']}.json")
            s["result_file"] = f"{s['name']}.json"
        s["result_ok"] = err is None
        if obj is not None:
            results[s["name"]] = obj
        if s["status"] != "ok":
            problems.append(f"{s['name']}: {s['status']} (rc {s['returncode']}, see {s['log']})")
        elif err:
            problems.append(f"{s['name']}: {err}")
    env = results.get("env") or {}
    tests = merge_tests([results.get(name) for name in TEXT_STEPS])
    if tests and tests["failed"]:
        problems.append(f"GPU tests: {len(tests['failed'])} failed")
    recorded = {}
    for f in sorted((out / "gpu_tests").glob("*.json")) if (out / "gpu_tests").is_dir() else []:
        obj, _ = read_json(f)
        recorded[f.stem] = obj
    summary = {
        "suite": "gpu_suite",
        "dry_run": args.dry_run,
        "device": env.get("gpu") or ("cpu (dry run)" if args.dry_run else None),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_s": round(time.time() - args.started, 1) if args.started else None,
        "budget_s": args.budget,
        "ok": not problems,
        "problems": problems,
        "steps": steps,
        "goals": goals(results, args.dry_run),
        "train_speed": train_table(results),
        "reproduce_projection": reproduce_projection(results.get("demo_sizing")),
        "tests": tests,
        "test_figures": recorded,
        "results": results,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for s in steps:
        sys.stderr.write(f"  {s['name']:<15} {s['status']:<8} {s['seconds']:>7.1f} s\n")
    for g in summary["goals"]:
        sys.stderr.write(f"  goal {g['goal']:<24} {g['target']:<8} value {g['value']} met {g['met']}\n")
    for p in problems:
        sys.stderr.write(f"  problem: {p}\n")
    sys.stderr.write(f"summary: {out / 'summary.json'} ({'ok' if not problems else 'with problems'})\n")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
