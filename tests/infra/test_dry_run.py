"""`--dry-run` prints every step and runs nothing: no subprocess, no AWS client."""
from __future__ import annotations

import subprocess

import pytest

from scripts import deploy


@pytest.fixture
def offline(monkeypatch):
    """Any command or AWS session would fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a dry run executed something: {args[:1]}")

    real_run = subprocess.run

    def run(command, *args, **kwargs):
        # only the interpreter probe of find_lambda_python() may run (local, no network)
        if isinstance(command, list) and command[-2:-1] == ["-c"] and "version_info" in command[-1]:
            return real_run(command, *args, **kwargs)
        refuse(command)

    monkeypatch.setattr(deploy.subprocess, "run", run)
    monkeypatch.setattr(deploy, "boto_session", refuse)
    import boto3

    monkeypatch.setattr(boto3, "client", refuse)
    monkeypatch.setattr(boto3.session, "Session", refuse)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def dry(argv: list[str]) -> tuple[int, str]:
    lines: list[str] = []
    code = deploy.main(argv, out=lines.append)
    return code, "\n".join(lines)


def _in_order(text: str, needles: list[str]) -> None:
    position = 0
    for needle in needles:
        found = text.find(needle, position)
        assert found >= 0, f"{needle!r} missing (after position {position}) in:\n{text}"
        position = found + len(needle)


def test_deploy_dry_run_prints_every_step_in_order(offline):
    code, text = dry(["deploy", "--stage", "prod", "--dry-run", "--region", "eu-west-1"])
    assert code == 0, text
    _in_order(text, [
        "stage 'prod' to eu-west-1 as stack chorus-prod (dry run",
        "scripts/build_template.py --check",
        "Preflight",
        "chalice package --stage prod --merge-template infra/resources.json",
        "check the job worker reads the jobs table's stream",
        "trim deployment.zip",
        "aws cloudformation deploy --stack-name chorus-prod-artifacts "
        "--template-file infra/artifacts.json",
        "aws cloudformation package --template-file",
        "--s3-bucket '<ArtifactsBucketName>'",
        "aws cloudformation deploy --stack-name chorus-prod",
        "--capabilities CAPABILITY_IAM",
        "--parameter-overrides Stage=prod TablePrefix=chorus-prod- "
        "ExportBucketName=chorus-prod-exports ExtraCorsOrigins= TableDeletionProtection=true",
        "npm --prefix frontend ci",
        "npm --prefix frontend run build",
        "Upload frontend/dist to s3://<FrontendBucketName>/",
        "assets/: public, max-age=31536000, immutable",
        "Write config.json: {\"apiBaseUrl\": \"<EndpointURL>\"}",
        "Invalidate CloudFront distribution <FrontendDistributionId> (/*)",
        "First admin token",
        "Web app: <FrontendURL>",
        "API:     <EndpointURL>",
    ])
    steps = [line for line in text.splitlines() if line.startswith("[")]
    assert [s.split("]")[0] for s in steps] == [f"[{n}" for n in range(1, len(steps) + 1)]


def test_deploy_dry_run_without_a_frontend_says_so(offline, monkeypatch, tmp_path):
    monkeypatch.setattr(deploy, "FRONTEND", tmp_path / "no-frontend")
    code, text = dry(["deploy", "--stage", "dev", "--dry-run", "--region", "us-east-1"])
    assert code == 0
    assert "no frontend/ directory" in text and "npm" not in text
    assert "Stage=dev TablePrefix=chorus-dev-" in text


def test_unprotected_tables_are_an_explicit_choice(offline):
    _, text = dry(["deploy", "--stage", "dev", "--dry-run", "--region", "us-east-1",
                   "--unprotected-tables"])
    assert "TableDeletionProtection=false" in text


def test_destroy_dry_run_keeps_the_tables_by_default(offline):
    code, text = dry(["destroy", "--stage", "dev", "--dry-run", "--region", "us-east-1"])
    assert code == 0, text
    _in_order(text, [
        "Removing Chorus stage 'dev' (chorus-dev)",
        "Empty the frontend bucket",
        "Empty the export bucket chorus-dev-exports",
        "aws cloudformation delete-stack --stack-name chorus-dev",
        "aws cloudformation wait stack-delete-complete --stack-name chorus-dev",
        "Keep the tables (pass --delete-tables",
        "kept: chorus-dev-tasks",
        "aws cloudformation delete-stack --stack-name chorus-dev-artifacts",
    ])
    assert "dynamodb delete-table" not in text and "update-table" not in text


def test_destroy_deletes_tables_only_when_asked(offline):
    code, text = dry(["destroy", "--stage", "dev", "--dry-run", "--region", "us-east-1",
                      "--delete-tables"])
    assert code == 0
    assert "THE STAGE'S DATA WILL BE DELETED" in text
    for table in deploy.table_names("chorus-dev-"):
        assert f"update-table --table-name {table} --no-deletion-protection-enabled" in text
        assert f"aws dynamodb delete-table --table-name {table}" in text


def test_unknown_stage_is_refused():
    with pytest.raises(SystemExit):
        deploy.main(["deploy", "--stage", "staging", "--dry-run"], out=lambda line: None)
