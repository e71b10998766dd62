"""Object storage (S3) for exports and imports too large for one API response or request."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from chalicelib import config

URL_SECONDS = 15 * 60
IMPORT_PREFIX = "imports/"
EXPORT_PREFIX = "exports/"


def _client():
    import boto3
    from botocore.config import Config

    # SigV4 presigned URLs: S3 refuses the legacy signature on buckets made since 2020
    return boto3.client("s3", endpoint_url=config.s3_endpoint(), region_name=config.region(),
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "virtual"}))


def _expires_at() -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=URL_SECONDS)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def store_export(project_id: str, data: bytes) -> tuple[str, str]:
    """Write the export and return a short-lived download URL and its expiry."""
    client = _client()
    key = f"{EXPORT_PREFIX}{project_id}/{uuid.uuid4()}.json"
    client.put_object(Bucket=config.export_bucket(), Key=key, Body=data,
                      ContentType="application/json")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": config.export_bucket(), "Key": key},
        ExpiresIn=URL_SECONDS)
    return url, _expires_at()


def create_import_upload() -> tuple[str, str, str]:
    upload_id = str(uuid.uuid4())
    url = _client().generate_presigned_url(
        "put_object",
        Params={"Bucket": config.export_bucket(), "Key": IMPORT_PREFIX + upload_id,
                "ContentType": "application/json"},
        ExpiresIn=URL_SECONDS)
    return upload_id, url, _expires_at()


def read_import_upload(upload_id: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        response = _client().get_object(Bucket=config.export_bucket(),
                                        Key=IMPORT_PREFIX + upload_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return response["Body"].read()


def ensure_bucket() -> None:
    """Local runs only: the deployed bucket comes from the infra template."""
    client = _client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if config.export_bucket() not in existing:
        client.create_bucket(Bucket=config.export_bucket())


def import_upload_exists(upload_id: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _client().head_object(Bucket=config.export_bucket(), Key=IMPORT_PREFIX + upload_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return False
        raise
    return True


def delete_import_upload(upload_id: str) -> None:
    """An upload imports once (SPEC §13)."""
    _client().delete_object(Bucket=config.export_bucket(), Key=IMPORT_PREFIX + upload_id)
