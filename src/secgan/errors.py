"""User-facing errors.

Anything raised as a :class:`SecganError` is a problem with the user's input (a missing file, a bad
attribute name, a malformed row...). The command line prints its message on one line and exits with
status 2 (:data:`EXIT_INPUT`), without a traceback. Programming errors keep their tracebacks (status 1).
"""

from __future__ import annotations

import re

# Exit status of the ``secgan`` command (documented in ``secgan --help`` and the README).
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: Python's own status for an uncaught exception, with its traceback
EXIT_INPUT = 2  # an input, output or option value was refused: one line names the file, field or value
EXIT_PARTIAL = 3  # the command did its work on some inputs and skipped others (each listed with its reason)
EXIT_USAGE = 64  # the command line itself is malformed (unknown command or option, missing argument)
EXIT_INTERRUPTED = 130  # SIGINT (143: SIGTERM) after saving what could be saved
EXIT_CODES_HELP = (
    "Exit status: 0 done; 1 internal error (a bug: a traceback is printed); 2 an input, output or option "
    "value was refused (one line says which and why); 3 some inputs were skipped (listed in the JSON); "
    "64 malformed command line (unknown option, missing argument); 130 / 143 stopped by SIGINT / SIGTERM "
    "after saving."
)


class SecganError(Exception):
    """A user error: the message must name the file, field or value at fault and, where it helps, the
    valid choices."""


class DataError(SecganError):
    """A dataset file is missing, malformed or unreadable."""


class ConfigError(SecganError):
    """A configuration value or command-line option is invalid."""


class WeightsError(SecganError):
    """A weights/checkpoint file is missing, of another architecture, or unsafe to load."""


class TrainingError(SecganError):
    """Training cannot go on (e.g. a loss became NaN or Inf)."""


class StorageError(SecganError):
    """An output cannot be written: the disk is full, the folder is read-only, or another process owns
    it (a locked run folder)."""


class CorruptFileError(WeightsError):
    """A weights file is damaged: its digest no longer matches, or it is no readable checkpoint at all."""


def original_message(err: BaseException) -> str:
    """The message of ``err``. A DataLoader worker re-raises the worker's exception with the worker's whole
    traceback in the message ("Caught DataError in DataLoader worker process 0 ... Original Traceback
    ... secgan.errors.DataError: <message>"): of such an error, the original message (its last line)."""
    text = str(err)
    if "Original Traceback" not in text:
        return text
    last = [line for line in text.splitlines() if line.strip()][-1]
    m = re.match(r"^[\w.]+: (.+)$", last)
    return m.group(1) if m else last
