"""OpenAPI 3.1 of every ASCEP HTTP API, built from the definitions the code itself runs on.

A view says what it is with :func:`doc` (next to the route decorator); its query parameters are
:class:`~ascep.common.openapi.params.Query` objects that both read the request and describe
themselves, its request body is the JSON Schema that validates it. :func:`build_spec` walks the
app's URL map, so a route without ``@doc`` still appears (flagged ``x-undocumented``, and a unit
test fails on it) and a ``@doc`` without a route cannot.
"""

from ascep.common.openapi.model import Body, Component, Operation, Reply, doc, operations_of

__all__ = ["Body", "Component", "Operation", "Reply", "doc", "operations_of"]
