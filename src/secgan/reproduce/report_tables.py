"""The per-attribute and per-group tables of ``DIR/report.md`` (one pair per primary comparison), with the
classifier's ceiling beside each attribute and a dagger on every attribute whose ceiling is below 95 %."""

from __future__ import annotations

from secgan.reporting.attribute_groups import group_of
from secgan.reporting.figures import ceiling_below_target
from secgan.reporting.verdict_text import NAMES, ONE_PAIR, title

SHORT_GROUP = {"shape": "shape", "facial_hair": "facial hair", "colour_texture": "colour/texture"}
CEILING_TARGET = 0.95
DAGGER = "†"


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def fmt_iv(e: dict | None, digits: int = 1, seed: int | None = None) -> str:
    """``"+1.2 [0.3, 2.1]"``; with ``seed``, the image-level interval of that seed (one-seed reports)."""
    if not e or e.get("estimate") is None:  # e.g. shape IoU of colour edits: undefined for every image
        return "—"
    if seed is not None:
        iv = (e.get("image_level") or {}).get(str(seed))
        e = {**e, **iv} if iv else {**e, "low": None}
    if e.get("low") is None:
        return f"{e['estimate']:+.{digits}f}"
    return f"{e['estimate']:+.{digits}f} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]"


def _p(v: float | None) -> str:
    return "—" if v is None else (f"{v:.2g}" if v >= 0.001 else "< 0.001")


def below_target(ceiling: dict | None) -> list[str]:
    """Attributes whose ceiling is below 95 %: the evaluation's own list when it wrote one, else computed."""
    return ceiling_below_target(ceiling, CEILING_TARGET)


def flag(attr: str, below: list[str]) -> str:
    return f"{attr} {DAGGER}" if attr in below else attr


def ceiling_footnote(ceiling: dict | None) -> list[str]:
    below = below_target(ceiling)
    if not below:
        return []
    per = (ceiling or {}).get("per_attribute") or {}
    vals = ", ".join(f"{a} {100 * per[a]:.1f} %" if per.get(a) is not None else a for a in below)
    return [
        f"{DAGGER} The evaluation classifier's ceiling (its accuracy on the ground-truth edits) is below "
        f"{100 * CEILING_TARGET:.0f} % for this attribute ({vals}): its accuracy is measured with an unreliable "
        "ruler, and an editor can score above the ceiling by drawing cues the classifier relies on. Read it "
        "beside the ground-truth metrics.",
        "",
    ]


def _word(e: dict, one_seed: bool) -> str:
    if one_seed:
        return "— (one seed)"
    return {"better": "helps", "worse": "hurts"}.get(e["verdict"], "inconclusive")


def helps_or_hurts(res: dict, cmp: dict) -> list[str]:
    """The group and per-attribute tables of one comparison (exploratory, Holm-adjusted)."""
    one_seed = cmp["n_seeds"] < 2
    seed = cmp["seeds"][0] if one_seed else None
    level = f"{cmp['level'] * 100:g} %"
    treated, control = NAMES.get(cmp["treated"], cmp["treated"]), NAMES.get(cmp["control"], cmp["control"])
    how = (
        f"one seed: the interval is {ONE_PAIR}; no verdict"
        if one_seed
        else f"{level} paired t-interval over {cmp['n_seeds']} seeds; p: paired t-test over seeds, Holm-adjusted "
        "within the table (statsmodels); *helps* / *hurts* need p (Holm) < 0.05"
    )
    heading = (
        f"## Per attribute: {title(cmp)} (one seed: what these two trained models did)"
        if one_seed
        else f"## Where the semantic branch helps or hurts: {title(cmp)} (exploratory)"
    )
    lines = [
        heading,
        "",
        f"Editing accuracy in points ({how}). Groups follow what the synthetic renderer changes "
        "(`secgan.reporting.attribute_groups`). These are many tests on one set of runs: read them as "
        "exploratory, not as verdicts.",
        "",
    ]
    gt_keys = list(cmp.get("ground_truth", {}))
    ceiling = res.get("accuracy_ceiling") or {}
    below = below_target(ceiling)
    if cmp.get("groups"):
        header = ["Group", "Attributes", "Δ accuracy", "p (Holm)", *[f"Δ GT {k}" for k in gt_keys], "Verdict"]
        lines += [row(header), "|" + "---|" * len(header)]
        for g in cmp["groups"].values():
            cells = [g["label"], ", ".join(flag(a, below) for a in g["attributes"]),
                     fmt_iv(g["accuracy"]), _p(g["accuracy"].get("p_holm"))]  # fmt: skip
            cells += [fmt_iv(g.get(f"gt_{k}"), 3) for k in gt_keys]
            lines.append(row([*cells, _word(g["accuracy"], one_seed)]))
        lines.append("")
    per_ceiling = ceiling.get("per_attribute") or {}
    in_d, off_d = ceiling.get("in_distribution"), ceiling.get("off_distribution")
    header = ["Attribute", "Group"]
    header += ["Ceiling (%)"] if per_ceiling else []
    header += ["Ceiling in / off distribution (%)"] if (in_d or off_d) else []
    header += [f"{control} (%)", f"{treated} (%)", "Δ accuracy", "p (Holm)", "Verdict"]
    header += [f"Δ GT {k}" for k in gt_keys]
    lines += [row(header), "|" + "---|" * len(header)]
    per_method = {
        m: res["methods"].get(m, {}).get("per_attribute", {}) for m in (cmp["control"], cmp["treated"])
    }
    for attr, e in cmp["per_attribute"].items():
        cells = [flag(attr, below), SHORT_GROUP.get(group_of(attr) or "", "—")]
        if per_ceiling:
            cells.append(_pct(per_ceiling.get(attr)))
        if in_d or off_d:
            cells.append(f"{_pct((in_d or {}).get(attr))} / {_pct((off_d or {}).get(attr))}")
        cells += [_pct(per_method[m].get(attr)) for m in (cmp["control"], cmp["treated"])]
        cells += [fmt_iv(e, 1, seed), _p(e.get("p_holm")), _word(e, one_seed)]
        cells += [fmt_iv(cmp["ground_truth"][k].get("per_attribute", {}).get(attr), 3) for k in gt_keys]
        lines.append(row(cells))
    lines.append("")
    if not one_seed:
        lines += [_helps_hurts(cmp), ""]
    return lines + ceiling_footnote(ceiling)


def _helps_hurts(cmp: dict) -> str:
    """One sentence naming the groups and the attributes whose Holm-adjusted p is below 0.05, each way."""
    groups = {g["label"]: g["accuracy"]["verdict"] for g in (cmp.get("groups") or {}).values()}
    attributes = {a: e["verdict"] for a, e in cmp["per_attribute"].items()}

    def line(what: str, verdicts: dict[str, str]) -> str:
        helps, hurts = ([n for n, v in verdicts.items() if v == word] for word in ("better", "worse"))
        return f"{what}, helps (Holm p < 0.05): {', '.join(helps) or 'none'}; hurts: {', '.join(hurts) or 'none'}."

    parts = [line("Groups", groups)] if groups else []
    return " ".join([*parts, line("Attributes", attributes)])


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}"
