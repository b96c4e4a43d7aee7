"""Peak memory of a benchmark: a helper the benchmarks import, and a wrapper for scripts that do not.

As a helper, ``peak_memory(device)`` returns this process's peak resident set size (``getrusage``; on
Linux the kernel's high-water mark, so run one configuration per process to attribute it) and, on CUDA,
``torch.cuda.max_memory_allocated`` (reset it with ``torch.cuda.reset_peak_memory_stats`` first).

As a script, it runs another benchmark script in this process and adds a ``peak_memory`` object to the
JSON object it prints:

    python benchmarks/memory.py benchmarks/eval_speed.py --images 64 --size 64
    python benchmarks/memory.py benchmarks/edit_latency.py --repeats 10 --no-photo

``peak_memory`` then holds ``rss_mib`` (this process; DataLoader worker processes are not included) and,
when the script used CUDA, ``cuda_max_allocated_gib`` and ``cuda_max_reserved_gib`` of the current device.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import runpy
import sys
from typing import Any


def _rss_mib(who: int) -> float:
    kib = resource.getrusage(who).ru_maxrss  # KiB on Linux (bytes on macOS)
    return round(kib / (2**20 if sys.platform == "darwin" else 1024), 1)


def current_rss_mib() -> float:
    """This process's resident set size now (Linux ``/proc``; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        import os

        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return _rss_mib(resource.RUSAGE_SELF)


def peak_memory(device: Any = None) -> dict[str, float]:
    """``{"rss_mib"}`` (this process's peak resident set size) and, for a CUDA ``device`` (or whenever CUDA
    was used when ``device`` is None), ``{"cuda_max_allocated_gib", "cuda_max_reserved_gib"}``."""
    out = {"rss_mib": _rss_mib(resource.RUSAGE_SELF)}
    torch = sys.modules.get("torch")
    if torch is None:
        return out
    dev = torch.device(device) if device is not None else None
    use_cuda = (dev is not None and dev.type == "cuda") or (
        dev is None and torch.cuda.is_available() and torch.cuda.is_initialized()
    )
    if use_cuda:
        out["cuda_max_allocated_gib"] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 3)
        out["cuda_max_reserved_gib"] = round(torch.cuda.max_memory_reserved(dev) / 2**30, 3)
    return out


def _last_json_object(text: str) -> dict:
    """The JSON object a benchmark printed (the last line starting with ``{`` that parses to the end)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                obj = json.loads("\n".join(lines[i:]))
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    raise ValueError("the benchmark printed no JSON object")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__ + "\n")
        return 0 if argv else 2
    script, args = argv[0], argv[1:]
    captured = io.StringIO()
    old_argv = sys.argv
    sys.argv = [script, *args]
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(captured):
            try:
                runpy.run_path(script, run_name="__main__")
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.argv = old_argv
    if code not in (0, None):
        sys.stdout.write(captured.getvalue())
        sys.stderr.write(f"{script} exited with status {code}\n")
        return code if isinstance(code, int) else 1
    result = _last_json_object(captured.getvalue())
    result["peak_memory"] = peak_memory()
    result["peak_memory"]["wrapped"] = script
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
