"""Select and prepare the concurrency model a process runs on.

Entry points call :func:`prepare_async_mode` as their first statement: eventlet (and gevent)
must patch the standard library before ``socket``/``threading`` users such as redis-py or
requests are imported, or those libraries would block the whole hub. This is the only place in
the code base that monkey-patches.
"""

import os
import warnings
from collections.abc import Callable
from typing import Any

SUPPORTED_ASYNC_MODES = ("eventlet", "gevent", "threading")
DEFAULT_ASYNC_MODE = "eventlet"


def configured_async_mode() -> str:
    """Return ``ASYNC_MODE`` from the environment, validated."""
    mode = os.environ.get("ASYNC_MODE", DEFAULT_ASYNC_MODE).strip().lower() or DEFAULT_ASYNC_MODE
    if mode not in SUPPORTED_ASYNC_MODES:
        raise SystemExit(
            f"ASYNC_MODE={mode!r} is not supported; choose one of {', '.join(SUPPORTED_ASYNC_MODES)}"
        )
    return mode


def prepare_async_mode() -> str:
    """Monkey-patch the standard library for the configured async mode and return the mode."""
    mode = configured_async_mode()
    if mode == "eventlet":
        # eventlet announces its maintenance mode on import; we chose it knowingly (see README).
        warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    return mode


def blocking_call_runner(mode: str) -> Callable[[Callable[[], Any]], Any]:
    """How to run a CPU-heavy call (a password hash) without stalling the process's hub.

    eventlet and gevent run every request on one OS thread: a 30 ms computation there stalls
    every other request for 30 ms. Their thread pools run it on a real thread (the C code
    releases the GIL) while the hub keeps serving. Without monkey-patching (threading mode,
    tests that build an app in-process) the call simply runs where it is.
    """
    if mode == "eventlet":
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            return tpool.execute
    elif mode == "gevent":
        import gevent
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            return lambda work: gevent.get_hub().threadpool.apply(work)
    return lambda work: work()
