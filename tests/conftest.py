"""Suite-wide settings: one intra-op thread, in this process and in every `secgan` subprocess a test starts
(tiny convolutions run many times slower when threads fight over shared cores: `make test` runs one pytest
worker per core, and results are then independent of the machine's core count); and the exit watchdog of
exit_watchdog.py."""

import os

os.environ["OMP_NUM_THREADS"] = "1"  # inherited by subprocesses, read by torch when it starts there

import torch  # noqa: E402

pytest_plugins = ["exit_watchdog"]

torch.set_num_threads(1)
