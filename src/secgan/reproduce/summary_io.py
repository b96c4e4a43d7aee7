"""Reading the verdict parts of a ``results.json`` dict, new or old.

Files written since the seed-level verdict have ``verdict`` (``{comparison key: sentence}``) and
``comparisons`` (``{comparison key: secgan.reporting.comparison.compare(...)}``); older files have
``secgan_beat_baseline`` (one sentence) and ``comparison`` (SeCGAN − Baseline, a bootstrap over seeds and
test images). These helpers read both, so an old results.json still renders.
"""

from __future__ import annotations

from secgan.reporting.comparison import comparison_key

MAIN = comparison_key("secgan", "baseline")


def verdict_lines(results: dict) -> dict[str, str]:
    """``{comparison key: sentence}`` of a results dict."""
    if isinstance(results.get("verdict"), dict):
        return dict(results["verdict"])
    if results.get("secgan_beat_baseline"):
        return {MAIN: str(results["secgan_beat_baseline"])}
    return {}


def comparisons_of(results: dict) -> dict[str, dict]:
    """``{comparison key: comparison dict}`` of a results dict."""
    if isinstance(results.get("comparisons"), dict):
        return dict(results["comparisons"])
    if results.get("comparison"):
        return {MAIN: results["comparison"]}
    return {}


def headline(results: dict) -> str:
    """One line for the console: each primary comparison's verdict sentence, ``"; "``-joined with its name."""
    return " | ".join(f"{key.replace('_vs_', ' − ')}: {s}" for key, s in verdict_lines(results).items())
