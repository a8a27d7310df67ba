"""argparse help at the terminal's width without argparse's own lookup, which imports `shutil`
(and with it bz2 and lzma) into every hook run."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import argparse


def terminal_width() -> int:
    """What `shutil.get_terminal_size()` answers: $COLUMNS, else the terminal's, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 80


def help_formatter(prog: str) -> argparse.HelpFormatter:
    import argparse

    return argparse.HelpFormatter(prog, width=terminal_width() - 2)
