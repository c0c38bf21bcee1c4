"""HTTP API of the tasks service: submit, list, inspect, cancel, catalog. Thin over the records."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, Response, jsonify
from kombu.exceptions import OperationalError

from ascep.common.errors import BadRequest, Conflict, NotFound
from ascep.common.lifecycle import current_runtime
from ascep.common.openapi import Body, Reply, doc
from ascep.common.openapi.params import choice_param, int_param, path_param
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.web import json_body
from ascep.tasks.api_schemas import ACCEPTED, CATALOG, LIST, ONE, SUBMISSION
from ascep.tasks.catalog import Catalog
from ascep.tasks.celery_setup import RUN_TASK
from ascep.tasks.records import FAILED, FINISHED, QUEUED, STATUSES, TaskRecords, public
from ascep.tasks.runtime import TasksRuntime

tasks_blueprint = Blueprint("tasks", __name__)

_DEFAULT_LIMIT = 50
_MAX_LIMIT = 500

_LIMIT = int_param("limit", _DEFAULT_LIMIT, 1, _MAX_LIMIT, "Most tasks to return (newest first).")
_STATUS = choice_param("status", STATUSES, "Only tasks in this state.")
_TASK_ID = {
    "task_id": path_param("task_id", "The task's id", {"type": "string", "maxLength": 64}, example="0")
}
_NO_TASK = {404: "No task with this id"}


def _records() -> TaskRecords:
    return current_runtime(TasksRuntime).records


def _catalog() -> Catalog:
    return current_runtime(TasksRuntime).catalog


def _record(task_id: str) -> dict[str, Any]:
    record = _records().get(task_id)
    if record is None:
        raise NotFound(f"no task {task_id!r}", {"task_id": task_id})
    return public(record)


@tasks_blueprint.get("/tasks/catalog")
@doc("The jobs that can be submitted, each with the JSON Schema of its args", ok=CATALOG)
def catalog() -> Response:
    return jsonify({"tasks": [job.describe() for job in _catalog()]})


@tasks_blueprint.post("/tasks")
@doc(
    "Submit a task",
    body=Body(SUBMISSION),
    status=202,
    ok=Reply("Queued", ACCEPTED),
    errors={
        400: "Not a JSON object, or unknown fields",
        422: "Unknown job, or its args do not fit its schema (details.field)",
        503: "Redis or the task broker is unavailable",
    },
)
def submit() -> tuple[Response, int]:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object {"name", "args"}')
    args = body.get("args", {})
    unknown = sorted(set(body) - {"name", "args"})
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", {"fields": unknown})
    job, args = _catalog().validate(body.get("name"), args)
    record = _records().create(job.name, args)
    try:
        current_runtime(TasksRuntime).celery.send_task(
            RUN_TASK, args=[record["id"], job.name, args], task_id=record["id"]
        )
    except OperationalError:
        _not_queued(record["id"])
        raise
    return jsonify({"task_id": record["id"], "status": record["status"], "task": public(record)}), 202


def _not_queued(task_id: str) -> None:
    """The broker refused the message: the record must not wait for a message that never comes."""
    with contextlib.suppress(*REDIS_UNAVAILABLE_ERRORS):
        _records().transition(
            task_id, (QUEUED,), FAILED, error="not queued: the task broker was unavailable", message="failed"
        )


@tasks_blueprint.get("/tasks")
@doc("Recent tasks, newest first (without results)", query=(_LIMIT, _STATUS), ok=LIST)
def recent() -> Response:
    limit, status = _LIMIT.read(), _STATUS.read()
    tasks = _records().recent(limit, status)
    return jsonify({"tasks": tasks, "count": len(tasks)})


@tasks_blueprint.get("/tasks/<task_id>")
@doc("One task, with its result", params=_TASK_ID, ok=ONE, errors=_NO_TASK)
def one(task_id: str) -> Response:
    return jsonify({"task": _record(task_id)})


@tasks_blueprint.get("/tasks/<task_id>/result.csv")
@doc(
    "An export's CSV, as a download",
    params=_TASK_ID,
    ok=Reply(
        "The CSV file", {"type": "string"}, media="text/csv", headers={"Content-Disposition": "attachment"}
    ),
    errors={404: "No such task, or it has no CSV result"},
)
def result_csv(task_id: str) -> Response:
    """An export's CSV as a download, so a browser or ``curl -O`` gets a file, not JSON."""
    record = _record(task_id)
    result = record.get("result")
    if not isinstance(result, dict) or "csv" not in result:
        raise NotFound(f"task {task_id} has no CSV result", {"task_id": task_id, "status": record["status"]})
    filename = f"{result.get('symbol', 'export').replace('/', '')}-{task_id[:8]}.csv"
    return Response(
        result["csv"],
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@tasks_blueprint.post("/tasks/<task_id>/cancel")
@doc(
    "Cancel a task",
    params=_TASK_ID,
    ok=Reply("Cancelled (it was not running yet)", ACCEPTED),
    replies={202: Reply("Cancellation requested (the worker stops at its next progress report)", ACCEPTED)},
    errors={**_NO_TASK, 409: "The task has finished already"},
)
def cancel(task_id: str) -> tuple[Response, int]:
    _record(task_id)
    accepted, before = _records().request_cancel(task_id)
    if not accepted:
        raise Conflict(f"task {task_id} is already {before}", {"task_id": task_id, "status": before})
    record = _record(task_id)
    return jsonify({"task_id": task_id, "status": record["status"], "task": record}), (
        200 if record["status"] in FINISHED else 202
    )
