"""Deploy a Chorus stage to AWS, or remove one.

    .venv/bin/python scripts/deploy.py deploy  --stage prod [--dry-run] [--region R] [--profile P]
    .venv/bin/python scripts/deploy.py destroy --stage dev  [--delete-tables] [--yes] [--dry-run]
    .venv/bin/python scripts/deploy.py package --stage prod [--out DIR]   # offline: zip + template

`deploy`: check the generated templates are current -> preflight (a fresh stage: no kept tables,
a free export bucket name; an update: no table change CloudFormation cannot make) -> `chalice
package --merge-template infra/resources.json` (Lambda runtime = the packaging Python; the job
worker's stream event must read the jobs table's stream) -> trim the zip -> the artifacts
bucket stack -> `aws cloudformation package` -> `aws cloudformation deploy` -> build the frontend
(`npm --prefix frontend ci && npm --prefix frontend run build`, when frontend/ exists) -> upload
frontend/dist (hashed assets/ immutable, the rest no-cache) -> config.json with the API URL ->
CloudFront invalidation -> the first admin token (when there is none) -> print the URLs.
`--dry-run` prints every step and command and touches nothing (no AWS, no network).

`destroy`: empty the stage's buckets, delete its stack and its artifacts stack. The DynamoDB
tables are kept (DeletionPolicy Retain and deletion protection) unless `--delete-tables` is given.

Needs: the AWS CLI (`aws`) with credentials, Python 3.12-3.14 for packaging (Lambda's supported
runtimes; found on PATH or under pyenv, or `--python`), and npm for the frontend.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import mimetypes
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import build_template  # noqa: E402

BUILD = ROOT / "build"
FRONTEND = ROOT / "frontend"
MERGE_TEMPLATE = ROOT / "infra" / "resources.json"
ARTIFACTS_TEMPLATE = ROOT / "infra" / "artifacts.json"
ZIP_TARGET_BYTES = 15_000_000

# Lambda runtimes that can still be created (cfn-lint E2533 knows the schedule); the packaging
# Python decides the runtime Chalice writes and the wheels it downloads.
LAMBDA_PYTHONS = ("3.13", "3.12", "3.14")

# botocore ships every AWS service model (~20 MB). The functions talk to these only.
BOTOCORE_SERVICES = ("dynamodb", "s3", "sts")

ASSET_PREFIX = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".wasm": "application/wasm",
}


class DeployError(Exception):
    """A step failed in a way the operator can fix; the message says how."""


# -- the plan: numbered steps, commands echoed, nothing run in a dry run ----------------------
@dataclass
class Plan:
    dry_run: bool = False
    out: Callable[[str], None] = print
    env: dict = field(default_factory=lambda: dict(os.environ))
    number: int = 0

    def step(self, title: str) -> None:
        self.number += 1
        self.out(f"\n[{self.number}] {title}")

    def note(self, text: str) -> None:
        self.out(f"    {text}")

    def run(self, command: list[str], cwd: Path = ROOT, capture: bool = False) -> str:
        self.out("    $ " + " ".join(shlex.quote(str(part)) for part in command))
        if self.dry_run:
            return ""
        result = subprocess.run([str(part) for part in command], cwd=cwd, env=self.env,
                                text=True, capture_output=capture)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout or "").strip() if capture else ""
            raise DeployError(f"command failed ({result.returncode}): {command[0]} "
                              f"{' '.join(map(str, command[1:3]))} ...\n{detail}".rstrip())
        return result.stdout if capture else ""


def aws_cli(plan: Plan, *args: str, capture: bool = False) -> str:
    if not plan.dry_run and shutil.which("aws", path=plan.env.get("PATH")) is None:
        raise DeployError("the AWS CLI (`aws`) is not on PATH: install AWS CLI v2 and "
                          "configure credentials (aws configure / AWS_PROFILE)")
    return plan.run(["aws", *args], capture=capture)


# -- packaging -----------------------------------------------------------------------------------
def _version_of(python: str) -> str | None:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_lambda_python(explicit: str | None = None) -> tuple[str, str]:
    """(interpreter, 'X.Y') for packaging: a Python whose Lambda runtime can be created."""
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    elif os.environ.get("CHORUS_LAMBDA_PYTHON"):
        candidates.append(os.environ["CHORUS_LAMBDA_PYTHON"])
    else:
        candidates.append(str(ROOT / ".venv" / "bin" / "python"))
        for version in LAMBDA_PYTHONS:
            found = shutil.which(f"python{version}")
            if found:
                candidates.append(found)
            pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
            candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}*/bin/python{version}"),
                                 reverse=True)
    for candidate in candidates:
        version = _version_of(candidate)
        if version in LAMBDA_PYTHONS:
            return candidate, version
        if explicit:
            raise DeployError(f"{explicit} is Python {version}; Lambda needs one of "
                              f"{', '.join(LAMBDA_PYTHONS)}")
    raise DeployError(
        "no Python " + "/".join(LAMBDA_PYTHONS) + " found to package the Lambda functions "
        "(Lambda no longer creates functions on older runtimes). Install one (e.g. "
        "`pyenv install 3.13` or `apt-get install python3.13`) or pass --python.")


def _pin(name: str) -> str:
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        match = re.match(rf"^{re.escape(name)}==(\S+)", line.strip())
        if match:
            return f"{name}=={match.group(1)}"
    return name


def packaging_venv(python: str, version: str, plan: Plan) -> Path:
    """A virtualenv with Chalice and the app's requirements on the Lambda's Python version.
    The project's own .venv is used when its Python already is such a version."""
    own = ROOT / ".venv"
    same = Path(python).resolve() == (own / "bin" / "python").resolve()
    if same and (own / "bin" / "chalice").exists():
        return own
    venv = BUILD / f"lambda-python{version}"
    # boto3 stands in for the one the Lambda runtime provides (used by the package smoke test)
    requirements = [_pin("chalice"), _pin("boto3"), "-r", str(ROOT / "requirements.txt")]
    stamp_text = hashlib.sha256(("\n".join(requirements) + (ROOT / "requirements.txt").read_text())
                                .encode()).hexdigest()
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == stamp_text:
        return venv
    plan.note(f"creating the packaging virtualenv {venv.relative_to(ROOT)} (Python {version})")
    if venv.exists():
        shutil.rmtree(venv)
    plan.run([python, "-m", "venv", str(venv)])
    plan.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
              "--disable-pip-version-check", *requirements])
    if not plan.dry_run:
        stamp.write_text(stamp_text)
    return venv


