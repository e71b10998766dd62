"""Chorus API routes. Each route hands its request to chalicelib; nothing else lives here."""
import os

from chalice import Chalice, Rate

from chalicelib.api import http

app = Chalice(app_name="chorus")
app.register_middleware(http.middleware, "http")


def _handle(name: str, **path: str):
    # imported on first use: keeps the Lambda cold start small
    from chalicelib.api.endpoints import handle

    return handle(app.current_request, name, **path)


@app.route("/health", methods=["GET"])
def health():
    return _handle("health")


@app.route("/openapi.json", methods=["GET"])
def openapi():
    return _handle("openapi")


@app.route("/docs", methods=["GET"])
def api_docs():
    """Interactive API docs (Swagger UI over /openapi.json); no auth, like /health."""
    from chalicelib.api import docs

    return docs.page()


@app.route("/docs/{asset}", methods=["GET"])
def api_docs_asset(asset):
    from chalicelib.api import docs
    from chalicelib.api.http import error_body, json_response

    found = docs.asset(asset)
    return found if found is not None else json_response(
        error_body("NOT_FOUND", "No such file."), 404)


# -- projects -------------------------------------------------------------------------------
@app.route("/projects", methods=["POST"])
def create_project():
    return _handle("create_project")


@app.route("/projects", methods=["GET"])
def list_projects():
    return _handle("list_projects")


@app.route("/projects/{project_id}", methods=["GET"])
def get_project(project_id):
    return _handle("get_project", project_id=project_id)


@app.route("/projects/{project_id}", methods=["PUT"])
def update_project(project_id):
    return _handle("update_project", project_id=project_id)


@app.route("/projects/{project_id}", methods=["DELETE"])
def delete_project(project_id):
    return _handle("delete_project", project_id=project_id)


@app.route("/projects/import", methods=["POST"])
def import_project():
    return _handle("import_project")


@app.route("/projects/import-uploads", methods=["POST"])
def create_import_upload():
    return _handle("create_import_upload")


@app.route("/projects/{project_id}/export", methods=["GET"])
def export_project(project_id):
    return _handle("export_project", project_id=project_id)


@app.route("/projects/{project_id}/tasks", methods=["GET"])
def list_top_level_tasks(project_id):
    return _handle("list_top_level_tasks", project_id=project_id)


@app.route("/projects/{project_id}/tasks", methods=["POST"])
def create_task(project_id):
    return _handle("create_task", project_id=project_id)


@app.route("/projects/{project_id}/backlog", methods=["GET"])
def backlog(project_id):
    return _handle("backlog", project_id=project_id)


@app.route("/projects/{project_id}/in-progress", methods=["GET"])
def in_progress(project_id):
    return _handle("in_progress", project_id=project_id)


@app.route("/projects/{project_id}/needs-refinement", methods=["GET"])
def needs_refinement(project_id):
    return _handle("needs_refinement", project_id=project_id)


# -- tasks ----------------------------------------------------------------------------------
@app.route("/tasks/available", methods=["GET"])
def available():
    return _handle("available")


@app.route("/tasks/{task_id}", methods=["GET"])
def get_task(task_id):
    return _handle("get_task", task_id=task_id)


@app.route("/tasks/{task_id}", methods=["PUT"])
def update_task(task_id):
    return _handle("update_task", task_id=task_id)


@app.route("/tasks/{task_id}", methods=["DELETE"])
def delete_task(task_id):
    return _handle("delete_task", task_id=task_id)


@app.route("/tasks/{task_id}/subtasks", methods=["POST"])
def create_subtask(task_id):
    return _handle("create_subtask", task_id=task_id)


@app.route("/tasks/{task_id}/tree", methods=["GET"])
def get_tree(task_id):
    return _handle("get_tree", task_id=task_id)


@app.route("/tasks/{task_id}/ancestry", methods=["GET"])
def get_ancestry(task_id):
    return _handle("get_ancestry", task_id=task_id)


@app.route("/tasks/{task_id}/context", methods=["GET"])
def get_context(task_id):
    return _handle("get_context", task_id=task_id)


@app.route("/tasks/{task_id}/status", methods=["PATCH"])
def change_status(task_id):
    return _handle("change_status", task_id=task_id)


@app.route("/tasks/{task_id}/reorder", methods=["PATCH"])
def reorder_task(task_id):
    return _handle("reorder_task", task_id=task_id)


# -- locks ----------------------------------------------------------------------------------
@app.route("/tasks/{task_id}/lock", methods=["POST"])
def acquire_lock(task_id):
    return _handle("acquire_lock", task_id=task_id)


@app.route("/tasks/{task_id}/lock", methods=["DELETE"])
def release_lock(task_id):
    return _handle("release_lock", task_id=task_id)


