"""The deploy's own AWS steps against moto: preflight refusals and the first admin token."""
from __future__ import annotations

import pytest

from chalicelib.store import tables
from scripts import build_template, deploy


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws
    import boto3

    for name in ("CHORUS_TABLE_PREFIX", "CHORUS_AUTH", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, "placeholder")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    regions = {model: model.Meta.region for model in tables.ALL_MODELS}
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")
    for model, region in regions.items():
        model.Meta.region = region
    tables.configure(endpoint=None)


def _notes(plan_lines: list[str]) -> deploy.Plan:
    return deploy.Plan(out=plan_lines.append)


def test_preflight_passes_for_a_fresh_stage(aws):
    lines: list[str] = []
    deploy.preflight(aws, build_template.stage_settings("dev"), _notes(lines))


def test_preflight_refuses_tables_kept_from_a_destroyed_stage(aws):
    tables.configure(endpoint=None, prefix="chorus-dev-")
    tables.TaskItem.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    with pytest.raises(deploy.DeployError, match="chorus-dev-tasks.*--delete-tables"):
        deploy.preflight(aws, build_template.stage_settings("dev"), _notes([]))


def test_preflight_updates_tables_that_need_no_more_than_one_index_change(aws, monkeypatch):
    monkeypatch.setattr(deploy, "stack_outputs", lambda session, stack: {})  # an update
    tables.configure(endpoint=None, prefix="chorus-dev-")
    tables.create_missing_tables()
    aws.client("dynamodb").update_table(  # one index missing: CloudFormation adds it
        TableName="chorus-dev-jobs", GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "jobs-running"}}])
    aws.client("dynamodb").delete_table(TableName="chorus-dev-stats")  # a new table
    lines: list[str] = []
    deploy.preflight(aws, build_template.stage_settings("dev"), _notes(lines))
    assert "this is an update" in lines[0]


def test_preflight_refuses_an_update_changing_several_indexes_of_a_table(aws, monkeypatch):
    monkeypatch.setattr(deploy, "stack_outputs", lambda session, stack: {})  # an update
    old = {"AttributeName": "project_id", "AttributeType": "S"}
    aws.client("dynamodb").create_table(
        TableName="chorus-dev-commits", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "task_id", "AttributeType": "S"},
                              {"AttributeName": "commit_hash", "AttributeType": "S"}, old],
        KeySchema=[{"AttributeName": "task_id", "KeyType": "HASH"},
                   {"AttributeName": "commit_hash", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-project", "Projection": {
            "ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "project_id", "KeyType": "HASH"}]}])
    with pytest.raises(deploy.DeployError,
                       match=r"chorus-dev-commits: \+records-by-path -by-project.*anew"):
        deploy.preflight(aws, build_template.stage_settings("dev"), _notes([]))


def test_preflight_refuses_an_export_bucket_name_in_use(aws):
    aws.client("s3").create_bucket(Bucket="chorus-dev-exports")
    with pytest.raises(deploy.DeployError, match="CHORUS_EXPORT_BUCKET"):
        deploy.preflight(aws, build_template.stage_settings("dev"), _notes([]))


def test_the_first_admin_token_is_created_once(aws):
    settings = build_template.stage_settings("dev")
    tables.configure(endpoint=None, prefix=settings["table_prefix"])
    tables.create_missing_tables()
    first: list[str] = []
    deploy.ensure_first_admin_token(settings, "us-east-1", first.append)
    assert "first admin token" in first[0] and "chorus_tokens.py --stage dev" in first[-1]
    again: list[str] = []
    deploy.ensure_first_admin_token(settings, "us-east-1", again.append)
    assert "exists already" in again[0]
    assert len(list(tables.TokenItem.scan())) == 1


def test_stack_outputs_of_a_missing_stack_is_none(aws):
    assert deploy.stack_outputs(aws, "chorus-dev") is None


def test_a_python_that_lambda_cannot_run_is_refused(tmp_path):
    import sys

    if f"{sys.version_info[0]}.{sys.version_info[1]}" in deploy.LAMBDA_PYTHONS:
        pytest.skip("this interpreter is a valid Lambda runtime")
    with pytest.raises(deploy.DeployError, match="Lambda needs one of"):
        deploy.find_lambda_python(sys.executable)


def _worker_template(stream) -> dict:
    return {"Resources": {"JobWorker": {"Type": "AWS::Serverless::Function", "Properties": {
        "Events": {"JobWorkerDynamodbEventSource": {"Type": "DynamoDB", "Properties": {
            "Stream": stream, "StartingPosition": "LATEST"}}}}}}}


def test_a_packaged_stream_event_must_read_the_jobs_table_stream():
    deploy.check_streams(_worker_template({"Fn::GetAtt": ["JobsTable", "StreamArn"]}))
    placeholder = "arn:aws:dynamodb:us-east-1:000000000000:table/chorus-jobs/stream/placeholder"
    with pytest.raises(deploy.DeployError,
                       match="JobWorker.JobWorkerDynamodbEventSource.*placeholder"):
        deploy.check_streams(_worker_template(placeholder))
    with pytest.raises(deploy.DeployError, match="no stream event"):
        deploy.check_streams({"Resources": {}})
