"""Write the AWS templates and the Lambda policies from one place.

    .venv/bin/python scripts/build_template.py          # (re)write the generated files
    .venv/bin/python scripts/build_template.py --check  # exit 1 when a committed file is stale

Generated files (never edit them by hand; tests/infra checks they equal a fresh generation):
- infra/resources.json: the template merged into Chalice's output by
  `chalice package --merge-template`. Its DynamoDB tables, keys, indexes, projections and TTL
  attributes come from the pynamodb models in chalicelib/store/tables.py (the same schema
  `create_missing_tables()` uses locally), so the deployed tables cannot drift from the code.
- infra/artifacts.json: the small bootstrap stack holding the bucket `aws cloudformation
  package` uploads the Lambda zip to.
- .chalice/policy-<stage>.json for every stage of .chalice/config.json: the role policy of the
  API handler and the sweep (`autogen_policy: false`), naming that stage's tables, indexes,
  bucket and log groups; .chalice/policy-<stage>-worker.json: the job worker's (its tables,
  indexes, the import uploads and the jobs table's stream).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESOURCES = ROOT / "infra" / "resources.json"
ARTIFACTS = ROOT / "infra" / "artifacts.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

# Chalice's logical ids in the template `chalice package` writes (the merge targets).
API_FUNCTION = "APIHandler"
API_LOG_GROUP = "ApiHandlerLogGroup"
API_ROLE = "ApiHandlerRole"
SWEEP_FUNCTION = "Sweep"
SWEEP_LOG_GROUP = "SweepLogGroup"
SWEEP_ROLE = "SweepRole"
# the job worker: `@app.on_dynamodb_record(...) def job_worker` in app.py
WORKER_HANDLER = "job_worker"
WORKER_FUNCTION = "JobWorker"
WORKER_LOG_GROUP = "JobWorkerLogGroup"
WORKER_ROLE = "JobWorkerRole"
WORKER_EVENT = "JobWorkerDynamodbEventSource"  # Chalice's SAM event of the function
JOBS_TABLE = "jobs"  # base name of the table whose stream drives the worker
REST_API = "RestAPI"

DEFAULT_RATE_LIMIT = 100  # requests per second, steady, for the whole stage
DEFAULT_BURST_LIMIT = 200

# What the Lambda code does with each table (measured: tests/infra/test_iam_coverage.py
# traces every AWS call, function by function). Transactions are authorised per item: Put ->
# PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem.
#
# The API handler and the sweep (one policy file: .chalice/policy-<stage>.json). Every index
# of every model is queried (Query on the index ARN).
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "projects": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem",
                 "ConditionCheckItem"),
    "tasks": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem",
              "ConditionCheckItem", "BatchWriteItem"),
    "work-log": ("Query", "PutItem", "BatchWriteItem"),
    "commits": ("Query", "BatchGetItem", "PutItem", "BatchWriteItem"),
    "idempotency": ("GetItem", "PutItem", "BatchWriteItem"),
    "tokens": ("GetItem", "UpdateItem"),  # issuing, listing, revoking: the admin tool only
    "events": ("GetItem", "Query", "PutItem", "BatchWriteItem"),
    "stats": ("BatchGetItem", "Query", "UpdateItem", "BatchWriteItem"),
    "jobs": ("GetItem", "PutItem", "UpdateItem"),  # starting, reading; the sweep's nudge
}
# The job worker (.chalice/policy-<stage>-worker.json): the steps of import, cancel, delete
# and propagate jobs (chalicelib.services.jobs), and only the indexes those steps query.
WORKER_TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "projects": ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"),
    "tasks": ("GetItem", "BatchGetItem", "UpdateItem", "DeleteItem", "BatchWriteItem"),
    "work-log": ("BatchWriteItem",),
    "commits": ("BatchWriteItem",),
    "events": ("PutItem",),
    "stats": ("UpdateItem",),
    "jobs": ("GetItem", "UpdateItem"),  # the lease, checkpoints, the end
}
WORKER_INDEXES: dict[str, tuple[str, ...]] = {
    "tasks": ("by-parent", "by-path"),
    "work-log": ("records-by-path",),
    "commits": ("records-by-path",),
}
# What Lambda's event source mapping does with the jobs table's stream, with the worker's role.
STREAM_ACTIONS = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
# The worker's event source mapping beyond what app.py's decorator sets (batch size, starting
# position): a failing batch is split and given up after a few retries instead of holding its
# shard for the stream's 24 hours (the sweep wakes a job nobody holds, so a dropped record
# loses no work), and up to 10 batches of one shard run at once (records of one job stay in
# order), so a long import does not hold back the other jobs.
WORKER_EVENT_SETTINGS = {
    "MaximumRetryAttempts": 5,
    "BisectBatchOnFunctionError": True,
    "ParallelizationFactor": 10,
}
# chalicelib/store/objects.py: exports are written and read back through presigned GET URLs;
# imports arrive through presigned PUT URLs; the API checks an upload exists (HeadObject:
# GetObject), the worker reads it and deletes it once imported. A presigned URL acts with the
# role's rights. ListBucket makes S3 answer 404 (not 403) for a missing upload.
EXPORT_PREFIXES = ("exports/", "imports/")
IMPORT_PREFIX = "imports/"

JSON_CT = "application/json"
# SPEC §5 envelopes for what API Gateway answers itself (type -> status, code, message).
# A status of None keeps the status API Gateway chose.
GATEWAY_RESPONSES: dict[str, tuple[int | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND", "No such route."),
    "RESOURCE_NOT_FOUND": (404, "NOT_FOUND", "No such route."),
    "UNAUTHORIZED": (401, "UNAUTHORIZED", "Authentication is required."),
    "ACCESS_DENIED": (403, "FORBIDDEN", "Access denied."),
    "THROTTLED": (429, "RATE_LIMITED", "Too many requests: retry later."),
    "QUOTA_EXCEEDED": (429, "RATE_LIMITED", "Too many requests: retry later."),
    "REQUEST_TOO_LARGE": (413, "PAYLOAD_TOO_LARGE", "The request is too large."),
    "BAD_REQUEST_BODY": (400, "MALFORMED_REQUEST", "The request could not be read."),
    "BAD_REQUEST_PARAMETERS": (400, "MALFORMED_REQUEST", "The request could not be read."),
    "UNSUPPORTED_MEDIA_TYPE": (415, "MALFORMED_REQUEST",
                               "The request body must be sent as application/json."),
    "INTEGRATION_TIMEOUT": (503, "UNAVAILABLE", "The service did not answer in time."),
    "INTEGRATION_FAILURE": (503, "UNAVAILABLE", "The service is unavailable."),
    "DEFAULT_4XX": (None, "MALFORMED_REQUEST", "The request was rejected."),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR", "Something went wrong on our side."),
}

# Checkov findings accepted on purpose, by logical id. infra/README.md explains each one;
# tests/infra checks the README names every id listed here.
R_LOGGING = ("Access logs would need another bucket (itself unlogged) and cost at rest; "
             "CloudTrail records management calls.")
R_VERSIONING_EXPORTS = ("Exports and imports live one day by design; versions would keep "
                        "project data after the lifecycle rule deleted it.")
R_VERSIONING_ARTIFACTS = ("Lambda zips are content-addressed and rebuilt from source; the "
                          "lifecycle rule expires them.")
R_CMK = ("AWS-managed keys encrypt at rest without the $1/month per key and the key policy "
         "of a customer-managed key.")
R_LAMBDA_VPC = ("The functions reach only DynamoDB and S3; a VPC would add NAT or endpoint "
                "cost at rest and cold-start latency.")
R_LAMBDA_DLQ = ("The API handler is invoked synchronously; the sweep runs again a minute "
                "later, so a dead-letter queue would hold nothing useful.")
R_WORKER_DLQ = ("The worker is invoked by the jobs stream's event source mapping, which never "
                "uses a function's dead-letter queue (only asynchronous invocations do); a "
                "failed step is counted on the job and the sweep wakes jobs nobody holds.")
R_LAMBDA_CONCURRENCY = ("Reserving concurrency fails in new accounts (unreserved concurrency "
                        "must stay >= 10); the stage throttling caps request volume.")
R_WORKER_CONCURRENCY = ("Reserving concurrency fails in new accounts (unreserved concurrency "
                        "must stay >= 10); the stream's shards and the mapping's "
                        "parallelization factor already bound the worker's concurrency.")
R_LAMBDA_ENV_KMS = ("The environment holds names and TTLs only, no secrets; Lambda encrypts "
                    "it at rest with its service key.")
R_CLOUDFRONT_WAF = ("A web ACL costs at least $5/month at rest; the distribution serves static "
                    "files only and the API has its own throttling.")
R_CLOUDFRONT_TLS = ("The default *.cloudfront.net certificate fixes the viewer TLS policy; a "
                    "custom domain with an ACM certificate is needed to choose TLSv1.2_2021.")
R_LOG_GROUP_KMS = ("CloudWatch Logs encrypts log data at rest by default; request logs hold "
                   "ids and timings, not secrets.")
R_API_CACHE = ("Responses are per caller and change with every write; a cache cluster is "
               "billed per hour at rest.")
R_API_ACCESS_LOG = ("Stage access logs need the account-wide API Gateway CloudWatch role "
                    "(shared by every API in the region); the Lambda logs one JSON line per "
                    "request with its request id instead.")

SUPPRESSIONS: dict[str, list[tuple[str, str]]] = {
    "FrontendBucket": [("CKV_AWS_18", R_LOGGING)],
    "ExportBucket": [("CKV_AWS_18", R_LOGGING), ("CKV_AWS_21", R_VERSIONING_EXPORTS)],
    "ArtifactsBucket": [("CKV_AWS_18", R_LOGGING), ("CKV_AWS_21", R_VERSIONING_ARTIFACTS)],
    "FrontendDistribution": [("CKV_AWS_68", R_CLOUDFRONT_WAF), ("CKV_AWS_174", R_CLOUDFRONT_TLS),
                             ("CKV_AWS_86", R_LOGGING)],
    API_FUNCTION: [("CKV_AWS_117", R_LAMBDA_VPC), ("CKV_AWS_116", R_LAMBDA_DLQ),
                   ("CKV_AWS_115", R_LAMBDA_CONCURRENCY), ("CKV_AWS_173", R_LAMBDA_ENV_KMS)],
    SWEEP_FUNCTION: [("CKV_AWS_117", R_LAMBDA_VPC), ("CKV_AWS_116", R_LAMBDA_DLQ),
                     ("CKV_AWS_115", R_LAMBDA_CONCURRENCY), ("CKV_AWS_173", R_LAMBDA_ENV_KMS)],
    WORKER_FUNCTION: [("CKV_AWS_117", R_LAMBDA_VPC), ("CKV_AWS_116", R_WORKER_DLQ),
                      ("CKV_AWS_115", R_WORKER_CONCURRENCY), ("CKV_AWS_173", R_LAMBDA_ENV_KMS)],
    API_LOG_GROUP: [("CKV_AWS_158", R_LOG_GROUP_KMS)],
    SWEEP_LOG_GROUP: [("CKV_AWS_158", R_LOG_GROUP_KMS)],
    WORKER_LOG_GROUP: [("CKV_AWS_158", R_LOG_GROUP_KMS)],
    REST_API: [("CKV_AWS_120", R_API_CACHE), ("CKV_AWS_76", R_API_ACCESS_LOG)],
}
TABLE_SUPPRESSIONS = [("CKV_AWS_119", R_CMK)]


# -- helpers --------------------------------------------------------------------------------
def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def ref(name: str) -> dict:
    return {"Ref": name}


def get_att(resource: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [resource, attribute]}


def logical_id(base_name: str) -> str:
    """`work-log` -> `WorkLogTable`."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", base_name)) + "Table"