def prune_zip(path: Path, keep_services: Iterable[str] = BOTOCORE_SERVICES) -> tuple[int, int]:
    """Drop the botocore service models the functions never load; (bytes before, after)."""
    keep = set(keep_services)
    before = path.stat().st_size
    pruned = path.with_suffix(".pruned.zip")
    with zipfile.ZipFile(path) as source, \
            zipfile.ZipFile(pruned, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            parts = info.filename.split("/")
            if (len(parts) > 3 and parts[0] == "botocore" and parts[1] == "data"
                    and parts[2] not in keep):
                continue
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED,
                            compresslevel=9)
    pruned.replace(path)
    return before, path.stat().st_size


def check_streams(template: dict) -> None:
    """Every DynamoDB stream event reads a stream of this stack. Chalice writes the ARN that
    app.py names (a placeholder unless CHORUS_JOBS_STREAM_ARN was set when packaging);
    infra/resources.json replaces it with the jobs table's StreamArn. An event it does not
    replace (say, a renamed handler) would deploy a mapping to a stream that does not exist."""
    expected = {"Fn::GetAtt": [build_template.logical_id(build_template.JOBS_TABLE),
                               "StreamArn"]}
    found = []
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            events = resource.get("Properties", {}).get("Events", {})
            found += [(name, event, body.get("Properties", {}).get("Stream"))
                      for event, body in events.items() if body.get("Type") == "DynamoDB"]
        elif resource.get("Type") == "AWS::Lambda::EventSourceMapping":
            found.append((name, "", resource.get("Properties", {}).get("EventSourceArn")))
    wrong = [f"{name}{'.' + event if event else ''}: {json.dumps(stream)}"
             for name, event, stream in found if stream != expected]
    if wrong:
        raise DeployError(
            "stream events not wired to the jobs table's stream (update WORKER_FUNCTION / "
            "WORKER_EVENT in scripts/build_template.py and run it): " + "; ".join(wrong))
    if not found:
        raise DeployError(f"no stream event for the job worker ({build_template.WORKER_FUNCTION})"
                          " in the packaged template")


