"""The API time format: ``format_api_time`` keeps the text of the last second it wrote, and what it
gives is always the text of that very instant, in any order of calls and from many threads."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pushfn.api_time import format_api_time, parse_api_time


def _expected(epoch: float) -> str:
    # Years 1653-2286 in the range below: strftime's unpadded %Y is not a concern there.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@given(st.lists(st.floats(min_value=-1e10, max_value=1e10) | st.integers(-(10**10), 10**10), max_size=12))
def test_each_text_is_that_instants_whether_kept_from_its_second_or_new(instants: list[float]) -> None:
    # Fractions, negatives, the same second again, going back a second.
    for now in [t for instant in instants for t in (instant, instant + 0.25, instant, instant - 1, instant + 0.999)]:
        assert format_api_time(now) == _expected(now)


def test_datetimes_are_formatted_as_their_utc_second_whatever_the_last_epoch_text() -> None:
    format_api_time(1_700_000_000.5)  # a kept text for that second
    moment = datetime(2023, 11, 14, 22, 13, 20, 900_000, tzinfo=timezone(timedelta(hours=8)))
    assert format_api_time(moment) == "2023-11-14T14:13:20Z"
    assert format_api_time(datetime(999, 1, 2, 3, 4, 5)) == "0999-01-02T03:04:05Z"  # naive = UTC, padded year
    assert format_api_time(1_700_000_000) == "2023-11-14T22:13:20Z"


def test_threads_formatting_different_seconds_at_once_each_get_their_own() -> None:
    failures: list[tuple[float, str]] = []

    def work(offset: int) -> None:
        for n in range(3000):
            now = 1_600_000_000 + offset * 7919 + n * 0.5
            text = format_api_time(now)
            if text != _expected(now):
                failures.append((now, text))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@given(
    st.lists(
        st.integers(0, 4_102_444_799) | st.sampled_from(["", "2024-02-30T00:00:00Z", "x", "2024-05-01T08:00:00"]),
        max_size=12,
    )
)
def test_each_time_text_reads_as_its_own_instant_whether_kept_from_the_last_call_or_new(items: list) -> None:
    # Texts repeat (the same second twice), alternate and fall between invalid ones.
    for item in [each for drawn in items for each in (drawn, drawn)]:
        if isinstance(item, int):
            assert parse_api_time(format_api_time(item)) == float(item)
        else:
            assert parse_api_time(item) is None
