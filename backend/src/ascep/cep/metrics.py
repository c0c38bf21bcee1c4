"""Prometheus view of the engine, computed at scrape time from counters it keeps anyway."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ascep.cep.runner import EngineRunner


class CepCollector(Collector):
    def __init__(self, runner: EngineRunner) -> None:
        self.runner = runner

    def collect(self) -> Iterator[Metric]:
        engine = self.runner.engine
        stats = engine.stats
        yield CounterMetricFamily("cep_events", "Events evaluated by the engine", value=stats.events)
        yield CounterMetricFamily(
            "cep_malformed_events", "Events skipped as malformed", value=stats.malformed
        )
        yield CounterMetricFamily("cep_alerts", "Rule matches that produced an alert", value=stats.alerts)
        yield CounterMetricFamily(
            "cep_rule_errors", "Rules disabled because they raised", value=stats.rule_errors
        )
        yield GaugeMetricFamily("cep_events_per_second", "Recent event rate", value=stats.rate())
        yield GaugeMetricFamily(
            "cep_subscription_up",
            "1 while the event subscription is alive",
            value=int(self.runner.state == "connected"),
        )
        evaluated = CounterMetricFamily("cep_rule_events", "Events evaluated per rule", labels=["rule_id"])
        matches = CounterMetricFamily("cep_rule_matches", "Matches per rule", labels=["rule_id"])
        eval_time = GaugeMetricFamily(
            "cep_rule_eval_seconds", "Evaluation time per rule", labels=["rule_id", "stat"]
        )
        with self.runner.lock:  # the loop may be changing the rule set
            runtimes = engine.runtimes()
            reports = [(str(rt.rule.rule_id), rt.stats.evaluated, rt.stats.matches, rt.stats.as_dict())
                       for rt in runtimes]  # fmt: skip
        for rid, evaluated_count, match_count, report in reports:
            evaluated.add_metric([rid], evaluated_count)
            matches.add_metric([rid], match_count)
            for stat in ("eval_mean_us", "eval_p99_us"):
                if report[stat] is not None:
                    eval_time.add_metric([rid, stat.split("_")[1]], report[stat] / 1e6)
        yield from (evaluated, matches, eval_time)
        webhooks = self.runner.actions.webhooks
        yield CounterMetricFamily(
            "cep_webhooks_delivered", "Webhook deliveries that succeeded", value=webhooks.delivered
        )
        yield CounterMetricFamily("cep_webhooks_failed", "Webhook deliveries given up", value=webhooks.failed)
        yield CounterMetricFamily(
            "cep_webhooks_dropped", "Webhook deliveries dropped (queue full)", value=webhooks.dropped
        )
        yield CounterMetricFamily(
            "cep_webhooks_refused",
            "Webhook deliveries refused by WEBHOOK_ALLOWED_HOSTS (never sent)",
            value=webhooks.refused,
        )
