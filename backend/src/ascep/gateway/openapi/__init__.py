"""The platform's OpenAPI document: the gateway's own routes plus every service's, as routed.

* :mod:`.schemas` — JSON Schemas of the gateway's own answers;
* :mod:`.security` — the credentials and scopes each route takes, and the answers the gateway adds;
* :mod:`.aggregate` — pure: merge the documents into one (prefixes, namespaces, tags, answers);
* :mod:`.catalog` — fetch each service's ``/openapi.json`` in the background, keep the last good one;
* :mod:`.views` — ``/api/openapi.json|yaml``, ``/api/asyncapi.json``, ``/docs``, ``/redoc``.
"""
