"""The service's one Powertools logger, shared by every function. Its service name, level and format come
from the environment (POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL, set once in template.yaml's Globals),
so no code spells them. It logs ids and counts, never PHI (tests/unit/test_phi_logging.py)."""

from aws_lambda_powertools import Logger

logger = Logger()
