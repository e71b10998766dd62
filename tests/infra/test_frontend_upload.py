"""The frontend upload step against moto's S3: keys, content types, cache headers, order."""
from __future__ import annotations

import json

import pytest

from scripts import deploy

BUCKET = "chorus-test-frontend"
API = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


@pytest.fixture
def dist(tmp_path):
    files = {
        "index.html": "<!doctype html><script type=module src=./assets/index-Ab12Cd34.js></script>",
        "assets/index-Ab12Cd34.js": "console.log('app')",
        "assets/TreeView-B9XnI_0Z.js": "export {}",
        "assets/index-BQIwo8GP.css": "body{}",
        "assets/logo-1a2b3c.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "assets/font-9f8e7d.woff2": "wOF2",
        "favicon.ico": "ico",
        "robots.txt": "User-agent: *",
        "config.json": '{"apiBaseUrl": "http://127.0.0.1:8000"}',  # a dev leftover: replaced
    }
    for key, text in files.items():
        path = tmp_path / "dist" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "dist"


@pytest.fixture
def s3():
    from moto import mock_aws
    import boto3

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


EXPECTED = {
    "assets/index-Ab12Cd34.js": ("text/javascript; charset=utf-8", deploy.IMMUTABLE),
    "assets/TreeView-B9XnI_0Z.js": ("text/javascript; charset=utf-8", deploy.IMMUTABLE),
    "assets/index-BQIwo8GP.css": ("text/css; charset=utf-8", deploy.IMMUTABLE),
    "assets/logo-1a2b3c.svg": ("image/svg+xml", deploy.IMMUTABLE),
    "assets/font-9f8e7d.woff2": ("font/woff2", deploy.IMMUTABLE),
    "favicon.ico": ("image/x-icon", "no-cache"),
    "robots.txt": ("text/plain; charset=utf-8", "no-cache"),
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "config.json": ("application/json", "no-cache"),
}


def test_upload_sets_content_types_and_cache_headers(s3, dist):
    written = deploy.upload_frontend(s3, BUCKET, dist, API)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == set(EXPECTED)
    for key, (content_type, cache) in EXPECTED.items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == content_type, key
        assert head["CacheControl"] == cache, key
    assert {w["key"] for w in written} == set(EXPECTED)
    assert deploy.IMMUTABLE == "public, max-age=31536000, immutable"


def test_config_json_points_at_the_api(s3, dist):
    deploy.upload_frontend(s3, BUCKET, dist, API)
    body = s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read()
    assert json.loads(body) == {"apiBaseUrl": API.rstrip("/")}


def test_assets_go_first_index_html_then_config_json_last(s3, dist):
    order = [w["key"] for w in deploy.upload_frontend(s3, BUCKET, dist, API)]
    assets = [k for k in order if k.startswith("assets/")]
    assert order[:len(assets)] == assets
    assert order[-2:] == ["index.html", "config.json"]


def test_file_contents_are_uploaded_unchanged(s3, dist):
    deploy.upload_frontend(s3, BUCKET, dist, API)
    for key in EXPECTED:
        if key == "config.json":
            continue
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == (dist / key).read_bytes()


def test_the_real_build_gets_the_same_treatment(s3):
    """When frontend/dist exists (a build was made), every file has a type and a cache rule."""
    real = deploy.FRONTEND / "dist"
    if not (real / "index.html").exists():
        pytest.skip("frontend/dist is not built")
    written = deploy.upload_frontend(s3, BUCKET, real, API)
    for entry in written:
        assert entry["content_type"] != "application/octet-stream", entry
        expected = deploy.IMMUTABLE if entry["key"].startswith("assets/") else "no-cache"
        assert entry["cache_control"] == expected


def test_emptying_a_versioned_bucket_removes_every_version(s3, dist):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    deploy.upload_frontend(s3, BUCKET, dist, API)
    deploy.upload_frontend(s3, BUCKET, dist, API)
    s3.delete_object(Bucket=BUCKET, Key="robots.txt")  # a delete marker
    removed = deploy.empty_bucket(s3, BUCKET)
    assert removed == 2 * len(EXPECTED) + 1
    listing = s3.list_object_versions(Bucket=BUCKET)
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
