"""GPU-only tests (``pytest -m gpu``): skipped where CUDA is not available.

They reuse the trainer tests' tiny networks and data (tests/training/secgan_train_toys.py). When
``SECGAN_GPU_RECORD`` names a folder (the GPU suite sets it), each test that measures something writes it
there as ``<test>.json`` (deviations, timings), so the figures come back with the suite's results.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))


@pytest.fixture
def record(request):
    """``record(key=value, ...)``: keep figures of this test (written to $SECGAN_GPU_RECORD/<test>.json)."""
    figures: dict = {}
    yield figures.update
    folder = os.environ.get("SECGAN_GPU_RECORD")
    if folder and figures:
        Path(folder).mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("[", "-").replace("]", "")
        (Path(folder) / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
