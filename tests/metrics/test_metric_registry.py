"""The metric registry lists every metric the evaluation writes exactly once, and the tables take their
titles and directions from it (no guessing from names)."""

from __future__ import annotations

import importlib

from secgan.metrics.distances import METRIC_KEYS
from secgan.metrics.ground_truth import ALL_METRICS, DIRECTIONS, UNITS
from secgan.metrics.registry import BY_KEY, GROUND_TRUTH, HEADLINE, METRICS, lookup
from secgan.reporting.table import METRIC_COLUMNS, column_title, higher_is_better

METERS = {
    "AccuracyCounter": "secgan.metrics.accuracy",
    "FeatureDistances": "secgan.metrics.distances",
    "GroundTruthCounter": "secgan.metrics.ground_truth",
}


def test_every_written_metric_is_registered_once():
    assert len(BY_KEY) == len(METRICS)  # keys are unique
    written = {k for pair in METRIC_KEYS.values() for k in pair if k is not None} | {"accuracy"}
    assert written == {m.key for m in HEADLINE}
    assert set(GROUND_TRUTH) == set(ALL_METRICS)  # what metrics/ground_truth.py computes
    assert DIRECTIONS["edit_l1"] is False and DIRECTIONS["judge_miou"] is True and UNITS["edit_psnr"] == "dB"


def test_every_metric_names_a_meter_with_update_and_summary():
    for m in METRICS:
        cls = getattr(importlib.import_module(METERS[m.meter]), m.meter)
        assert callable(getattr(cls, "update", None)) and callable(getattr(cls, "summary", None)), m.key


def test_tables_take_titles_and_directions_from_the_registry():
    assert list(METRIC_COLUMNS) == [m.key for m in HEADLINE]
    assert METRIC_COLUMNS["fid_cls"] == ("clsFID (substitute) ↓", False)
    for m in METRICS:
        assert column_title(m.key) == m.heading and higher_is_better(m.key) is m.higher_is_better
    assert lookup("miou") is BY_KEY["gt_miou"]
    assert column_title("gt_shape_iou") == "GT shape_iou (training parser) ↑"
    assert column_title("gt_judge_shape_iou") == "GT shape_iou (independent judge) ↑"
    # a ground-truth metric the registry does not know: directed only by what metrics.json says
    assert column_title("gt_sharpness_error") == "GT sharpness_error"
    assert column_title("gt_sharpness_error", {"higher_is_better": False}) == "GT sharpness_error ↓"
