"""Upstream instances of registered services: discovery, selection, health routing, breakers.

:mod:`model` holds the one shared shape (:class:`Upstream`); the other modules each own one
concern and expose a narrow interface the proxy steps use:

* the instance set of each service (static from the registry, discovered through Redis),
* load balancing (``round_robin``, ``least_request``, ``weighted``),
* health routing (active checks with rise/fall, passive outlier ejection),
* circuit breakers (per instance, state shared by every gateway process through Redis).

A proxy step asks "may this instance take a call now?" through :class:`Upstream` state that is
kept in local memory and refreshed from Redis pub/sub, so the hot path does no Redis round trip.
"""
