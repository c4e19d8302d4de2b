"""The web app's serving, locally (beside the API, under the template's security headers) and on AWS (the
deploy step's upload), without a browser: tests/e2e drives the app itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local import publish_web
from local.template import REPO_ROOT, load_template
from local.webapp import IMMUTABLE, REVALIDATE, AppGateway, WebApp, security_headers

UNAUTHORIZED = {"errors": "You are not authorized to perform this action."}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="/assets/main-ABC.js"></script>')
    (tmp_path / "assets" / "main-ABC.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    files = [{"path": p, "bytes": 1, "gzip_bytes": 1} for p in ("assets/main-ABC.js", "favicon.svg", "index.html")]
    (tmp_path / "manifest.json").write_text(json.dumps({"files": files}))
    return tmp_path


def test_the_content_security_policy_allows_nothing_inline_and_nothing_foreign() -> None:
    headers = security_headers(load_template())
    directives = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src", "img-src"):
        assert directives[name] == "'self'", name
    assert directives["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_page_template_has_no_inline_script_or_style() -> None:
    html = (REPO_ROOT / "web" / "src" / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers


def test_files_are_served_with_the_headers_cloudfront_adds(dist: Path) -> None:
    web = WebApp(dist, security_headers(load_template()))
    index = web.respond("GET", "/")
    assert index.status == 200 and index.body == (dist / "index.html").read_bytes()
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == REVALIDATE
    assert "script-src 'self'" in index.headers["Content-Security-Policy"]
    script = web.respond("GET", "/assets/main-ABC.js")
    assert (script.status, script.headers["Content-Type"], script.headers["Cache-Control"]) == (
        200,
        "text/javascript; charset=utf-8",
        IMMUTABLE,
    )
    assert web.respond("HEAD", "/favicon.svg").headers["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize("path", ["/../template.yaml", "/%2e%2e/template.yaml", "/assets/../../README.md", "/nope.js"])
def test_nothing_outside_the_build_is_served(dist: Path, path: str) -> None:
    (dist.parent / "template.yaml").write_text("secret")
    reply = WebApp(dist, {}).respond("GET", path)
    assert (reply.status, reply.body) == (404, b"Not found")


def test_only_get_and_head_and_a_clear_word_when_not_built(tmp_path: Path, dist: Path) -> None:
    refused = WebApp(dist, {}).respond("POST", "/")
    assert (refused.status, refused.headers["Allow"]) == (405, "GET, HEAD")
    missing = WebApp(tmp_path / "nothing", {}).respond("GET", "/")
    assert missing.status == 404 and b"make build" in missing.body


def test_v1_stays_the_apis_and_everything_else_is_the_app(dist: Path) -> None:
    gateway = AppGateway(load_template(), authorizer_cache=False, set_environment=False, web_root=dist)
    api = gateway.handle("GET", "/v1/patients?search=do")
    assert (api.status, json.loads(api.body)) == (401, UNAUTHORIZED)
    assert json.loads(gateway.handle("GET", "/v1").body) == {"errors": "Not found"}
    app = gateway.handle("GET", "/?x=1")
    assert app.status == 200 and app.body.startswith(b"<!doctype html>")
    assert gateway.handle("GET", "/v1x").status == 404  # a file name, not the API


def test_stack_name_comes_from_samconfig() -> None:
    assert publish_web.stack_name("default") == "patients-api-dev"
    assert publish_web.stack_name("prod") == "patients-api-prod"
    with pytest.raises(SystemExit):
        publish_web.stack_name("nowhere")


@mock_aws
def test_publish_uploads_hashed_files_first_and_index_last_then_invalidates_it(dist: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    s3.create_bucket(Bucket="web")
    origin = {"Id": "web", "DomainName": "web.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )
    distribution_id = created["Distribution"]["Id"]

    keys = publish_web.publish(dist, "web", distribution_id, s3, cloudfront)

    assert keys == ["assets/main-ABC.js", "favicon.svg", "index.html"]
    index = s3.get_object(Bucket="web", Key="index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html; charset=utf-8", REVALIDATE)
    script = s3.get_object(Bucket="web", Key="assets/main-ABC.js")
    assert (script["ContentType"], script["CacheControl"]) == ("text/javascript; charset=utf-8", IMMUTABLE)
    assert script["Body"].read() == b"console.log(1)"
    invalidations = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    assert invalidations["Quantity"] == 1
    batch = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidations["Items"][0]["Id"])
    assert sorted(batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]) == ["/", "/favicon.svg", "/index.html"]


# CloudFront's managed policies (their ids are fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_cloudfront_sends_v1_to_the_api_uncached_with_its_headers_and_the_rest_to_the_private_bucket() -> None:
    resources = load_template()["Resources"]
    config = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}

    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    api_origin = origins[api["TargetOriginId"]]
    assert api_origin["DomainName"] == {"Fn::Sub": "${PatientsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert api_origin["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # Never cached (one user's PHI), and X-User-Token, If-Match, Idempotency-Key and the query reach the API.
    assert (api["CachePolicyId"], api["OriginRequestPolicyId"]) == (CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER)
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PUT", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"

    app = config["DefaultCacheBehavior"]
    bucket_origin = origins[app["TargetOriginId"]]
    assert bucket_origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert bucket_origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert app["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeadersPolicy"}
    assert config["DefaultRootObject"] == "index.html"

    block = resources["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(
        block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    statements = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and read["Action"] == "s3:GetObject"
    assert "WebDistribution" in read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
