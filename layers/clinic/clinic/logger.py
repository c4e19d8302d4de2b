"""The service's one Powertools logger, shared by every function. Its service name, level and format come
from the environment (POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL, set once in template.yaml's Globals),
so no code spells them. It logs ids and counts, never PHI (tests/handlers/test_phi_logging.py)."""

import sys
from typing import IO, cast

from aws_lambda_powertools import Logger


class _CurrentStdout:
    """Writes to whatever sys.stdout is at the time, as print() (and so Powertools' metrics) does: the admin
    CLI sends everything but its JSON result to stderr with contextlib.redirect_stdout."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


# Powertools types the stream as IO[str]; logging.StreamHandler only calls write() and flush().
logger = Logger(stream=cast(IO[str], _CurrentStdout()))