@dataclass
class Package:
    template: Path
    zip: Path
    runtime: str
    size_before_prune: int
    size: int


def package(stage: str, out_dir: Path, plan: Plan, python: str | None = None) -> Package:
    """`chalice package --merge-template infra/resources.json`, then trim the zip. Offline
    apart from PyPI (Chalice downloads Linux wheels for requirements.txt)."""
    try:
        interpreter, version = find_lambda_python(python)
    except DeployError:
        if not plan.dry_run:
            raise
        interpreter, version = "python" + LAMBDA_PYTHONS[0], LAMBDA_PYTHONS[0]
        plan.note(f"(no Python {'/'.join(LAMBDA_PYTHONS)} found here: a real run would stop)")
    venv = packaging_venv(interpreter, version, plan) if not plan.dry_run else \
        BUILD / f"lambda-python{version}"
    if not plan.dry_run and out_dir.exists():
        shutil.rmtree(out_dir)
    env_region = plan.env.get("AWS_DEFAULT_REGION") or plan.env.get("AWS_REGION") or "us-east-1"
    saved = plan.env
    plan.env = {**saved, "AWS_DEFAULT_REGION": env_region}
    try:
        plan.run([str(venv / "bin" / "chalice"), "package", "--stage", stage,
                  "--merge-template", str(MERGE_TEMPLATE.relative_to(ROOT)), str(out_dir)])
    finally:
        plan.env = saved
    template, bundle = out_dir / "sam.json", out_dir / "deployment.zip"
    plan.note("check the job worker reads the jobs table's stream "
              f"({build_template.WORKER_FUNCTION} -> {build_template.logical_id('jobs')}"
              ".StreamArn)")
    plan.note(f"trim {bundle.name}: keep botocore models of {', '.join(BOTOCORE_SERVICES)} only")
    if plan.dry_run:
        return Package(template, bundle, f"python{version}", 0, 0)
    check_streams(json.loads(template.read_text()))
    before, after = prune_zip(bundle)
    plan.note(f"deployment.zip: {after / 1e6:.2f} MB (from {before / 1e6:.2f} MB; "
              f"target <= {ZIP_TARGET_BYTES / 1e6:.2f} MB), runtime python{version}")
    return Package(template, bundle, f"python{version}", before, after)


# -- AWS reads ---------------------------------------------------------------------------------
def boto_session():
    import boto3

    return boto3.session.Session()


def stack_outputs(session, stack: str) -> dict[str, str] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def table_names(prefix: str) -> list[str]:
    all_models, _ = build_template.models()
    return [prefix + model.Meta.base_name for model in all_models]


