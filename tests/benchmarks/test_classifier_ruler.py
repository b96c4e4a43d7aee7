"""classifier_ruler's choice of epochs: per variant and split, the fewest epochs whose mean ceiling over
seeds is within the tolerance of the best; rows written before variants existed count as noaug on test."""

from __future__ import annotations

import json


def test_choose_the_fewest_epochs_near_the_best(load_benchmark, tmp_path):
    ruler = load_benchmark("classifier_ruler")
    rows = [
        {"variant": "aug", "split": "val", "epochs": 5, "seed": 0, "ceiling": 0.96},
        {"variant": "aug", "split": "val", "epochs": 10, "seed": 0, "ceiling": 0.989},
        {"variant": "aug", "split": "val", "epochs": 20, "seed": 0, "ceiling": 0.990},
        {"variant": "aug", "split": "val", "epochs": 20, "seed": 1, "ceiling": 0.992},
        {"variant": "noaug", "split": "val", "epochs": 10, "seed": 0, "ceiling": 0.86},
        {"variant": "noaug", "split": "val", "epochs": 20, "seed": 0, "ceiling": 0.88},
        {"epochs": 4, "seed": 0, "ceiling": 0.74},  # an old row: noaug on the test split
    ]
    chosen = ruler.choose(rows)
    assert chosen["aug/val"]["epochs"] == 10  # 0.989 is within 0.005 of 20 epochs' mean 0.991
    assert abs(chosen["aug/val"]["mean_ceiling_by_epochs"][20] - 0.991) < 1e-12
    assert chosen["noaug/val"]["epochs"] == 20 and chosen["noaug/test"]["epochs"] == 4
    assert ruler.choose(rows, tolerance=0.0)["aug/val"]["epochs"] == 20
    (tmp_path / "ruler.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert set(ruler._done(tmp_path)) == {ruler._key(r) for r in rows}
