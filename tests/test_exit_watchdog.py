"""The exit watchdog (tests/exit_watchdog.py), injected for real: a pytest child whose passing test leaves a
non-daemon thread blocked forever still exits, with pytest's own status and the stuck thread's stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

_STUCK = """
import threading

def test_leaves_a_stuck_thread():
    threading.Thread(target=threading.Event().wait, name="stuck-forever", daemon=False).start()
    assert {PASS}
"""


def _run(tmp_path: Path, passing: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_stuck.py").write_text(_STUCK.replace("{PASS}", str(passing)))
    env = {**os.environ, "SECGAN_TEST_EXIT_GRACE_S": "2", "PYTHONPATH": str(HERE)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "exit_watchdog", "-p", "no:cacheprovider",
           "--rootdir", str(tmp_path), str(tmp_path / "test_stuck.py")]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_a_stuck_thread_cannot_keep_a_passed_session_alive(tmp_path):
    proc = _run(tmp_path, passing=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert "pytest still alive" in proc.stderr and "stuck-forever (non-daemon)" in proc.stderr
    assert "in _shutdown" in proc.stderr  # the stacks: the main thread waits for the stuck one


def test_a_failed_session_keeps_its_failure_status(tmp_path):
    proc = _run(tmp_path, passing=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed" in proc.stdout
