"""A pytest plugin (loaded by conftest.py): once pytest has printed its summary, the interpreter must exit.

A CI run once passed every test and then stayed alive until the job's time limit (an hour later its
upload-cleaner thread was still logging). If the process is still alive ``EXIT_GRACE_S`` seconds
(``$SECGAN_TEST_EXIT_GRACE_S``, default 60) after the session ends, the stacks of all threads go to stderr,
so the cause can be found, and the process exits with pytest's own exit status."""

import faulthandler
import os
import sys
import threading
import time

EXIT_GRACE_S = float(os.environ.get("SECGAN_TEST_EXIT_GRACE_S", "60"))
_exit_status = {"code": 1}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)
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
    os._exit(_exit_status["code"])


def pytest_unconfigure(config):
    threading.Thread(target=_watchdog, name="conftest-exit-watchdog", daemon=True).start()
    # a backstop that needs no GIL: dump and exit(1) if even the watchdog thread cannot run
    faulthandler.dump_traceback_later(3 * EXIT_GRACE_S, exit=True, file=sys.__stderr__)
