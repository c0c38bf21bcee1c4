"""Benchmarks, run as ``python -m ascep.bench <name>`` (or ``./ascep bench <name>``).

Benchmarks measure throughput and latency side by side in one run, interleaved, and report
medians and ratios: this machine is noisy, so absolute numbers from separate runs mislead.
They are never part of the test suite.
"""