def suppressions(resource_id: str) -> list[tuple[str, str]]:
    if resource_id.endswith("Table") and resource_id != "Table":
        return TABLE_SUPPRESSIONS
    return SUPPRESSIONS.get(resource_id, [])


def with_skips(resource_id: str, body: dict) -> dict:
    skips = suppressions(resource_id)
    if skips:
        body.setdefault("Metadata", {})["checkov"] = {
            "skip": [{"id": check, "comment": reason} for check, reason in skips]}
    return body


def load_config() -> dict:
    return json.loads(CHALICE_CONFIG.read_text())


def stage_names(config: dict | None = None) -> list[str]:
    return sorted((config or load_config()).get("stages", {}))


def stage_settings(stage: str, config: dict | None = None) -> dict:
    """What the deploy needs of a stage, from .chalice/config.json (global, then the stage)."""
    config = config or load_config()
    if stage not in config.get("stages", {}):
        raise KeyError(f"no stage {stage!r} in .chalice/config.json")
    stage_config = config["stages"][stage]
    worker_config = stage_config.get("lambda_functions", {}).get(WORKER_HANDLER, {})
    env = {**config.get("environment_variables", {}),
           **stage_config.get("environment_variables", {})}
    app = config["app_name"]
    return {
        "app_name": app,
        "stage": stage,
        "table_prefix": env["CHORUS_TABLE_PREFIX"],
        "export_bucket": env["CHORUS_EXPORT_BUCKET"],
        "cors_origins": env.get("CHORUS_CORS_ORIGINS", ""),
        "policy_file": stage_config.get("iam_policy_file", f"policy-{stage}.json"),
        "worker_policy_file": worker_config.get("iam_policy_file",
                                                f"policy-{stage}-worker.json"),
        # the names Chalice's own deployer would use: <app>-<stage>[-<function>]
        "api_function": f"{app}-{stage}",
        "sweep_function": f"{app}-{stage}-sweep",
        "worker_function": f"{app}-{stage}-{WORKER_HANDLER}",
        "stack": f"{app}-{stage}",
        "artifacts_stack": f"{app}-{stage}-artifacts",
    }


