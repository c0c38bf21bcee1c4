"""The gateway's HTTP proxy: a short pipeline of small steps in front of a pooled forwarder.

A request becomes a :class:`~ascep.gateway.proxy.exchange.Exchange`; each step may answer it,
change it, or pass it on and decorate the answer (see :mod:`.pipeline`). Later features — auth,
rate limits, circuit breakers, retries, instance selection — are new steps, not rewrites.
"""
