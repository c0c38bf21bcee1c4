"""sequence and absence: ordering, references to earlier events, timeouts, partitions."""

from __future__ import annotations

from ascep.cep.replay import replay, replay_rule
from unit.cep.helpers import rule, tick

DROP = {
    "first": {"field": "price", "op": ">=", "value": 100},
    "then": {"field": "price", "op": "<", "value": {"ref": "first.price", "factor": 0.99}},
    "within": "5s",
}


def test_sequence_b_refers_to_a() -> None:
    alerts = replay_rule(rule("sequence", DROP), [tick(0, 100), tick(1_000, 99.5), tick(2_000, 98.9)])
    assert len(alerts) == 1
    assert [e["price"] for e in alerts[0]["matched_events"]] == [100, 98.9]
    assert alerts[0]["values"]["elapsed_ms"] == 2_000


def test_sequence_times_out_at_within() -> None:
    assert len(replay_rule(rule("sequence", DROP), [tick(0, 100), tick(5_000, 98)])) == 1
    assert replay_rule(rule("sequence", DROP), [tick(0, 100), tick(5_001, 98)]) == []


def test_sequence_is_per_partition_and_clears_after_a_match() -> None:
    btc, eth = "BTCUSDT", "ETHUSDT"
    events = [tick(0, 100, btc), tick(1, 98, eth), tick(2, 100, btc), tick(3, 98, btc), tick(4, 97, btc)]
    alerts = replay_rule(rule("sequence", DROP), events)
    assert [(a["partition"]["symbol"], a["ts"]) for a in alerts] == [("BTCUSDT", 3)]


def test_sequence_three_steps() -> None:
    steps = [
        {"name": "a", "where": {"field": "kind", "op": "==", "value": "login"}},
        {"name": "b", "where": {"field": "kind", "op": "==", "value": "withdraw"}},
        {"name": "c", "where": {"all": [{"field": "kind", "op": "==", "value": "withdraw"},
                                        {"field": "amount", "op": ">", "value": {"ref": "b.amount"}}]}},
    ]  # fmt: skip
    r = rule("sequence", {"steps": steps, "within": 60}, partition_by=["user"])
    events = [
        {"user": "u", "kind": "login", "ts": 0},
        {"user": "u", "kind": "withdraw", "amount": 10, "ts": 1},
        {"user": "u", "kind": "withdraw", "amount": 5, "ts": 2},
        {"user": "u", "kind": "withdraw", "amount": 11, "ts": 3},
    ]
    assert [a["ts"] for a in replay_rule(r, events)] == [3]


ABSENT = {
    "first": {"field": "status", "op": "==", "value": "open"},
    "then": {"all": [{"field": "status", "op": "==", "value": "closed"},
                     {"field": "order", "op": "==", "value": {"ref": "first.order"}}]},
    "within": "10s",
}  # fmt: skip


def test_absence_fires_at_the_deadline_once_time_has_passed() -> None:
    r = rule("absence", ABSENT, stream="signals", partition_by=["account"])
    events = [
        {"account": "x", "order": 1, "status": "open", "ts": 0},
        {"account": "y", "status": "noise", "ts": 12_001},
    ]
    alerts = replay_rule(r, events)
    assert len(alerts) == 1
    assert alerts[0]["ts"] == 10_000
    assert alerts[0]["matched_events"][0]["order"] == 1


def test_absence_cancelled_by_a_matching_b_in_time() -> None:
    r = rule("absence", ABSENT, stream="signals", partition_by=["account"])
    events = [
        {"account": "x", "order": 1, "status": "open", "ts": 0},
        {"account": "x", "order": 2, "status": "closed", "ts": 5_000},  # other order: not the B of order 1
        {"account": "x", "order": 1, "status": "closed", "ts": 10_000},  # exactly at the deadline: in time
        {"account": "y", "status": "noise", "ts": 30_000},
    ]
    assert replay_rule(r, events) == []


def test_absence_b_after_the_deadline_does_not_cancel() -> None:
    r = rule("absence", ABSENT, stream="signals", partition_by=["account"])
    events = [{"account": "x", "order": 1, "status": "open", "ts": 0},
              {"account": "x", "order": 1, "status": "closed", "ts": 10_001}]  # fmt: skip
    assert [a["ts"] for a in replay_rule(r, events)] == [10_000]


def test_absence_not_due_yet_at_end_of_input() -> None:
    r = rule("absence", ABSENT, stream="signals", partition_by=["account"])
    events = [
        {"account": "x", "order": 1, "status": "open", "ts": 0},
        {"account": "y", "status": "n", "ts": 9_000},
    ]
    assert replay_rule(r, events) == []


def test_absence_until_lets_time_run_past_the_last_event() -> None:
    r = rule("absence", ABSENT, stream="signals", partition_by=["account"])
    events = [{"account": "x", "order": 1, "status": "open", "ts": 0}]
    assert replay(r, events).matches == []
    assert [a["ts"] for a in replay(r, events, until=10_001).matches] == [10_000]
