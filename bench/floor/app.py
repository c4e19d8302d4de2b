"""The floor of row 1: what any handler built like ours costs at a cold start without any of our code.

A bare Powertools resolver with validation and a Logger, a lazily created client configured as the domain's
(clinic.settings), and a JSON answer: the imports every API function needs (Powertools, pydantic, boto3) and
nothing else. Alone it does one GetItem (the bare floor). As a route's floor (BENCH_FLOOR_CALLS: a pickle of
(client method, parameters) written by bench/coldstart.py) it makes instead the DynamoDB calls that route's
function made for the same request, against an identical copy of the table, so what the function costs
beyond it is its own code: imports, body model, access, idempotency, audit, domain logic.
"""

import os
from typing import Annotated

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from botocore.config import Config

logger = Logger(service="bench-floor")
app = APIGatewayRestResolver(enable_validation=True)
_client = []


def _dynamodb():
    if not _client:
        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            tcp_keepalive=True,
            parameter_validation=False,
        )
        _client.append(boto3.client("dynamodb", config=config))
    return _client[0]


@app.get("/v1/patients/<id>")
def get_patient(id: str, page: Annotated[int, Query(ge=1)] = 1):
    client = _dynamodb()
    calls = os.environ.get("BENCH_FLOOR_CALLS")
    if calls:
        import pickle

        with open(calls, "rb") as recorded:
            replayed = pickle.load(recorded)
        for method, params in replayed:
            getattr(client, method)(**params)
        return {"id": id, "found": True, "calls": len(replayed)}
    key = {"pk": {"S": os.environ["BENCH_FLOOR_PK"]}, "sk": {"S": os.environ["BENCH_FLOOR_SK"]}}
    item = client.get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    return {"id": id, "found": item is not None}


@logger.inject_lambda_context
def lambda_handler(event, context):
    return app.resolve(event, context)
