"""JSON Schemas of the tasks API. A submission's ``args`` are each job's own schema (the one the
catalog validates with, :class:`ascep.tasks.jobs.base.Job`); a task record is the
``task_update`` event's definition plus ``result``."""

from __future__ import annotations

from typing import Any

from ascep.common.event_schemas import event_schema
from ascep.common.events import TaskUpdate
from ascep.common.openapi import Component
from ascep.common.openapi.schemas import INTEGER, OBJECT, STRING, array, obj
from ascep.tasks.jobs import DEFAULT_JOBS
from ascep.tasks.records import STATUSES


def _submission() -> dict[str, Any]:
    """``{"name", "args"}`` with ``args`` checked by the named job's schema (one branch per job)."""
    return {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {"name": {"enum": [job.name for job in DEFAULT_JOBS]}, "args": OBJECT},
        "oneOf": [
            {
                "properties": {"name": {"const": job.name}, "args": dict(job.schema)},
                "description": job.description,
            }
            for job in DEFAULT_JOBS
        ],
        "description": "A job of the catalog (GET /tasks/catalog) and its arguments",
    }


def _record() -> dict[str, Any]:
    properties = dict(event_schema(TaskUpdate)["properties"])
    properties["status"] = {"enum": list(STATUSES)}
    properties["result"] = {"description": "what the job returned (present once it succeeded)"}
    return obj(properties, required=["id", "name", "args", "status", "progress", "submitted_ts"])


SUBMISSION = Component("TaskSubmission", _submission())
TASK = Component("TaskRecord", _record())
SUMMARY = Component("TaskSummary", {**_record(), "description": "a task record without its result"})
ACCEPTED = obj({"task_id": STRING, "status": {"enum": list(STATUSES)}, "task": TASK})
ONE = obj({"task": TASK})
LIST = obj({"tasks": array(SUMMARY), "count": INTEGER})
CATALOG = obj({"tasks": array(obj({"name": STRING, "description": STRING, "args_schema": OBJECT}))})
