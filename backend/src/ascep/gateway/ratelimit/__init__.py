"""Rate limits: per client identity and per service, exact across gateway processes (Redis Lua).

``spec`` (what a limit says), ``scripts`` (the two algorithms in Lua), ``policy`` (a limit in
force and its headers), ``table`` (which limit each target is under), ``limiter`` (one decision,
one ``EVALSHA``), ``outage`` (deciding at once while Redis is away), ``store``/``sync`` (runtime
overrides shared by every gateway), ``step`` (the proxy step), ``wsgi`` (own routes, Socket.IO),
``metrics``, and ``wiring`` (the bundle ``build_app`` holds).
"""
