"""Lambda REQUEST authorizer: X-User-Token -> user, clinic and role for every function behind the API.

The policy allows every route of the stage, because API Gateway caches it per token for 300 seconds.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from clinic.access import Caller
from clinic.accounts import authenticate
from clinic.logger import logger


def _context(caller: Caller) -> dict[str, Any]:
    """What the functions learn about the caller. Context values are strings, numbers or booleans only: a
    staff caller's context has no `patient_id` at all (never None)."""
    context: dict[str, Any] = {"user_id": caller.user_id, "clinic_id": caller.clinic_id, "role": caller.role}
    if caller.patient_id is not None:
        context["patient_id"] = caller.patient_id
    return context


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    caller = authenticate(request.headers.get("x-user-token") or request.headers.get("X-User-Token"))
    if caller is None:
        logger.info("token rejected")
        raise Exception("Unauthorized")  # API Gateway's documented way to answer 401
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=str(caller.user_id),
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=_context(caller),
    )
    policy.allow_all_routes()
    logger.info("token accepted", extra={"user_id": caller.user_id, "role": caller.role})
    return policy.asdict()
