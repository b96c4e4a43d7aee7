"""The sentences of a comparison (:func:`secgan.reporting.comparison.compare`): the verdict and the
ground-truth lines, worded so that they cannot claim more than the runs show.

- Two seeds or more: *better* / *worse* / *inconclusive* from the seed-level paired t-interval, with the
  t-test and exact sign-flip p-values (and the smallest p the sign-flip test can give with that many seeds).
- One seed: no verdict word. The sentence says what the two trained models did, with the interval labelled
  "over test images, for this one pair of trained models", and points to the multi-seed preset.
- Every sentence names its seeds, its number of test images and its training budget (iterations).
"""

from __future__ import annotations

NAMES = {"baseline": "Baseline", "concat": "Baseline + Concat", "secgan": "SeCGAN"}
MULTI_SEED = "`--preset standard` trains 8 seeds per method and gives the seed-level verdict"
ONE_PAIR = "over test images, for this one pair of trained models"


def _fmt_iv(e: dict, digits: int = 1) -> str:
    """``"+1.2 dB [0.3, 2.1]"`` (``"[-1, 1]"``-style units are value ranges, said after the interval)."""
    if e.get("estimate") is None:  # no image defines the metric (e.g. shape IoU over colour edits)
        return "undefined"
    unit, scale = (e.get("unit") or ""), ""
    if unit.startswith("["):  # a value range, e.g. "[-1, 1]" for an L1 on images in [-1, 1]: said after
        unit, scale = "", f" (images in {unit})"
    unit = f" {unit}" if unit else ""
    if e.get("low") is None or e.get("high") is None:
        return f"{e['estimate']:+.{digits}f}{unit} (no interval){scale}"
    return f"{e['estimate']:+.{digits}f}{unit} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]{scale}"


def _p(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{v:.2g}" if v >= 0.001 else "< 0.001"


def title(cmp: dict) -> str:
    """``"SeCGAN − Baseline"``."""
    return f"{NAMES.get(cmp['treated'], cmp['treated'])} − {NAMES.get(cmp['control'], cmp['control'])}"


def budget(cmp: dict) -> str:
    its = cmp.get("iterations") or []
    if not its:
        return "training budget not recorded"
    return " / ".join(f"{i:,}" for i in its) + " training iterations"


def describe_sample(cmp: dict) -> str:
    """``"3 seeds (0, 1, 2) × 300 test images, 3,000 training iterations"``."""
    n = cmp["n_seeds"]
    seeds = f"{n} seed{'s' if n != 1 else ''} ({', '.join(str(s) for s in cmp['seeds'])})"
    images = (
        f" × {cmp['n_images']} test images" if cmp.get("n_images") else " (per-seed means; no per-image data)"
    )
    return f"{seeds}{images}, {budget(cmp)}"


def _image_interval(entry: dict, seed: int) -> dict | None:
    iv = (entry.get("image_level") or {}).get(str(seed))
    return iv if iv and iv.get("low") is not None else None


def verdict_sentence(cmp: dict | None, treated: str = "SeCGAN", control: str = "Baseline") -> str:
    """The headline of one comparison (see the module docstring)."""
    if cmp is None:
        return f"not measured (no {treated} and {control} runs with a common seed)"
    acc, name = cmp["accuracy"], title(cmp)
    level = f"{cmp['level'] * 100:g} %"
    if cmp["n_seeds"] < 2:
        seed = cmp["seeds"][0]
        iv = _image_interval(acc, seed)
        shown = _fmt_iv({**acc, **iv}) if iv else _fmt_iv({**acc, "low": None, "high": None})
        where = f"{level} interval {ONE_PAIR}" if iv else "no interval (no per-image data)"
        return (
            f"one seed, so no verdict on the methods: the two trained models of seed {seed} differ by {name} "
            f"{shown} mean editing accuracy ({where}; {describe_sample(cmp)}); {MULTI_SEED}"
        )
    word = {"better": "better", "worse": "worse"}.get(acc["verdict"], "inconclusive")
    why = f" (the {level} interval includes 0)" if word == "inconclusive" else ""
    n = cmp["n_seeds"]
    return (
        f"{word}{why}: {name}: {_fmt_iv(acc)} mean editing accuracy, {level} paired t-interval over seeds "
        f"(t-test p = {_p(acc.get('p_t'))}; exact sign-flip p = {_p(acc.get('p_signflip'))}, which cannot go "
        f"below {_p(acc.get('p_signflip_floor'))} with {n} seeds); {describe_sample(cmp)}"
    )


def ground_truth_sentences(cmp: dict | None) -> list[str]:
    """One line per ground-truth metric: its difference, interval and, from 2 seeds, which method it favours."""
    if not cmp:
        return []
    out, name = [], title(cmp)
    arrow = {True: "↑", False: "↓", None: "(direction unknown)"}
    for key, e in cmp["ground_truth"].items():
        head = f"{key} {arrow[e['higher_is_better']]}: {name} "
        if cmp["n_seeds"] < 2:
            iv = _image_interval(e, cmp["seeds"][0])
            shown = (
                f"{_fmt_iv({**e, **iv}, 3)} {ONE_PAIR}"
                if iv
                else _fmt_iv({**e, "low": None, "high": None}, 3)
            )
            out.append(head + shown)
            continue
        judged = {
            "better": f"{NAMES.get(cmp['treated'])} better",
            "worse": f"{NAMES.get(cmp['treated'])} worse",
        }
        out.append(
            f"{head}{_fmt_iv(e, 3)} (paired t over {cmp['n_seeds']} seeds, p = {_p(e.get('p_t'))}): "
            + judged.get(e["verdict"], e["verdict"])
        )
    return out
