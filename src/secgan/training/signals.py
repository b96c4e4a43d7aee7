"""SIGINT/SIGTERM during training: finish the step, checkpoint, stop (a second SIGINT interrupts at once)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[int], None], stopping: Callable[[], bool]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call ``stop(signum)`` (the trainer checks its flag after each
    step); a SIGINT while ``stopping()`` raises :class:`KeyboardInterrupt`. The previous handlers come
    back on exit. Outside the main thread (where handlers cannot be set) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stopping() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
