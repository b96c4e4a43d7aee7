"""A pytest plugin (loaded by conftest.py): once the test session has ended, the interpreter must exit.

A CI run once passed every test and then stayed alive until the job's time limit (an hour later its
upload-cleaner thread was still logging). If the process is still alive ``EXIT_GRACE_S`` seconds
(``$SECGAN_TEST_EXIT_GRACE_S``, default 120) after the session ends, the stacks of all threads go to stderr,
so the cause can be found, and the process exits with pytest's own exit status."""

import faulthandler
import os
import sys
import threading
import time

import pytest

EXIT_GRACE_S = float(os.environ.get("SECGAN_TEST_EXIT_GRACE_S", "120"))
_exit_status = {"code": 1}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Armed first thing at the session's end, before any plugin's own end-of-session work can hang."""
    _exit_status["code"] = int(exitstatus)
    threading.Thread(target=_watchdog, name="exit-watchdog", daemon=True).start()
    # a backstop that needs no GIL: dump and exit(1) if even the watchdog thread cannot run
    faulthandler.dump_traceback_later(3 * EXIT_GRACE_S, exit=True, file=sys.__stderr__)
    gradio = sys.modules.get("gradio")
    if gradio is not None:  # servers a test forgot to close would keep their threads alive
        gradio.close_all()


def _watchdog() -> None:
    time.sleep(EXIT_GRACE_S)
    err = sys.__stderr__
    names = ", ".join(f"{t.name}{'' if t.daemon else ' (non-daemon)'}" for t in threading.enumerate())
    err.write(f"\n[exit_watchdog] pytest still alive {EXIT_GRACE_S:.0f} s after the session ended\n")
    err.write(f"[exit_watchdog] threads: {names}; their stacks:\n")
    faulthandler.dump_traceback(file=err, all_threads=True)
    err.flush()
    for stream in (sys.stdout, sys.__stdout__):  # the summary pytest printed, if still buffered
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(_exit_status["code"])
