"""Integer ids: allocated from block-reserved counters (hi/lo, one atomic ADD per block, not per create), and
parsed from the text of a URL or a header in one place."""

from __future__ import annotations

import re
import threading

from clinic import store
from clinic.settings import after_restore, settings

# ASCII digits only: str.isdigit() and int() also take "²", "①" or Arabic-Indic digits, and int() takes
# " 1", "+1", "01" and "1_0", so each of those named some other id. 18 digits stay well inside DynamoDB's
# numbers and Python's int-from-text limit.
_ID = r"[1-9][0-9]{0,17}"

_lock = threading.Lock()


def parse(text: object) -> int | None:
    """The id (or version number) that a path segment or header names, or None: anything but a positive
    integer written in plain ASCII digits, without sign, spaces or leading zeros, names nothing."""
    if isinstance(text, str) and re.fullmatch(_ID, text):
        return int(text)
    return None


_blocks: dict[str, tuple[int, int]] = {}  # kind -> (next id to hand out, last id of the block)


def next_id(kind: str) -> int:
    """A fresh id, unique and never reused; ids of a block a container did not use are skipped."""
    with _lock:
        nxt, last = _blocks.get(kind, (1, 0))
        if nxt > last:
            size = settings().id_block_size
            last = store.reserve_ids(kind, size)
            nxt = last - size + 1
        _blocks[kind] = (nxt + 1, last)
        return nxt


def reset() -> None:
    with _lock:
        _blocks.clear()


# SnapStart: every container resumed from one snapshot would hand out the ids of a block reserved before it.
after_restore(reset)
