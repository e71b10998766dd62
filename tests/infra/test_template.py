"""Security and wiring properties of the template `chalice package --merge-template` builds."""
from __future__ import annotations

import fnmatch
import json
import re

import pytest

from chalicelib.store import tables
from scripts import build_template, deploy
from tests.infra.conftest import ROOT, resolve_sub

SPEC_CODES = {  # SPEC §5: status -> codes
    400: {"MALFORMED_REQUEST"}, 401: {"UNAUTHORIZED"}, 403: {"NOT_LOCK_HOLDER", "FORBIDDEN"},
    404: {"NOT_FOUND"}, 413: {"PAYLOAD_TOO_LARGE"}, 415: {"MALFORMED_REQUEST"},
    429: {"RATE_LIMITED"}, 500: {"INTERNAL_ERROR"}, 503: {"UNAVAILABLE"},
}


FUNCTIONS = ("APIHandler", "Sweep", "JobWorker")
STREAM = {"Fn::GetAtt": ["JobsTable", "StreamArn"]}


# -- the package ---------------------------------------------------------------------------------
def test_chalice_package_builds_the_template_and_the_zip(each_stage):
    assert each_stage.package.template.exists() and each_stage.package.zip.exists()
    assert any("chalice package --stage" in line for line in each_stage.log)
    names = set(each_stage.resources)
    # Chalice's resources and the merged ones are both there
    assert {"APIHandler", "Sweep", "JobWorker", "RestAPI", "ApiHandlerRole", "SweepRole",
            "JobWorkerRole"} <= names
    assert {"TasksTable", "JobsTable", "FrontendDistribution", "ExportBucket"} <= names


def test_the_runtime_can_still_be_created(each_stage):
    for name in FUNCTIONS:
        runtime = each_stage.resources[name]["Properties"]["Runtime"]
        assert runtime in {f"python{v}" for v in deploy.LAMBDA_PYTHONS}, runtime


def test_the_deployment_zip_is_at_most_15_mb(prod, record_property):
    size = prod.package.size
    record_property("deployment_zip_bytes", size)
    print(f"\ndeployment.zip: {size} bytes ({size / 1e6:.2f} MB; before trimming botocore "
          f"models {prod.package.size_before_prune / 1e6:.2f} MB)")
    assert size == prod.package.zip.stat().st_size
    assert size <= deploy.ZIP_TARGET_BYTES


# -- DynamoDB ------------------------------------------------------------------------------------
def test_tables_are_on_demand_recoverable_encrypted_and_protected(each_stage):
    found = each_stage.of_type("AWS::DynamoDB::Table")
    assert len(found) == len(tables.ALL_MODELS)
    for name, table in found.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["ProtectTables", True, False]}
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    params = each_stage.template["Parameters"]
    assert params["TableDeletionProtection"]["Default"] == "true"
    assert each_stage.template["Conditions"]["ProtectTables"] == {
        "Fn::Equals": [{"Ref": "TableDeletionProtection"}, "true"]}
    for name in ("IdempotencyTable", "EventsTable", "JobsTable"):
        ttl = found[name]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_only_the_jobs_table_has_a_stream_of_new_images(each_stage):
    streams = {name: table["Properties"]["StreamSpecification"]
               for name, table in each_stage.of_type("AWS::DynamoDB::Table").items()
               if "StreamSpecification" in table["Properties"]}
    assert streams == {"JobsTable": {"StreamViewType": "NEW_IMAGE"}}


# -- S3 and CloudFront -----------------------------------------------------------------------------
def _bucket_policies(packaged) -> dict[str, dict]:
    return {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]
            for r in packaged.of_type("AWS::S3::BucketPolicy").values()}


def _is_public(principal) -> bool:
    return principal == "*" or (isinstance(principal, dict) and "*" in (
        principal.get("AWS") if isinstance(principal.get("AWS"), list) else [principal.get("AWS")]))


