"""A rule's webhook URLs checked against ``WEBHOOK_ALLOWED_HOSTS`` when it is created or changed.

So the author learns at once (422 naming ``$.action[i].url``, with the reason) instead of from a
log line at the first alert. Only the host *as written* is judged here — no DNS lookup: a name's
addresses are what they are when the alert is delivered, and are checked then
(:mod:`ascep.cep.webhook`). The host is taken exactly as the delivery will take it (requests'
URL preparation, then ``urlsplit``), so the two checks can never read a URL differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from ascep.cep.errors import RuleError
from ascep.common.egress import EgressPolicy, EgressRefused


def url_host(url: str) -> str:
    """The host a delivery to ``url`` connects to; :class:`ValueError` for a URL it could not send."""
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
    except requests.RequestException as exc:
        raise ValueError(str(exc)) from exc
    parts = urlsplit(prepared.url or "")
    _ = parts.port  # raises ValueError for a port out of range
    if not parts.hostname:
        raise ValueError("the URL has no host")
    return parts.hostname


def webhook_target_errors(rule: Mapping[str, Any], policy: EgressPolicy) -> list[RuleError]:
    """One :class:`RuleError` per webhook action whose URL the policy refuses."""
    errors: list[RuleError] = []
    for i, action in enumerate(rule.get("action") or ()):
        if not isinstance(action, Mapping) or action.get("type") != "webhook":
            continue
        path = f"$.action[{i}].url"
        try:
            policy.check_host(url_host(str(action.get("url", ""))))
        except ValueError as exc:
            errors.append(RuleError(path, f"is not a URL a webhook can be sent to ({exc})"))
        except EgressRefused as exc:
            errors.append(RuleError(path, f"host {exc.host} {exc.reason}"))
    return errors
