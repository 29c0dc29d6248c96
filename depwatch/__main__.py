"""``python -m depwatch`` and the ``depwatch`` command.

``--version`` is answered before the CLI framework is imported: a hook runs on every commit.

This is also the outermost boundary: an exception nothing else caught (a bug, or input no
reader foresaw) becomes one line on stderr and exit 2 — "the run could not be trusted" — never
a traceback and never exit 1, which a gate would read as "findings". The boundary is only here,
around the command as a user runs it; tests call the CLI app itself, where an unexpected
exception still fails the test with its own traceback. ``DEPWATCH_TRACEBACK=1`` shows it here
too.
"""

from __future__ import annotations

import contextlib
import os
import sys

#: Where to report a crash.
REPORT_URL = "https://github.com/depwatch/depwatch/issues"

#: Set to 1 to see the traceback of an internal error instead of the one-line message.
TRACEBACK_ENV = "DEPWATCH_TRACEBACK"


def _where(exc: BaseException) -> str:
    """The innermost depwatch frame of ``exc``'s traceback: ``depwatch/x.py:12``."""
    found = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/depwatch/" in filename:
            found = f"depwatch/{filename.rpartition('/depwatch/')[2]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def internal_error(exc: BaseException) -> str:
    """The stderr text for an unexpected exception. The exception's message is left out: it
    may quote input (a line of a private file, a URL with a token)."""
    where = _where(exc)
    at = f" at {where}" if where else ""
    return (
        f"depwatch: internal error: {type(exc).__name__}{at}; the run could not be trusted\n"
        f"  please report it at {REPORT_URL} "
        f"(rerun with {TRACEBACK_ENV}=1 for the details; check them for secrets first)\n"
    )


def main() -> None:
    """Entry point."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        from depwatch import __version__

        sys.stdout.write(f"depwatch {__version__}\n")
        return
    try:
        from depwatch.cli import app

        app(prog_name="depwatch")
    except SystemExit as exc:
        _exit_now(exc.code)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # the boundary: see the module docstring
        if os.environ.get(TRACEBACK_ENV, "") not in {"", "0"}:
            raise
        with contextlib.suppress(Exception):  # a closed stdout must not hide the message
            sys.stdout.flush()
        sys.stderr.write(internal_error(exc))
        _exit_now(2)
    _exit_now(0)


def _exit_now(code: object) -> None:
    """End the process with ``code`` as ``sys.exit`` would, without tearing the interpreter
    down: the exit handlers run and the output is flushed, but the objects of the run are not
    freed one by one (a check of a large project holds hundreds of thousands: freeing them
    took a quarter of a warm run). Only here, where the command ends the process; the CLI app
    that tests call exits normally."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as sys.exit("message") does
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{code}\n")
        status = 1
    try:
        import atexit

        atexit._run_exitfuncs()  # what a normal exit runs first (temporary folders, …)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: nothing more to say
                stream.flush()
        os._exit(status)


if __name__ == "__main__":
    main()