@app.route("/tasks/{task_id}/lock/heartbeat", methods=["PATCH"])
def heartbeat_lock(task_id):
    return _handle("heartbeat_lock", task_id=task_id)


@app.route("/locks", methods=["GET"])
def list_locks():
    return _handle("list_locks")


# -- atomic operations, work log, commits ---------------------------------------------------
@app.route("/tasks/{task_id}/size", methods=["POST"])
def size_task(task_id):
    return _handle("size_task", task_id=task_id)


@app.route("/tasks/{task_id}/breakdown", methods=["POST"])
def break_down_task(task_id):
    return _handle("break_down_task", task_id=task_id)


@app.route("/tasks/{task_id}/refine", methods=["POST"])
def refine_task(task_id):
    return _handle("refine_task", task_id=task_id)


@app.route("/tasks/{task_id}/complete", methods=["POST"])
def complete_task(task_id):
    return _handle("complete_task", task_id=task_id)


@app.route("/tasks/{task_id}/flag-refinement", methods=["POST"])
def flag_refinement(task_id):
    return _handle("flag_refinement", task_id=task_id)


@app.route("/tasks/{task_id}/work-log", methods=["POST"])
def add_work_log(task_id):
    return _handle("add_work_log", task_id=task_id)


@app.route("/tasks/{task_id}/work-log", methods=["GET"])
def list_work_log(task_id):
    return _handle("list_work_log", task_id=task_id)


@app.route("/tasks/{task_id}/commits", methods=["POST"])
def record_commit(task_id):
    return _handle("record_commit", task_id=task_id)


@app.route("/tasks/{task_id}/commits", methods=["GET"])
def list_commits(task_id):
    return _handle("list_commits", task_id=task_id)


# -- dependencies, jobs, activity ---------------------------------------------------------
@app.route("/tasks/{task_id}/dependencies", methods=["POST"])
def add_dependency(task_id):
    return _handle("add_dependency", task_id=task_id)


@app.route("/tasks/{task_id}/dependencies", methods=["GET"])
def list_dependencies(task_id):
    return _handle("list_dependencies", task_id=task_id)


@app.route("/tasks/{task_id}/dependencies/{blocker_id}", methods=["DELETE"])
def remove_dependency(task_id, blocker_id):
    return _handle("remove_dependency", task_id=task_id, blocker_id=blocker_id)


@app.route("/jobs/{job_id}", methods=["GET"])
def get_job(job_id):
    return _handle("get_job", job_id=job_id)


@app.route("/projects/{project_id}/activity", methods=["GET"])
def activity(project_id):
    return _handle("activity", project_id=project_id)


@app.route("/projects/{project_id}/history", methods=["GET"])
def history(project_id):
    return _handle("history", project_id=project_id)


@app.route("/projects/{project_id}/agents", methods=["GET"])
def agents(project_id):
    return _handle("agents", project_id=project_id)


# -- every other method of every path: the CORS preflight and 405 (answered here rather than
# by API Gateway, so that every stage answers the same, in the SPEC's envelope) -------------
def _view_name(kind: str, path: str) -> str:
    return kind + "_" + "".join(c if c.isalnum() else "_" for c in path.strip("/"))


def _preflight_for(path: str, methods: list[str]):
    def preflight(**_path):
        return http.preflight_response(app.current_request.headers.get("origin"), methods)

    preflight.__name__ = _view_name("preflight", path)
    return preflight


def _not_allowed_for(path: str, methods: list[str]):
    def not_allowed(**_path):
        return http.method_not_allowed(methods)

    not_allowed.__name__ = _view_name("not_allowed", path)
    return not_allowed


for _path, _views in list(app.routes.items()):
    _allowed = list(_views)
    app.route(_path, methods=["OPTIONS"])(_preflight_for(_path, _allowed))
    _others = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") if m not in _views]
    if _others:
        app.route(_path, methods=_others)(_not_allowed_for(_path, _allowed))


# -- scheduled work -------------------------------------------------------------------------
@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event):
    """Every minute: drop expired lock records, wake stalled jobs, finish project purges."""
    from chalicelib.services.maintenance import run_maintenance

    return run_maintenance()


# the jobs table's stream: a placeholder here; infra/resources.json (scripts/build_template.py)
# points the deployed event source mapping at JobsTable.StreamArn
JOBS_STREAM_ARN = os.environ.get(
    "CHORUS_JOBS_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/chorus-jobs/stream/placeholder")


# one record per invocation: a step may use most of the worker's 900 s
@app.on_dynamodb_record(stream_arn=JOBS_STREAM_ARN, batch_size=1, starting_position="LATEST")
def job_worker(event):
    """Runs a job's next step whenever a write leaves it running and unheld."""
    from chalicelib.services.jobs import on_job_records

    on_job_records(record.new_image for record in event if record.new_image)