# -- DynamoDB, from the models ----------------------------------------------------------------
def models() -> tuple:
    from chalicelib.store.tables import ALL_MODELS, TTL_ATTRIBUTES

    return ALL_MODELS, TTL_ATTRIBUTES


def _key_schema(entries: list[dict]) -> list[dict]:
    order = {"HASH": 0, "RANGE": 1}
    return [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]}
            for e in sorted(entries, key=lambda e: order[e["KeyType"]])]


def _projection(projection: dict) -> dict:
    result = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        result["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return result


def table_resource(model, ttl_attribute: str | None) -> dict:
    schema = model._get_schema()  # the same schema pynamodb's create_table() sends
    if schema.get("local_secondary_indexes"):
        raise ValueError(f"{model.__name__}: local secondary indexes are not supported here")
    properties: dict = {
        "TableName": sub("${TablePrefix}" + model.Meta.base_name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(
            ({"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
             for a in schema["attribute_definitions"]),
            key=lambda a: a["AttributeName"]),
        "KeySchema": _key_schema(schema["key_schema"]),
    }
    indexes = sorted(schema.get("global_secondary_indexes", []), key=lambda i: i["index_name"])
    if indexes:
        properties["GlobalSecondaryIndexes"] = [
            {"IndexName": index["index_name"], "KeySchema": _key_schema(index["key_schema"]),
             "Projection": _projection(index["projection"])}
            for index in indexes]
    properties.update({
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "DeletionProtectionEnabled": {"Fn::If": ["ProtectTables", True, False]},
    })
    if ttl_attribute:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl_attribute, "Enabled": True}
    stream_view_type = getattr(model.Meta, "stream_view_type", None)
    if stream_view_type:  # what create_table() enables locally
        properties["StreamSpecification"] = {"StreamViewType": stream_view_type}
    return {
        "Type": "AWS::DynamoDB::Table",
        # A stack deletion leaves the data; `scripts/deploy.py destroy --delete-tables` removes it.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def table_resources() -> dict[str, dict]:
    all_models, ttl = models()
    return {logical_id(m.Meta.base_name): table_resource(m, ttl.get(m)) for m in all_models}


def index_names() -> dict[str, list[str]]:
    """base_name -> its global secondary index names."""
    all_models, _ = models()
    return {m.Meta.base_name: sorted(i["index_name"] for i in
                                     m._get_schema().get("global_secondary_indexes", []))
            for m in all_models}


# -- the rest of the stage ----------------------------------------------------------------------
def _error_template(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message, "details": {},
                                 "request_id": "$context.requestId"}}, separators=(",", ":"))


def gateway_responses() -> dict:
    responses = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        headers = {
            "X-Request-ID": "context.requestId",
            "Access-Control-Allow-Origin": sub("'https://${FrontendDistribution.DomainName}'"),
            "Access-Control-Expose-Headers": "'X-Request-ID'",
        }
        if code == "RATE_LIMITED":
            headers["Retry-After"] = "'1'"
        response: dict = {
            "ResponseParameters": {"Headers": headers},
            "ResponseTemplates": {JSON_CT: _error_template(code, message)},
        }
        if status is not None:
            response["StatusCode"] = status
        responses[kind] = response
    return responses


def _deny_insecure_transport(bucket: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [get_att(bucket, "Arn"), sub("${%s.Arn}/*" % bucket)],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _private_bucket() -> dict:
    return {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }


def frontend_origins() -> dict:
    """The browser origins of the frontend: the distribution, plus ExtraCorsOrigins if any."""
    return {"Fn::If": [
        "HasExtraCorsOrigins",
        {"Fn::Split": [",", sub("https://${FrontendDistribution.DomainName},${ExtraCorsOrigins}")]},
        [sub("https://${FrontendDistribution.DomainName}")],
    ]}


def content_security_policy() -> dict:
    # connect-src names the region's API Gateway hosts rather than this API's id: the API must
    # know the distribution's domain (CORS), so the distribution cannot depend on the API.
    return sub("; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "manifest-src 'self'",
        "connect-src 'self' https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}"
        " https://${ExportBucketName}.s3.${AWS::URLSuffix}"
        " https://${ExportBucketName}.s3.${AWS::Region}.${AWS::URLSuffix}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]))


def static_resources() -> dict[str, dict]:
    r: dict[str, dict] = {}
    r["FrontendBucket"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            **_private_bucket(),
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "expire-old-versions", "Status": "Enabled",
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
                {"Id": "drop-expired-delete-markers", "Status": "Enabled",
                 "ExpiredObjectDeleteMarker": True},
            ]},
        },
    }
    r["FrontendBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref("FrontendBucket"),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "CloudFrontReadsThroughOriginAccessControl", "Effect": "Allow",
                 "Principal": {"Service": "cloudfront.amazonaws.com"},
                 "Action": "s3:GetObject",
                 "Resource": sub("${FrontendBucket.Arn}/*"),
                 "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                     "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                     "${FrontendDistribution}")}}},
                _deny_insecure_transport("FrontendBucket"),
            ]},
        },
    }
    r["FrontendOriginAccessControl"] = {
        "Type": "AWS::CloudFront::OriginAccessControl",
        "Properties": {"OriginAccessControlConfig": {
            "Name": sub("${AWS::StackName}-frontend"),
            "Description": "CloudFront signs its requests to the private frontend bucket.",
            "OriginAccessControlOriginType": "s3",
            "SigningBehavior": "always",
            "SigningProtocol": "sigv4",
        }},
    }
    r["FrontendResponseHeadersPolicy"] = {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {"ResponseHeadersPolicyConfig": {
            "Name": sub("${AWS::StackName}-security-headers"),
            "Comment": "Security headers for the Chorus web app.",
            "SecurityHeadersConfig": {
                "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000,
                                            "IncludeSubdomains": True, "Override": True},
                "ContentTypeOptions": {"Override": True},
                "FrameOptions": {"FrameOption": "DENY", "Override": True},
                "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin",
                                   "Override": True},
                "XSSProtection": {"Protection": False, "Override": True},
                "ContentSecurityPolicy": {"ContentSecurityPolicy": content_security_policy(),
                                          "Override": True},
            },
            "CustomHeadersConfig": {"Items": [
                {"Header": "Permissions-Policy", "Override": True,
                 "Value": "camera=(), microphone=(), geolocation=(), payment=()"},
                {"Header": "Cross-Origin-Opener-Policy", "Value": "same-origin",
                 "Override": True},
            ]},
        }},
    }
    r["FrontendDistribution"] = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {"DistributionConfig": {
            "Comment": sub("Chorus web app (${AWS::StackName})"),
            "Enabled": True,
            "HttpVersion": "http2and3",
            "IPV6Enabled": True,
            "PriceClass": "PriceClass_100",
            "DefaultRootObject": "index.html",
            "Origins": [{
                "Id": "frontend-bucket",
                "DomainName": get_att("FrontendBucket", "RegionalDomainName"),
                "S3OriginConfig": {"OriginAccessIdentity": ""},
                "OriginAccessControlId": get_att("FrontendOriginAccessControl", "Id"),
            }],
            "DefaultCacheBehavior": {
                "TargetOriginId": "frontend-bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "AllowedMethods": ["GET", "HEAD"],
                "CachedMethods": ["GET", "HEAD"],
                "Compress": True,
                # Managed-CachingOptimized: honours the Cache-Control the deploy sets per file
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                "ResponseHeadersPolicyId": ref("FrontendResponseHeadersPolicy"),
            },
            # single-page app: a path that is no file (S3 answers 403 through OAC) is the app
            "CustomErrorResponses": [
                {"ErrorCode": code, "ResponseCode": 200, "ResponsePagePath": "/index.html",
                 "ErrorCachingMinTTL": 10}
                for code in (403, 404)],
        }},
    }
    r["ExportBucket"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketName": ref("ExportBucketName"),
            **_private_bucket(),
            "LifecycleConfiguration": {"Rules": [
                {"Id": "expire-after-one-day", "Status": "Enabled", "ExpirationInDays": 1,
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            ]},
            "CorsConfiguration": {"CorsRules": [{
                "Id": "frontend-import-uploads-and-downloads",
                "AllowedMethods": ["PUT", "GET"],
                "AllowedOrigins": frontend_origins(),
                "AllowedHeaders": ["content-type"],
                "ExposedHeaders": ["ETag"],
                "MaxAge": 600,
            }]},
        },
    }
    r["ExportBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref("ExportBucket"),
            "PolicyDocument": {"Version": "2012-10-17",
                               "Statement": [_deny_insecure_transport("ExportBucket")]},
        },
    }
    return r


