"""ASCEP: Arbitrage Signal Complex Event Processing.

This package root stays import-free on purpose: entry points must be able to import
``ascep.common.asyncmode`` and monkey-patch the standard library before anything opens a socket.
"""

__version__ = "0.1.0"
