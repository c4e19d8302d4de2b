"""The floor of row 1: what any handler built like ours costs at a cold start without any of our code.

A bare Powertools resolver with validation and a Logger, one GetItem on a lazily created client and a JSON
answer: the imports every API function needs (Powertools, pydantic, boto3) and nothing else.
"""

import os
from typing import Annotated

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

logger = Logger(service="bench-floor")
app = APIGatewayRestResolver(enable_validation=True)
_client = []


@app.get("/v1/patients/<id>")
def get_patient(id: str, page: Annotated[int, Query(ge=1)] = 1):
    if not _client:
        _client.append(boto3.client("dynamodb"))
    key = {"pk": {"S": os.environ["BENCH_FLOOR_PK"]}, "sk": {"S": os.environ["BENCH_FLOOR_SK"]}}
    item = _client[0].get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    return {"id": id, "found": item is not None}


@logger.inject_lambda_context
def lambda_handler(event, context):
    return app.resolve(event, context)