def chalice_overrides(tables: list[str]) -> dict[str, dict]:
    """Deep-merged into the resources Chalice generates (same logical ids)."""
    cors = {"Fn::If": [
        "HasExtraCorsOrigins",
        sub("https://${FrontendDistribution.DomainName},${ExtraCorsOrigins}"),
        sub("https://${FrontendDistribution.DomainName}"),
    ]}
    return {
        REST_API: {"Properties": {
            "MethodSettings": [{
                "ResourcePath": "/*", "HttpMethod": "*",
                "ThrottlingRateLimit": ref("ApiThrottlingRateLimit"),
                "ThrottlingBurstLimit": ref("ApiThrottlingBurstLimit"),
            }],
            "TracingEnabled": True,
            "GatewayResponses": gateway_responses(),
        }},
        API_FUNCTION: {
            "DependsOn": [API_LOG_GROUP],
            "Properties": {
                # Chalice's deployer names; the role policy names their log groups
                "FunctionName": sub("chorus-${Stage}"),
                "Environment": {"Variables": {"CHORUS_CORS_ORIGINS": cors}},
            },
        },
        SWEEP_FUNCTION: {
            # the schedule starts with the function: let the tables exist first
            "DependsOn": [SWEEP_LOG_GROUP, *tables],
            "Properties": {"FunctionName": sub("chorus-${Stage}-sweep")},
        },
        WORKER_FUNCTION: {
            "DependsOn": [WORKER_LOG_GROUP],
            "Properties": {
                "FunctionName": sub("chorus-${Stage}-" + WORKER_HANDLER),
                # app.py names a placeholder stream (CHORUS_JOBS_STREAM_ARN at package time);
                # the mapping reads the stage's jobs table's stream
                "Events": {WORKER_EVENT: {"Properties": {
                    "Stream": get_att(logical_id(JOBS_TABLE), "StreamArn"),
                    **WORKER_EVENT_SETTINGS,
                }}},
            },
        },
        # Chalice names `${ApiHandler}` here, which is no resource; name the groups directly
        # (no Ref: the functions depend on their groups, so nothing logs before retention is set)
        API_LOG_GROUP: {"Properties": {"LogGroupName": sub("/aws/lambda/chorus-${Stage}")}},
        SWEEP_LOG_GROUP: {"Properties": {"LogGroupName": sub("/aws/lambda/chorus-${Stage}-sweep")}},
        WORKER_LOG_GROUP: {"Properties": {
            "LogGroupName": sub("/aws/lambda/chorus-${Stage}-" + WORKER_HANDLER)}},
    }


