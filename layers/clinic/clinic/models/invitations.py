"""Request bodies of the invitation routes (patients reporting for themselves)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator

from clinic.models import _Envelope, _not_blank, _Strict
from clinic.validation import fail


class InvitationOptions(_Strict):
    expires_in_hours: Annotated[StrictInt, Field(ge=1, le=168)] = 72


class CreateInvitationRequest(_Envelope):
    """The body is optional: no body, `{}` or `{"invitation": {}}` give the default expiry."""

    invitation: InvitationOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrapper(cls, data: Any) -> Any:
        # No body at all is the defaults (the route takes None); a body that is not an object is refused.
        if not isinstance(data, dict):
            raise fail("must be an object")
        return data


class RedeemInvitationRequest(_Envelope):
    # The document states the blank rule (one non-space character), for the OpenAPI document only.
    code: Annotated[StrictStr, AfterValidator(_not_blank), Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})]
