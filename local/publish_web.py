"""`make deploy`'s last step: upload the built web app (web/dist) to the stack's private bucket, then have
CloudFront fetch index.html afresh. Hashed files go first and are cached for a year; index.html, which names
them, goes last and is revalidated on every load, so no browser ever gets an index whose files are missing.

    python -m local.publish_web --config-env default     # the stack of samconfig.toml's environment
    python -m local.publish_web --stack patients-api-dev
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import boto3

from local.template import REPO_ROOT
from local.webapp import WEB_DIST, cache_control, content_type

SAMCONFIG = REPO_ROOT / "samconfig.toml"


def stack_name(config_env: str, samconfig: Path = SAMCONFIG) -> str:
    config = tomllib.loads(samconfig.read_text())
    environment = config.get(config_env, {})
    for command in ("deploy", "global"):
        name = environment.get(command, {}).get("parameters", {}).get("stack_name")
        if name:
            return str(name)
    raise SystemExit(f"samconfig.toml has no stack_name for the environment {config_env!r}")


def stack_outputs(name: str, cloudformation: Any) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def publish(dist: Path, bucket: str, distribution_id: str, s3: Any, cloudfront: Any) -> list[str]:
    """Uploads every file of the build's manifest; returns their keys in upload order."""
    manifest_file = dist / "manifest.json"
    if not manifest_file.is_file():
        raise SystemExit(f"{dist} has no build: run `make web` first")
    manifest = json.loads(manifest_file.read_text())
    keys = sorted((f["path"] for f in manifest["files"]), key=lambda key: (key == "index.html", key))
    for key in keys:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=(dist / key).read_bytes(),
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
    # Old hashed files stay: a tab opened before this deploy still loads its own. Only the unhashed
    # paths can be stale at the edge.
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/favicon.svg"]},
            "CallerReference": f"publish-web-{time.time_ns()}",
        },
    )
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default: default)")
    parser.add_argument("--stack", help="stack name (default: the environment's stack_name)")
    parser.add_argument("--dist", type=Path, default=WEB_DIST)
    args = parser.parse_args(argv)
    name = args.stack or stack_name(args.config_env)
    outputs = stack_outputs(name, boto3.client("cloudformation"))
    bucket, distribution = outputs["WebBucketName"], outputs["WebDistributionId"]
    keys = publish(args.dist, bucket, distribution, boto3.client("s3"), boto3.client("cloudfront"))
    print(f"uploaded {len(keys)} files to s3://{bucket}; the app is at {outputs['WebAppUrl']}", file=sys.stderr)


if __name__ == "__main__":
    main()