def resources_template() -> dict:
    tables = table_resources()
    resources: dict[str, dict] = {}
    resources.update(tables)
    resources.update(static_resources())
    resources.update(chalice_overrides(list(tables)))
    resources = {name: with_skips(name, body) for name, body in resources.items()}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Chorus: tables, frontend, export bucket, API and job worker settings "
                       "(generated by scripts/build_template.py; do not edit).",
        "Parameters": {
            "Stage": {"Type": "String", "AllowedPattern": "^[a-z][a-z0-9]{0,15}$",
                      "Description": "The Chalice stage (dev, prod)."},
            "TablePrefix": {"Type": "String", "AllowedPattern": "^[A-Za-z0-9_.-]{1,200}$",
                            "Description": "CHORUS_TABLE_PREFIX of the stage."},
            "ExportBucketName": {"Type": "String",
                                 "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                                 "Description": "CHORUS_EXPORT_BUCKET of the stage."},
            "ExtraCorsOrigins": {"Type": "String", "Default": "",
                                 "Description": "More allowed browser origins, comma-separated "
                                                "(CHORUS_CORS_ORIGINS of the stage)."},
            "TableDeletionProtection": {"Type": "String", "Default": "true",
                                        "AllowedValues": ["true", "false"]},
            "ApiThrottlingRateLimit": {"Type": "Number", "Default": DEFAULT_RATE_LIMIT,
                                       "MinValue": 1},
            "ApiThrottlingBurstLimit": {"Type": "Number", "Default": DEFAULT_BURST_LIMIT,
                                        "MinValue": 1},
        },
        "Conditions": {
            "ProtectTables": {"Fn::Equals": [ref("TableDeletionProtection"), "true"]},
            "HasExtraCorsOrigins": {"Fn::Not": [{"Fn::Equals": [ref("ExtraCorsOrigins"), ""]}]},
        },
        "Resources": resources,
        "Outputs": {
            "FrontendURL": {"Value": sub("https://${FrontendDistribution.DomainName}/")},
            "FrontendBucketName": {"Value": ref("FrontendBucket")},
            "FrontendDistributionId": {"Value": ref("FrontendDistribution")},
            "ExportBucketName": {"Value": ref("ExportBucket")},
            "TablePrefix": {"Value": ref("TablePrefix")},
        },
    }


