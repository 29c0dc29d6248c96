"""``python -m depwatch`` and the ``depwatch`` command.

``--version`` is answered before the CLI framework is imported: a hook runs on every commit.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        from depwatch import __version__

        sys.stdout.write(f"depwatch {__version__}\n")
        return
    from depwatch.cli import app

    app(prog_name="depwatch")


if __name__ == "__main__":
    main()
