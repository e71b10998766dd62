"""cfn-lint and checkov on the merged templates (tools from build/infra-tools)."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from scripts import build_template
from tests.infra.conftest import ROOT

ARTIFACTS = ROOT / "infra" / "artifacts.json"


def _run(command: list, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)


def test_cfn_lint_finds_no_errors(each_stage, tools, tool_env):
    """cfn-lint runs the SAM transform itself, so this also checks what SAM makes of
    Chalice's resources and our gateway responses. Exit bits: 2 errors, 4 warnings, 8 info."""
    result = _run([tools["cfn-lint"], each_stage.package.template, ARTIFACTS], tool_env)
    assert result.returncode & 2 == 0, result.stdout + result.stderr
    assert result.returncode == 0, "cfn-lint warnings:\n" + result.stdout


def _checkov(tools, env, *files) -> list[dict]:
    command = [tools["checkov"], "--framework", "cloudformation", "--compact", "--quiet",
               "--skip-download", "-o", "json"]
    for path in files:
        command += ["-f", path]
    result = _run(command, env)
    assert result.stdout.strip(), result.stderr[-3000:]
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def _failed(reports) -> list[tuple[str, str, str]]:
    return sorted((r["check_id"], r["resource"].split(".")[-1], r.get("severity") or "")
                  for report in reports for r in report.get("results", {}).get("failed_checks", []))


@pytest.fixture(scope="session")
def stripped_templates(each_stage, tmp_path_factory):
    """The same templates without any checkov suppression."""
    out = tmp_path_factory.mktemp("unsuppressed")
    paths = []
    for source in (each_stage.package.template, ARTIFACTS):
        template = json.loads(source.read_text())
        for resource in template["Resources"].values():
            resource.get("Metadata", {}).pop("checkov", None)
        path = out / f"{each_stage.stage}-{source.name}"
        path.write_text(json.dumps(template))
        paths.append(path)
    return paths


def test_checkov_reports_no_failed_checks(each_stage, tools, tool_env):
    """Offline, checkov knows no severities (they come from the Prisma Cloud API), so nothing
    may fail at all: every accepted finding is a documented suppression."""
    reports = _checkov(tools, tool_env, each_stage.package.template, ARTIFACTS)
    assert sum(r["summary"]["passed"] for r in reports) > 40
    assert _failed(reports) == []
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)


def test_every_suppression_is_still_needed(stripped_templates, tools, tool_env):
    failed = {(check, resource) for check, resource, _ in
              _failed(_checkov(tools, tool_env, *stripped_templates))}
    suppressed = {(check, resource)
                  for resource, skips in build_template.SUPPRESSIONS.items() for check, _ in skips}
    suppressed |= {(check, build_template.logical_id(m.Meta.base_name))
                   for m in build_template.models()[0] for check, _ in
                   build_template.TABLE_SUPPRESSIONS}
    assert failed == suppressed


def test_every_suppression_is_documented_in_the_readme():
    readme = (ROOT / "infra" / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        match = re.match(r"\|\s*`?(CKV2?_AWS_\d+)`?[^|]*\|([^|]+)\|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    resources = dict(build_template.SUPPRESSIONS)
    resources["every table"] = build_template.TABLE_SUPPRESSIONS
    for resource, skips in resources.items():
        for check, _ in skips:
            assert check in rows, f"{check} ({resource}) is not in infra/README.md"
            where = "table" if resource == "every table" else resource
            assert where in rows[check], f"infra/README.md: {check} does not name {resource}"


TRANSFORM = r"""
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

template = json.load(open(sys.argv[1]))
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"  # as after package
params = {"Stage": "prod", "TablePrefix": "chorus-prod-", "ExportBucketName": "chorus-prod-exports"}
print(json.dumps(transform(template, params, NoManagedPolicies())))
"""


def test_the_sam_transform_keeps_throttling_gateway_responses_schedule_and_stream(
        prod, tools, tool_env):
    """What CloudFormation deploys after AWS::Serverless-2016-10-31 (the tools' SAM translator)."""
    python = tools["cfn-lint"].parent / "python"
    result = _run([python, "-c", TRANSFORM, prod.package.template],
                  {**tool_env, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr[-3000:]
    resources = json.loads(result.stdout)["Resources"]
    [stage] = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["Properties"]["StageName"] == "api"
    assert stage["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == {
        "Ref": "ApiThrottlingRateLimit"}
    body = resources["RestAPI"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == set(build_template.GATEWAY_RESPONSES)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert missing["responseParameters"]["gatewayresponse.header.X-Request-ID"] == \
        "context.requestId"
    rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["rate(1 minute)"]
    functions = {r["Properties"]["Handler"]: r for r in resources.values()
                 if r["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == {"app.app", "app.sweep", "app.job_worker"}
    [mapping] = [r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["JobsTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "JobWorker"}
    assert mapping["StartingPosition"] == "LATEST"