def artifacts_template() -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Chorus: the bucket `aws cloudformation package` uploads Lambda code to "
                       "(generated by scripts/build_template.py; do not edit).",
        "Resources": {"ArtifactsBucket": with_skips("ArtifactsBucket", {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                **_private_bucket(),
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "expire-old-packages", "Status": "Enabled", "ExpirationInDays": 30,
                     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
            },
        }), "ArtifactsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": ref("ArtifactsBucket"), "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [_deny_insecure_transport("ArtifactsBucket")]}},
        }},
        "Outputs": {"ArtifactsBucketName": {"Value": ref("ArtifactsBucket")}},
    }


# -- the Lambda role ---------------------------------------------------------------------------
def _arn(service: str, resource: str) -> dict:
    return sub("arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s" % (service, resource))


ROLES = ("api", "worker")  # the API handler with the sweep; the job worker


def _table_statements(prefix: str, actions: dict[str, tuple[str, ...]],
                      indexes: dict[str, tuple[str, ...] | list[str]]) -> list[dict]:
    statements = []
    for base_name in sorted(actions):
        statements.append({
            "Sid": "Table" + logical_id(base_name)[:-len("Table")],
            "Effect": "Allow",
            "Action": [f"dynamodb:{a}" for a in sorted(actions[base_name])],
            "Resource": [_arn("dynamodb", f"table/{prefix}{base_name}")],
        })
    statements.append({
        "Sid": "QueryIndexes",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": [_arn("dynamodb", f"table/{prefix}{base_name}/index/{index}")
                     for base_name in sorted(indexes) for index in sorted(indexes[base_name])],
    })
    return statements


