"""The built-in jobs, one module each, listed explicitly."""

from ascep.tasks.jobs.backtest import BACKTEST_RULE
from ascep.tasks.jobs.export import EXPORT_PRICES
from ascep.tasks.jobs.report import SIGNAL_REPORT

DEFAULT_JOBS = (BACKTEST_RULE, SIGNAL_REPORT, EXPORT_PRICES)
