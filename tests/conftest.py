"""Suite-wide settings: one intra-op thread (tiny convolutions run many times slower when two threads fight
over two shared cores, and results are then independent of the machine's core count); and the exit
watchdog of exit_watchdog.py."""

import torch

pytest_plugins = ["exit_watchdog"]

torch.set_num_threads(1)
