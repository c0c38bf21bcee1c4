"""The worker's Celery application: ``celery -A ascep.tasks.celery_app worker``.

Worker-only: the one module that builds a Celery app when imported (the ``-A`` target must hold
one), from the tasks service's settings. The tasks API never imports it; it builds its own client
app in its factory (:func:`ascep.tasks.celery_setup.make_celery`, whose docstring lists the
delivery guarantees). The task itself, heartbeats and the reaper are in :mod:`ascep.tasks.worker`,
which the app ``include``s.
"""

from __future__ import annotations

from ascep.tasks.celery_setup import make_celery
from ascep.tasks.settings import TasksSettings

celery_app = make_celery(TasksSettings.load())
