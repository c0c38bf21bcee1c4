"""What every ASCEP service shares: config, Redis, errors, logging, event names, service base.

Nothing here knows about a specific service. Import submodules explicitly; this package
imports nothing so that entry points can monkey-patch before any networking module loads.
"""
