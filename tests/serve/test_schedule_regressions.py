"""Regressions found by attacking ``pushfn serve``'s schedule expressions (review 2).

Each test names the input that broke, and asserts the behaviour the clouds document instead.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushfn.serve.schedules import ScheduleError, parse_expression

UTC = timezone.utc
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(99999999999999999999 days)",
        "rate(100000000 minutes)",
        f"rate({'9' * 5000} hours)",
        "@every 99999999999999999h",
        f"@every {'9' * 5000}m",
    ],
)
def test_a_huge_interval_is_refused_by_rule_not_by_overflow(expression: str) -> None:
    with pytest.raises(ScheduleError, match="at most"):
        parse_expression(expression)


@given(st.integers(1, 10**30), st.sampled_from(["minutes", "hours", "days"]))
def test_any_rate_parses_and_fires_or_is_refused_cleanly(count: int, unit: str) -> None:
    text = f"rate({count} {unit})" if count > 1 else f"rate(1 {unit[:-1]})"
    try:
        timing = parse_expression(text)
    except ScheduleError as exc:
        assert "at most" in str(exc)
    else:
        assert timing.next_after(BASE, started=BASE) > BASE