def _logs_statement(function_names: list[str]) -> dict:
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [_arn("logs", f"log-group:/aws/lambda/{name}:*") for name in function_names],
    }


def policy_document(stage: str, config: dict | None = None, role: str = "api") -> dict:
    """The role policy of the API handler and the sweep (`api`) or of the job worker."""
    if role not in ROLES:
        raise ValueError(f"no role {role!r}: one of {ROLES}")
    s = stage_settings(stage, config)
    prefix = s["table_prefix"]
    indexes = index_names()
    unknown = set(TABLE_ACTIONS) ^ set(indexes)
    if unknown:
        raise ValueError(f"TABLE_ACTIONS and the models disagree on tables: {sorted(unknown)}")
    strange = (set(WORKER_TABLE_ACTIONS) | set(WORKER_INDEXES)) - set(indexes)
    strange |= {f"{t}/index/{i}" for t, names in WORKER_INDEXES.items() for i in names
                if t in indexes and i not in indexes[t]}
    if strange:
        raise ValueError(f"the worker's grants name unknown tables or indexes: {sorted(strange)}")
    bucket = s["export_bucket"]
    list_bucket = {
        "Sid": "MissingUploadIsNotFound",
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": [sub("arn:${AWS::Partition}:s3:::%s" % bucket)],
    }
    if role == "worker":
        statements = [_logs_statement([s["worker_function"]])]
        statements += _table_statements(prefix, WORKER_TABLE_ACTIONS, WORKER_INDEXES)
        statements.append({
            "Sid": "ReadJobsStream",
            "Effect": "Allow",
            "Action": [f"dynamodb:{a}" for a in STREAM_ACTIONS],
            # the stream of this stack's jobs table (this file is a CloudFormation fragment)
            "Resource": [get_att(logical_id(JOBS_TABLE), "StreamArn")],
        })
        statements.append({
            "Sid": "ImportUploads",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject"],
            "Resource": [sub("arn:${AWS::Partition}:s3:::%s/%s*" % (bucket, IMPORT_PREFIX))],
        })
        statements.append(list_bucket)
        return {"Version": "2012-10-17", "Statement": statements}
    statements = [_logs_statement([s["api_function"], s["sweep_function"]])]
    statements += _table_statements(prefix, TABLE_ACTIONS, indexes)
    statements.append({
        "Sid": "ExportAndImportObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": [sub("arn:${AWS::Partition}:s3:::%s/%s*" % (bucket, prefix_))
                     for prefix_ in EXPORT_PREFIXES],
    })
    statements.append(list_bucket)
    return {"Version": "2012-10-17", "Statement": statements}


# -- files ---------------------------------------------------------------------------------------
def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[Path, str]:
    config = load_config()
    files = {RESOURCES: render(resources_template()), ARTIFACTS: render(artifacts_template())}
    for stage in stage_names(config):
        settings = stage_settings(stage, config)
        files[ROOT / ".chalice" / settings["policy_file"]] = render(
            policy_document(stage, config))
        files[ROOT / ".chalice" / settings["worker_policy_file"]] = render(
            policy_document(stage, config, role="worker"))
    return files


def stale_files() -> list[Path]:
    return [path for path, text in generated_files().items()
            if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a generated file is missing or stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run scripts/build_template.py)")
        return 1 if stale else 0
    for path, text in generated_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