def preflight(session, settings: dict, plan: Plan) -> None:
    """Refuse early what CloudFormation would refuse after minutes of work."""
    from botocore.exceptions import ClientError

    if stack_outputs(session, settings["stack"]) is not None:
        plan.note(f"stack {settings['stack']} exists: this is an update")
        refuse_table_changes(session, settings)
        return
    dynamodb = session.client("dynamodb")
    leftovers = []
    for name in table_names(settings["table_prefix"]):
        try:
            dynamodb.describe_table(TableName=name)
            leftovers.append(name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    if leftovers:
        raise DeployError(
            "tables kept from an earlier stage exist: " + ", ".join(leftovers) + ". Delete them "
            "(scripts/deploy.py destroy --delete-tables) or import them into the stack "
            "(aws cloudformation create-change-set --change-set-type IMPORT) first.")
    try:
        session.client("s3").head_bucket(Bucket=settings["export_bucket"])
        raise DeployError(f"bucket {settings['export_bucket']} already exists outside the stack: "
                          "choose another CHORUS_EXPORT_BUCKET in .chalice/config.json and run "
                          "scripts/build_template.py")
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("403", "AccessDenied"):
            raise DeployError(
                f"bucket name {settings['export_bucket']} belongs to another account (S3 names "
                "are global): set another CHORUS_EXPORT_BUCKET for the stage in "
                ".chalice/config.json and run scripts/build_template.py") from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise


def _index_shape(index: dict) -> tuple:
    projection = index.get("Projection", {})
    return (tuple((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]),
            projection.get("ProjectionType"), tuple(sorted(projection.get("NonKeyAttributes", []))))


def _keys(entries: list[dict]) -> list[tuple[str, str]]:
    return sorted((k["AttributeName"], k["KeyType"]) for k in entries)


def table_changes(session, settings: dict) -> dict[str, list[str]]:
    """What an update would change in each existing table that CloudFormation cannot change in
    one stack update: the key schema (a named table cannot be replaced), or more than one
    global secondary index (one may be added or removed per update; a changed one is both)."""
    from botocore.exceptions import ClientError

    dynamodb = session.client("dynamodb")
    refused: dict[str, list[str]] = {}
    for resource in build_template.table_resources().values():
        props = resource["Properties"]
        name = props["TableName"]["Fn::Sub"].replace("${TablePrefix}", settings["table_prefix"])
        try:
            live = dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                continue  # a new table: created by the update
            raise
        problems = []
        if _keys(live["KeySchema"]) != _keys(props["KeySchema"]):
            problems.append("its key schema changes")
        have = {i["IndexName"]: _index_shape(i) for i in live.get("GlobalSecondaryIndexes", [])}
        want = {i["IndexName"]: _index_shape(i) for i in props.get("GlobalSecondaryIndexes", [])}
        added = sorted(set(want) - set(have))
        removed = sorted(set(have) - set(want))
        changed = sorted(n for n in set(want) & set(have) if want[n] != have[n])
        if len(added) + len(removed) + 2 * len(changed) > 1:
            problems += [f"+{n}" for n in added] + [f"-{n}" for n in removed] + \
                [f"~{n}" for n in changed]
        if problems:
            refused[name] = problems
    return refused


def refuse_table_changes(session, settings: dict) -> None:
    refused = table_changes(session, settings)
    if refused:
        raise DeployError(
            "CloudFormation cannot make these table changes in one stack update (it adds or "
            "removes one global secondary index per table and update, and cannot replace a "
            "named table): " + "; ".join(f"{name}: {' '.join(problems)}"
                                         for name, problems in sorted(refused.items()))
            + ". Deploy the stage anew instead: export its projects, `scripts/deploy.py destroy "
            "--stage S --delete-tables`, deploy, import them again (and create new tokens).")


# -- the frontend --------------------------------------------------------------------------------
def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    """Vite's hashed files under assets/ never change; everything else is revalidated."""
    return IMMUTABLE if key.startswith(ASSET_PREFIX) else NO_CACHE


def frontend_files(dist: Path) -> list[tuple[str, Path]]:
    """(key, file) in upload order: assets first, index.html last, so a visitor never gets
    an index.html naming files not there yet. A config.json in dist is replaced by ours."""
    files = sorted((p.relative_to(dist).as_posix(), p) for p in dist.rglob("*") if p.is_file())
    files = [(key, path) for key, path in files if key != "config.json"]
    rank = {True: 0, False: 1}
    return sorted(files, key=lambda kp: (rank[kp[0].startswith(ASSET_PREFIX)],
                                         kp[0] == "index.html", kp[0]))


def config_json(api_url: str) -> bytes:
    return (json.dumps({"apiBaseUrl": api_url.rstrip("/")}, indent=2) + "\n").encode()


def upload_dist(s3, bucket: str, dist: Path) -> list[dict]:
    """Upload dist/ with its content types and cache headers; returns what was written."""
    written = []
    for key, path in frontend_files(dist):
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(),
                      ContentType=content_type(key), CacheControl=cache_control(key))
        written.append({"key": key, "content_type": content_type(key),
                        "cache_control": cache_control(key)})
    return written


def write_config(s3, bucket: str, api_url: str) -> dict:
    """config.json next to index.html: one build serves every stage (frontend/src/config.ts)."""
    s3.put_object(Bucket=bucket, Key="config.json", Body=config_json(api_url),
                  ContentType="application/json", CacheControl=NO_CACHE)
    return {"key": "config.json", "content_type": "application/json", "cache_control": NO_CACHE}


