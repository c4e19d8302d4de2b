"""The attempts of an operation that may lose a race (a write whose condition failed because another landed
first) or come back partly unprocessed (a batch): a random wait between attempts that doubles with each retry
("full jitter", so racing callers spread out), none before the first and none after the last, so a caller that
runs out of attempts answers at once."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator


def attempts(count: int, first_wait: float = 0.01, longest_wait: float = 0.2) -> Iterator[int]:
    """0, 1, ..., count - 1; before attempt n > 0, a wait drawn from [0, min(first_wait * 2**(n - 1), longest_wait)]
    seconds."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, min(first_wait * 2 ** (attempt - 1), longest_wait)))
        yield attempt
