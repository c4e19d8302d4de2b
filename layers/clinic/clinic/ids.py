"""Integer ids from block-reserved counters (hi/lo): one atomic ADD per block, not per create."""

from __future__ import annotations

import threading

from clinic import store
from clinic.settings import settings

_lock = threading.Lock()
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