def upload_frontend(s3, bucket: str, dist: Path, api_url: str) -> list[dict]:
    """The files, then config.json (last: it points the uploaded app at the API)."""
    return [*upload_dist(s3, bucket, dist), write_config(s3, bucket, api_url)]


def invalidate(cloudfront, distribution_id: str) -> str:
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]},
                           "CallerReference": f"chorus-{int(time.time())}-{uuid.uuid4().hex[:8]}"})
    return response["Invalidation"]["Id"]


def ensure_first_admin_token(settings: dict, region: str, out: Callable[[str], None]) -> None:
    """With the operator's credentials: a fresh stage gets one admin token, shown once."""
    os.environ.update({"CHORUS_TABLE_PREFIX": settings["table_prefix"], "CHORUS_AUTH": "token",
                       "AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    os.environ.pop("CHORUS_DYNAMODB_ENDPOINT", None)
    from chalicelib.services.tokens import ensure_first_admin
    from chalicelib.store import tables

    for model in tables.ALL_MODELS:
        model.Meta.region = region
    tables.configure(endpoint=None, prefix=settings["table_prefix"])
    announced: list[str] = []
    ensure_first_admin(announced.append)
    for line in announced:
        out("    " + line)
    if not announced:
        out("    an admin token exists already (tokens are shown once, when created)")
    out(f"    more tokens: .venv/bin/python scripts/chorus_tokens.py --stage {settings['stage']} "
        "create --label <who> --role agent")


# -- commands --------------------------------------------------------------------------------------
def _region(plan: Plan, args) -> str:
    region = args.region or plan.env.get("AWS_REGION") or plan.env.get("AWS_DEFAULT_REGION")
    if not region and not plan.dry_run:
        region = boto_session().region_name
    if not region:
        if plan.dry_run:
            return "<region>"
        raise DeployError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    return region


def _setup_env(plan: Plan, args) -> str:
    if args.profile:
        plan.env["AWS_PROFILE"] = args.profile
        os.environ["AWS_PROFILE"] = args.profile
    region = _region(plan, args)
    if region != "<region>":
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            plan.env[name] = region
            os.environ[name] = region
    return region


def _parameters(settings: dict, args) -> list[str]:
    return [f"Stage={settings['stage']}",
            f"TablePrefix={settings['table_prefix']}",
            f"ExportBucketName={settings['export_bucket']}",
            f"ExtraCorsOrigins={settings['cors_origins']}",
            f"TableDeletionProtection={'false' if args.unprotected_tables else 'true'}"]


def cmd_deploy(args, plan: Plan) -> int:
    settings = build_template.stage_settings(args.stage)
    region = _setup_env(plan, args)
    out_dir = BUILD / "deploy" / args.stage
    dry = plan.dry_run
    placeholder = lambda name: f"<{name}>"  # noqa: E731
    plan.out(f"Deploying Chorus stage {args.stage!r} to {region} as stack {settings['stack']}"
             + (" (dry run: nothing is executed)" if dry else ""))

    plan.step("Check the generated templates and policies are current")
    plan.note("$ python scripts/build_template.py --check")
    stale = build_template.stale_files()
    if stale:
        raise DeployError("stale generated files: " + ", ".join(
            str(p.relative_to(ROOT)) for p in stale) + " (run scripts/build_template.py)")

    session = None if dry else boto_session()
    plan.step("Preflight: stack, kept tables, export bucket name")
    if dry:
        plan.note(f"describe stack {settings['stack']}; describe tables "
                  f"{settings['table_prefix']}*; head bucket {settings['export_bucket']}")
    else:
        preflight(session, settings, plan)

    plan.step("Package the Lambda code and the merged template (chalice package)")
    bundle = package(args.stage, out_dir, plan, args.python)

    plan.step(f"Artifacts bucket (stack {settings['artifacts_stack']})")
    aws_cli(plan, "cloudformation", "deploy", "--stack-name", settings["artifacts_stack"],
            "--template-file", str(ARTIFACTS_TEMPLATE.relative_to(ROOT)),
            "--no-fail-on-empty-changeset", "--tags", "app=chorus", f"stage={args.stage}")
    artifacts = placeholder("ArtifactsBucketName") if dry else \
        (stack_outputs(session, settings["artifacts_stack"]) or {})["ArtifactsBucketName"]

    plan.step("Upload the code (aws cloudformation package)")
    packaged = out_dir / "packaged.json"
    aws_cli(plan, "cloudformation", "package", "--template-file", str(bundle.template),
            "--s3-bucket", artifacts, "--s3-prefix", settings["stack"],
            "--output-template-file", str(packaged), "--use-json")

    plan.step(f"Deploy the stack {settings['stack']} (aws cloudformation deploy)")
    aws_cli(plan, "cloudformation", "deploy", "--stack-name", settings["stack"],
            "--template-file", str(packaged),
            "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides", *_parameters(settings, args),
            "--tags", "app=chorus", f"stage={args.stage}")
    outputs = {k: placeholder(k) for k in ("EndpointURL", "FrontendURL", "FrontendBucketName",
                                           "FrontendDistributionId")} if dry else \
        stack_outputs(session, settings["stack"]) or {}
    plan.note("stack outputs: " + ", ".join(f"{k}={v}" for k, v in sorted(outputs.items())))

    if args.skip_frontend:
        plan.step("Frontend: skipped (--skip-frontend)")
    elif not FRONTEND.is_dir():
        plan.step("Frontend: no frontend/ directory, nothing to build")
    else:
        plan.step("Build the frontend")
        plan.run(["npm", "--prefix", "frontend", "ci", "--no-audit", "--no-fund"])
        plan.run(["npm", "--prefix", "frontend", "run", "build"])
        dist = FRONTEND / "dist"
        bucket = outputs["FrontendBucketName"]
        plan.step(f"Upload frontend/dist to s3://{bucket}/ "
                  f"(assets/: {IMMUTABLE}; index.html and the rest: {NO_CACHE})")
        if not dry:
            if not (dist / "index.html").exists():
                raise DeployError("frontend/dist/index.html is missing after the build")
            written = upload_dist(session.client("s3"), bucket, dist)
            plan.note(f"uploaded {len(written)} files")
        api_url = outputs["EndpointURL"].rstrip("/")
        plan.step(f"Write config.json: {{\"apiBaseUrl\": \"{api_url}\"}} ({NO_CACHE})")
        if not dry:
            write_config(session.client("s3"), bucket, api_url)
        plan.step(f"Invalidate CloudFront distribution {outputs['FrontendDistributionId']} (/*)")
        if not dry:
            invalidation = invalidate(session.client("cloudfront"),
                                      outputs["FrontendDistributionId"])
            plan.note(f"invalidation {invalidation} started (takes a minute or two)")

    plan.step("First admin token (created only when the stage has none)")
    if not dry:
        ensure_first_admin_token(settings, region, plan.out)

    plan.step("Done")
    plan.out(f"    Web app: {outputs.get('FrontendURL', placeholder('FrontendURL'))}")
    plan.out(f"    API:     {outputs.get('EndpointURL', placeholder('EndpointURL'))}")
    return 0


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker (a versioned bucket keeps them)."""
    from botocore.exceptions import ClientError

    removed = 0
    try:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            batch = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(batch), 1000):
                s3.delete_objects(Bucket=bucket,
                                  Delete={"Objects": batch[start:start + 1000], "Quiet": True})
            removed += len(batch)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchBucket", "404"):
            return removed
        raise
    return removed


def cmd_destroy(args, plan: Plan) -> int:
    settings = build_template.stage_settings(args.stage)
    region = _setup_env(plan, args)
    dry = plan.dry_run
    tables = table_names(settings["table_prefix"])
    plan.out(f"Removing Chorus stage {args.stage!r} ({settings['stack']}) from {region}"
             + (" (dry run: nothing is executed)" if dry else ""))
    if args.delete_tables:
        plan.out("    --delete-tables: THE STAGE'S DATA WILL BE DELETED: " + ", ".join(tables))
    if not dry and not args.yes:
        answer = input(f"Type the stage name ({args.stage}) to confirm: ")
        if answer.strip() != args.stage:
            plan.out("Not confirmed; nothing changed.")
            return 1
    session = None if dry else boto_session()
    outputs = {} if dry else (stack_outputs(session, settings["stack"]) or {})

    for label, key in (("frontend", "FrontendBucketName"), ("export", "ExportBucketName")):
        bucket = outputs.get(key) or (settings["export_bucket"] if key == "ExportBucketName"
                                      else f"<{key}>")
        plan.step(f"Empty the {label} bucket {bucket} (every version)")
        if not dry and not bucket.startswith("<"):
            plan.note(f"removed {empty_bucket(session.client('s3'), bucket)} object versions")

    plan.step(f"Delete the stack {settings['stack']} (tables are retained by it)")
    aws_cli(plan, "cloudformation", "delete-stack", "--stack-name", settings["stack"])
    aws_cli(plan, "cloudformation", "wait", "stack-delete-complete",
            "--stack-name", settings["stack"])

    if args.delete_tables:
        plan.step("Delete the tables (deletion protection off, then delete)")
        for name in tables:
            aws_cli(plan, "dynamodb", "update-table", "--table-name", name,
                    "--no-deletion-protection-enabled")
            aws_cli(plan, "dynamodb", "delete-table", "--table-name", name)
    else:
        plan.step("Keep the tables (pass --delete-tables to delete them)")
        for name in tables:
            plan.note(f"kept: {name}")

    plan.step(f"Delete the artifacts stack {settings['artifacts_stack']}")
    artifacts = "<ArtifactsBucketName>" if dry else \
        (stack_outputs(session, settings["artifacts_stack"]) or {}).get("ArtifactsBucketName")
    if artifacts:
        plan.note(f"empty s3://{artifacts}/")
        if not dry:
            empty_bucket(session.client("s3"), artifacts)
    aws_cli(plan, "cloudformation", "delete-stack", "--stack-name", settings["artifacts_stack"])
    aws_cli(plan, "cloudformation", "wait", "stack-delete-complete",
            "--stack-name", settings["artifacts_stack"])
    plan.step("Done")
    return 0


def cmd_package(args, plan: Plan) -> int:
    out_dir = Path(args.out).resolve() if args.out else BUILD / "deploy" / args.stage
    plan.step(f"Package stage {args.stage} into {out_dir}")
    bundle = package(args.stage, out_dir, plan, args.python)
    if not plan.dry_run:
        plan.out(f"    template: {bundle.template}\n    zip: {bundle.zip} "
                 f"({bundle.size} bytes, {bundle.runtime})")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Deploy or remove a Chorus stage on AWS.")
    sub = parser.add_subparsers(dest="command", required=True)
    stages = build_template.stage_names()

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stage", required=True, choices=stages)
        p.add_argument("--dry-run", action="store_true",
                       help="print every step and command; run nothing")
        p.add_argument("--region", help="AWS region (default: AWS_REGION / your AWS config)")
        p.add_argument("--profile", help="AWS CLI profile")
        p.add_argument("--python", help="Python 3.12-3.14 to package with (the Lambda runtime)")

    deploy = sub.add_parser("deploy", help="package, deploy the stack, publish the frontend")
    common(deploy)
    deploy.add_argument("--skip-frontend", action="store_true")
    deploy.add_argument("--unprotected-tables", action="store_true",
                        help="deploy the tables without deletion protection (throwaway stages)")
    destroy = sub.add_parser("destroy", help="remove a stage (tables kept unless asked)")
    common(destroy)
    destroy.add_argument("--delete-tables", action="store_true",
                         help="also delete the stage's DynamoDB tables and their data")
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    pack = sub.add_parser("package", help="only build the zip and the merged template (offline)")
    common(pack)
    pack.add_argument("--out", help="output directory (default build/deploy/<stage>)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    plan = Plan(dry_run=args.dry_run, out=out)
    commands: dict[str, Callable[[Any, Plan], int]] = {
        "deploy": cmd_deploy, "destroy": cmd_destroy, "package": cmd_package}
    try:
        return commands[args.command](args, plan)
    except DeployError as error:
        out(f"\nerror: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