def test_no_bucket_is_public_and_all_are_encrypted(each_stage):
    artifacts = json.loads((ROOT / "infra" / "artifacts.json").read_text())
    buckets = {**each_stage.of_type("AWS::S3::Bucket"),
               **{k: v for k, v in artifacts["Resources"].items()
                  if v["Type"] == "AWS::S3::Bucket"}}
    assert set(buckets) == {"FrontendBucket", "ExportBucket", "ArtifactsBucket"}
    policies = {**_bucket_policies(each_stage), "ArtifactsBucket":
                artifacts["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, name
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert "AccessControl" not in props and "WebsiteConfiguration" not in props
        statements = policies[name]["Statement"]
        for statement in statements:
            if statement["Effect"] == "Allow":
                assert not _is_public(statement["Principal"]), (name, statement)
        assert any(s["Effect"] == "Deny" and s["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}} for s in statements), name


def test_the_frontend_bucket_is_versioned_and_read_only_through_origin_access_control(prod):
    bucket = prod.resources["FrontendBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    allow = [s for s in _bucket_policies(prod)["FrontendBucket"]["Statement"]
             if s["Effect"] == "Allow"]
    assert allow == [{
        "Sid": "CloudFrontReadsThroughOriginAccessControl", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${FrontendBucket.Arn}/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub":
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
            "${FrontendDistribution}"}}}}]
    oac = prod.resources["FrontendOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always" and oac["SigningProtocol"] == "sigv4"


def test_the_distribution_serves_the_app_over_https_with_spa_fallback(prod):
    config = prod.resources["FrontendDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["FrontendOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origin["DomainName"] == {"Fn::GetAtt": ["FrontendBucket", "RegionalDomainName"]}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "FrontendResponseHeadersPolicy"}
    assert config["DefaultRootObject"] == "index.html"
    fallback = {e["ErrorCode"]: (e["ResponseCode"], e["ResponsePagePath"])
                for e in config["CustomErrorResponses"]}
    assert fallback == {403: (200, "/index.html"), 404: (200, "/index.html")}


def test_the_distribution_sends_security_headers(prod):
    policy = prod.resources["FrontendResponseHeadersPolicy"]["Properties"][
        "ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = resolve_sub(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"],
                      {"ExportBucketName": "chorus-prod-exports"})
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "https://chorus-prod-exports.s3.amazonaws.com" in directives["connect-src"]
    assert "https://*.execute-api.us-east-1.amazonaws.com" in directives["connect-src"]
    assert all(h["Override"] for h in headers.values())


def test_the_export_bucket_expires_after_a_day_and_takes_uploads_from_the_frontend(prod):
    props = prod.resources["ExportBucket"]["Properties"]
    assert props["BucketName"] == {"Ref": "ExportBucketName"}
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == 1
    assert "Prefix" not in rule and "Filter" not in rule  # every object
    [cors] = props["CorsConfiguration"]["CorsRules"]
    assert "PUT" in cors["AllowedMethods"]
    assert "content-type" in [h.lower() for h in cors["AllowedHeaders"]]
    assert cors["AllowedOrigins"]["Fn::If"][2] == [
        {"Fn::Sub": "https://${FrontendDistribution.DomainName}"}]
    assert "*" not in json.dumps(cors["AllowedOrigins"])


# -- IAM ---------------------------------------------------------------------------------------
ALLOWED_RESOURCE = [  # after resolving ${AWS::...}; {stage} and {bucket} filled in below
    r"arn:aws:dynamodb:us-east-1:123456789012:table/chorus-{stage}-[a-z-]+",
    r"arn:aws:dynamodb:us-east-1:123456789012:table/chorus-{stage}-[a-z-]+/index/[a-z-]+",
    r"arn:aws:s3:::{bucket}",
    r"arn:aws:s3:::{bucket}/(exports|imports)/\*",
    r"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/chorus-{stage}"
    r"(-sweep|-job_worker)?:\*",
]
# role -> the log groups it writes to
LOG_GROUPS = {"ApiHandlerRole": ("", "-sweep"), "SweepRole": ("", "-sweep"),
              "JobWorkerRole": ("-job_worker",)}


def _role_statements(packaged):
    for name, role in packaged.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement
        assert "ManagedPolicyArns" not in role["Properties"], name


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_the_lambda_roles_have_no_wildcard_actions_or_resources(each_stage):
    settings = build_template.stage_settings(each_stage.stage)
    patterns = [re.compile(p.format(stage=each_stage.stage,
                                    bucket=re.escape(settings["export_bucket"])) + "$")
                for p in ALLOWED_RESOURCE]
    roles = each_stage.of_type("AWS::IAM::Role")
    assert set(roles) == {"ApiHandlerRole", "SweepRole", "JobWorkerRole"}
    statements = list(_role_statements(each_stage))
    assert statements
    for role, statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _as_list(statement["Action"]):
            assert "*" not in action and "?" not in action, (role, action)
            assert action.split(":")[0] in {"dynamodb", "s3", "logs"}, action
        for resource in _as_list(statement["Resource"]):
            if resource == STREAM:  # the jobs table's stream, for the worker only
                assert role == "JobWorkerRole" and statement["Sid"] == "ReadJobsStream"
                continue
            arn = resolve_sub(resource)
            assert isinstance(arn, str) and arn != "*", (role, resource)
            assert any(p.match(arn) for p in patterns), (role, arn)
            if ":log-group:" in arn:
                assert arn.split("/aws/lambda/chorus-" + each_stage.stage)[1][:-2] in \
                    LOG_GROUPS[role], (role, arn)


def test_the_roles_carry_the_stage_policy_files(each_stage):
    settings = build_template.stage_settings(each_stage.stage)
    files = {"ApiHandlerRole": settings["policy_file"], "SweepRole": settings["policy_file"],
             "JobWorkerRole": settings["worker_policy_file"]}
    for name, role in each_stage.of_type("AWS::IAM::Role").items():
        document = json.loads((ROOT / ".chalice" / files[name]).read_text())
        assert role["Properties"]["Policies"] == [
            {"PolicyDocument": document, "PolicyName": role["Properties"]["Policies"][0][
                "PolicyName"]}]
    for name, function in (("APIHandler", "ApiHandlerRole"), ("Sweep", "SweepRole"),
                           ("JobWorker", "JobWorkerRole")):
        assert each_stage.resources[name]["Properties"]["Role"] == {
            "Fn::GetAtt": [function, "Arn"]}


def test_the_policy_names_every_table_and_index_of_the_stage(prod):
    document = build_template.policy_document("prod")
    resources = {resolve_sub(r) for s in document["Statement"] for r in _as_list(s["Resource"])}
    for base_name, indexes in build_template.index_names().items():
        table = f"arn:aws:dynamodb:us-east-1:123456789012:table/chorus-prod-{base_name}"
        assert table in resources
        for index in indexes:
            assert f"{table}/index/{index}" in resources


def test_no_scan_and_no_table_management_for_the_lambda(prod):
    actions = {a for _, s in _role_statements(prod) for a in _as_list(s["Action"])}
    forbidden = {"dynamodb:Scan", "dynamodb:CreateTable", "dynamodb:DeleteTable",
                 "dynamodb:UpdateTable", "s3:DeleteBucket", "s3:PutBucketPolicy",
                 "logs:CreateLogGroup"}
    assert not actions & forbidden


# -- API Gateway -----------------------------------------------------------------------------------
def test_the_stage_is_throttled(prod):
    props = prod.resources["RestAPI"]["Properties"]
    [setting] = props["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    params = prod.template["Parameters"]
    assert params["ApiThrottlingRateLimit"]["Default"] == build_template.DEFAULT_RATE_LIMIT
    assert params["ApiThrottlingBurstLimit"]["Default"] == build_template.DEFAULT_BURST_LIMIT
    assert props["StageName"] == "api"


@pytest.mark.parametrize("kind,status,code", [
    ("MISSING_AUTHENTICATION_TOKEN", 404, "NOT_FOUND"),
    ("UNAUTHORIZED", 401, "UNAUTHORIZED"),
    ("THROTTLED", 429, "RATE_LIMITED"),
    ("DEFAULT_4XX", None, None),
    ("DEFAULT_5XX", None, "INTERNAL_ERROR"),
])
def test_gateway_responses_use_the_error_envelope(prod, kind, status, code):
    responses = prod.resources["RestAPI"]["Properties"]["GatewayResponses"]
    response = responses[kind]
    assert response.get("StatusCode") == status
    headers = response["ResponseParameters"]["Headers"]
    assert headers["X-Request-ID"] == "context.requestId"
    assert headers["Access-Control-Allow-Origin"] == {
        "Fn::Sub": "'https://${FrontendDistribution.DomainName}'"}
    template = response["ResponseTemplates"]["application/json"]
    body = json.loads(template)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["details"] == {}
    assert body["error"]["request_id"] == "$context.requestId"
    if code:
        assert body["error"]["code"] == code


def test_every_gateway_response_code_matches_its_status_in_the_spec(prod):
    responses = prod.resources["RestAPI"]["Properties"]["GatewayResponses"]
    assert set(responses) == set(build_template.GATEWAY_RESPONSES)
    for kind, response in responses.items():
        code = json.loads(response["ResponseTemplates"]["application/json"])["error"]["code"]
        status = response.get("StatusCode")
        if status is not None:
            assert code in SPEC_CODES[status], (kind, status, code)
        else:
            assert code in set().union(*SPEC_CODES.values())


# -- the functions ---------------------------------------------------------------------------------
def test_the_functions_get_the_stage_environment(each_stage):
    settings = build_template.stage_settings(each_stage.stage)
    for name in FUNCTIONS:
        env = each_stage.resources[name]["Properties"]["Environment"]["Variables"]
        assert env["CHORUS_TABLE_PREFIX"] == settings["table_prefix"]
        assert env["CHORUS_EXPORT_BUCKET"] == settings["export_bucket"]
        assert env["CHORUS_AUTH"] == "token"
        for purpose in ("SIZING", "BREAKDOWN", "REFINEMENT", "IMPLEMENTATION"):
            assert int(env[f"CHORUS_LOCK_TTL_{purpose}"]) > 0
        assert "CHORUS_DYNAMODB_ENDPOINT" not in env and "CHORUS_S3_ENDPOINT" not in env
    cors = each_stage.resources["APIHandler"]["Properties"]["Environment"]["Variables"][
        "CHORUS_CORS_ORIGINS"]
    assert cors["Fn::If"][2] == {"Fn::Sub": "https://${FrontendDistribution.DomainName}"}


def test_the_functions_are_named_and_log_to_groups_with_retention(each_stage):
    stage = each_stage.stage
    r = each_stage.resources
    assert r["APIHandler"]["Properties"]["FunctionName"] == {"Fn::Sub": "chorus-${Stage}"}
    assert r["Sweep"]["Properties"]["FunctionName"] == {"Fn::Sub": "chorus-${Stage}-sweep"}
    assert r["JobWorker"]["Properties"]["FunctionName"] == {
        "Fn::Sub": "chorus-${Stage}-job_worker"}
    settings = build_template.stage_settings(stage)
    for function, group in (("APIHandler", "ApiHandlerLogGroup"), ("Sweep", "SweepLogGroup"),
                            ("JobWorker", "JobWorkerLogGroup")):
        assert group in r[function]["DependsOn"]
        name = resolve_sub(r[group]["Properties"]["LogGroupName"], {"Stage": stage})
        function_name = resolve_sub(r[function]["Properties"]["FunctionName"], {"Stage": stage})
        assert name == f"/aws/lambda/{function_name}"
        assert r[group]["Properties"]["RetentionInDays"] > 0
    # what Chalice's deployer would name them, and what the role policies name
    assert resolve_sub(r["JobWorker"]["Properties"]["FunctionName"], {"Stage": stage}) == \
        settings["worker_function"]
    retention = {r[g]["Properties"]["RetentionInDays"]
                 for g in ("ApiHandlerLogGroup", "SweepLogGroup", "JobWorkerLogGroup")}
    assert len(retention) == 1, retention


def test_the_job_worker_reads_the_jobs_stream_with_room_for_a_long_import(each_stage):
    worker = each_stage.resources["JobWorker"]
    props = worker["Properties"]
    assert props["Handler"] == "app.job_worker"
    assert props["Timeout"] == 900  # a step works up to STEP_SECONDS (600 s)
    assert props["MemorySize"] == 3008  # a 100 MB import in memory
    [(name, event)] = props["Events"].items()
    assert name == build_template.WORKER_EVENT and event["Type"] == "DynamoDB"
    settings = event["Properties"]
    assert settings["Stream"] == STREAM  # not app.py's placeholder
    assert settings["StartingPosition"] == "LATEST" and settings["BatchSize"] == 1  # a step may use most of 900 s
    assert settings["MaximumRetryAttempts"] >= 1 and settings["BisectBatchOnFunctionError"]
    assert "placeholder" not in json.dumps(each_stage.template)
    assert "000000000000" not in json.dumps(each_stage.template)
    assert "JobWorkerLogGroup" in worker["DependsOn"]
    # the only stream consumer, and nothing else has a schedule or a stream
    events = {(name, e["Type"]) for name, r in
              each_stage.of_type("AWS::Serverless::Function").items()
              for e in r["Properties"].get("Events", {}).values()}
    assert events == {("Sweep", "Schedule"), ("JobWorker", "DynamoDB")}


def test_the_sweep_and_the_worker_carry_the_same_suppressions(each_stage):
    skips = {name: [s["id"] for s in each_stage.resources[name]["Metadata"]["checkov"]["skip"]]
             for name in FUNCTIONS}
    assert skips["JobWorker"] == skips["Sweep"] == skips["APIHandler"]
    for name in FUNCTIONS:
        assert all(s["comment"] for s in each_stage.resources[name]["Metadata"]["checkov"]["skip"])


def test_the_sweep_runs_every_minute_after_the_tables_exist(each_stage):
    sweep = each_stage.resources["Sweep"]
    events = sweep["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in events.values()] == ["rate(1 minute)"]
    assert sweep["Properties"]["Handler"] == "app.sweep"
    assert sweep["Properties"]["Timeout"] >= 45  # run_maintenance purges for up to 40 s
    assert set(each_stage.of_type("AWS::DynamoDB::Table")) <= set(sweep["DependsOn"])


def test_outputs_name_what_the_deploy_reads(prod):
    outputs = prod.template["Outputs"]
    assert {"EndpointURL", "FrontendURL", "FrontendBucketName", "FrontendDistributionId",
            "ExportBucketName"} <= set(outputs)


def test_only_known_wildcards_anywhere_in_the_roles(prod):
    text = json.dumps([s for _, s in _role_statements(prod)])
    wildcards = sorted(set(re.findall(r'"([^"]*\*[^"]*)"', text)))
    assert all(fnmatch.fnmatch(w, "*/exports/[*]") or fnmatch.fnmatch(w, "*/imports/[*]")
               or w.endswith(":*") and ":log-group:/aws/lambda/chorus-prod" in w
               for w in wildcards), wildcards


def test_only_the_worker_deletes_uploads_and_reads_the_stream(prod):
    actions = {}
    for role, statement in _role_statements(prod):
        actions.setdefault(role, set()).update(_as_list(statement["Action"]))
    stream = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
              "dynamodb:ListStreams"}
    assert stream | {"s3:DeleteObject"} <= actions["JobWorkerRole"]
    for role in ("ApiHandlerRole", "SweepRole"):
        assert not actions[role] & (stream | {"s3:DeleteObject"}), role
    assert "s3:PutObject" not in actions["JobWorkerRole"]
