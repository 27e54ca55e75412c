"""Bounded history: the rings of pushes and calls, pagination and filters, the calls feed (SSE), SQLite persistence."""

from __future__ import annotations

import http.client
import json
import sqlite3
from pathlib import Path

import pytest
from emulator_support import APP_KEY, Caller, FakeClock, notice
from tests.support import make_unusable_place

from pushfn.emulator import Emulator


def test_rings_keep_the_last_entries_and_forget_the_oldest(clock) -> None:
    with Emulator(clock=clock, ring_size=3) as emu:
        caller = Caller(emu, clock)
        ids = [caller.v2("Push", notice(Title=f"t{n}")).json()["MessageId"] for n in range(5)]
        caller.v2("Push", notice(), secret="wrong")  # a refused call joins the calls ring
        pushes = emu.pushes()
        assert [p["message_id"] for p in pushes] == ids[-3:] and [p["seq"] for p in pushes] == [3, 4, 5]
        calls = emu.calls()
        assert len(calls) == 3 and calls[0]["status"] == "refused" and calls[0]["code"] == "SignatureDoesNotMatch"
        # A push that left the ring is gone for QueryPushStatByMsg too; a kept one is still there.
        stat = caller.v2("QueryPushStatByMsg", {"MessageId": ids[0]}).json()["PushStats"]["PushStat"]
        assert stat == []
        assert caller.v2("QueryPushStatByMsg", {"MessageId": ids[-1]}).json()["PushStats"]["PushStat"]
        counts = caller.session.get(f"{emu.url}/_emulator/calls").json()["counts"]
        assert counts == {"sent": 2, "refused": 1, "throttled": 0}  # counted over what the ring keeps
        caller.session.close()


def test_pushes_page_with_since_device_and_limit(api, emu) -> None:
    for n in range(6):
        api.v2("Push", notice(TargetValue="odd" if n % 2 else "even", Title=f"t{n}"))
    url = f"{emu.url}/_emulator/pushes"
    everything = api.session.get(url).json()
    assert list(everything) == ["pushes"] and [p["seq"] for p in everything["pushes"]] == [1, 2, 3, 4, 5, 6]
    page = api.session.get(url, params={"since": 2, "limit": 2}).json()["pushes"]
    assert [p["seq"] for p in page] == [3, 4]
    odd = api.session.get(url, params={"device": "odd"}).json()["pushes"]
    assert [p["title"] for p in odd] == ["t1", "t3", "t5"]
    assert api.session.get(url, params={"since": 6}).json() == {"pushes": []}
    for bad in ({"limit": "0"}, {"limit": "x"}, {"since": "-1"}, {"limit": "99999999"}):
        response = api.session.get(url, params=bad)
        assert response.status_code == 400 and response.json()["error"]


def test_a_pushes_page_is_at_most_max_page_whatever_the_ring_holds() -> None:
    from pushfn.emulator.history import MAX_PAGE, History

    history = History(ring_size=MAX_PAGE + 5)
    for n in range(MAX_PAGE + 5):
        history.add_push({"message_id": str(n), "devices": ["d1" if n % 2 else "d2"]})
    first = history.push_page()
    assert len(first) == MAX_PAGE and first[0]["seq"] == 1 and first[-1]["seq"] == MAX_PAGE
    assert [p["seq"] for p in history.push_page(since=MAX_PAGE)] == [MAX_PAGE + n for n in range(1, 6)]
    assert len(history.push_page(limit=MAX_PAGE + 5)) == MAX_PAGE
    assert [p["seq"] for p in history.push_page(since=MAX_PAGE - 2, device="d1")] == [
        MAX_PAGE,
        MAX_PAGE + 2,
        MAX_PAGE + 4,
    ]


def test_calls_shape_newest_first_and_filters(api, emu) -> None:
    emu.register_device("d1", account="alice", aliases=["al"], tags=["news"], device_type="ios")
    token = "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    sent = api.v2("Push", notice(DeviceType="iOS", IdempotentToken=token, Title="hello"))
    api.v2("Push", notice(Title="x" * 300))  # refused: Title too long
    emu.add_fault("throttle", actions=["Push"])
    api.v2("Push", notice())
    api.v2("QueryAliases", {"DeviceId": "d1"})  # an accepted non-push call is not an inbox entry
    body = api.session.get(f"{emu.url}/_emulator/calls").json()
    assert set(body) == {"calls", "next", "counts"} and body["next"] == 3
    assert [c["status"] for c in body["calls"]] == ["throttled", "refused", "sent"]
    throttled, refused, first = body["calls"]
    assert throttled["fault"] == "throttle" and throttled["code"] == "Throttling.User"
    assert refused["code"] == "InvalidTitle.BytesExceed" and refused["message_id"] is None
    assert first["message_id"] == sent.json()["MessageId"] and first["code"] is None
    assert first["request_id"] == sent.json()["RequestId"] and first["answer"] == sent.json()
    assert first["time"].endswith("Z") and first["action"] == "Push" and first["seq"] == 1
    assert first["params"]["IdempotentToken"] == token and first["params"]["Title"] == "hello"
    assert not {"AccessKeyId", "Signature", "SecurityToken", "SignatureNonce"} & set(first["params"])
    assert first["devices"] == [
        {"device_id": "d1", "device_type": "iOS", "account": "alice", "aliases": ["al"], "tags": ["news"]}
    ]
    assert body["counts"] == {"sent": 1, "refused": 1, "throttled": 1}

    def seqs(**params: str) -> list[int]:
        return [c["seq"] for c in api.session.get(f"{emu.url}/_emulator/calls", params=params).json()["calls"]]

    assert seqs(status="refused") == [2] and seqs(since="2") == [3] and seqs(limit="1") == [3]
    assert seqs(account="alice") == [1] and seqs(alias="al") == [1] and seqs(tag="news") == [1]
    assert seqs(device="d1") == [3, 2, 1]  # the refused calls named d1 as their target
    assert seqs(q="BYTESEXCEED") == [2] and seqs(q="hello") == [1] and seqs(before="3") == [2, 1]
    assert api.session.get(f"{emu.url}/_emulator/calls", params={"status": "lost"}).status_code == 400


def test_events_stream_delivers_each_new_call(api, emu) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.request("GET", "/_emulator/events")
        response = connection.getresponse()
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        assert response.readline().startswith(b": ")  # the opening comment
        assert response.readline() == b"\n"
        message_id = api.v2("Push", notice(Title="live")).json()["MessageId"]
        lines = [response.readline() for _ in range(4)]
        assert lines[0] == b"id: 1\n" and lines[1] == b"event: call\n" and lines[3] == b"\n"
        call = json.loads(lines[2].removeprefix(b"data: "))
        assert call["message_id"] == message_id and call["status"] == "sent" and call["params"]["Title"] == "live"
        api.v2("Push", notice(), secret="wrong")
        lines = [response.readline() for _ in range(4)]
        assert json.loads(lines[2].removeprefix(b"data: "))["status"] == "refused"
    finally:
        connection.close()


def test_events_replay_after_last_event_id(api, emu) -> None:
    for _ in range(3):
        api.v2("Push", notice())
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.request("GET", "/_emulator/events", headers={"Last-Event-ID": "1"})
        response = connection.getresponse()
        response.readline(), response.readline()
        ids = []
        for _ in range(2):
            lines = [response.readline() for _ in range(4)]
            ids.append(lines[0])
        assert ids == [b"id: 2\n", b"id: 3\n"]
    finally:
        connection.close()


def test_the_live_feed_replays_at_most_one_page_whatever_the_ring_holds() -> None:
    """``GET /_emulator/events?since=0`` replayed every kept call in one write: with --ring-size in the
    millions, one reconnect held them all in memory at once. The replay is the newest page now."""
    from pushfn.emulator.history import MAX_PAGE, History

    history = History(ring_size=MAX_PAGE + 5)
    for _ in range(MAX_PAGE + 5):
        history.add_call({"status": "sent", "action": "Push", "params": {}, "devices": []})
    replay = history.calls_after(0)
    assert len(replay) == MAX_PAGE and replay[0]["seq"] == 6 and replay[-1]["seq"] == MAX_PAGE + 5
    assert [c["seq"] for c in history.calls_after(MAX_PAGE + 2)] == [MAX_PAGE + 3, MAX_PAGE + 4, MAX_PAGE + 5]


def test_store_keeps_history_across_a_restart(tmp_path) -> None:
    clock = FakeClock()
    store = tmp_path / "history.sqlite"
    with Emulator(clock=clock, store=store) as emu:
        caller = Caller(emu, clock)
        first = caller.v2("Push", notice(Title="kept")).json()["MessageId"]
        caller.v2("Push", notice(), secret="wrong")
        caller.session.close()
    with Emulator(clock=clock, store=store) as emu:
        assert [p["message_id"] for p in emu.pushes()] == [first]
        assert [c["status"] for c in emu.calls()] == ["refused", "sent"]
        caller = Caller(emu, clock)
        second = caller.v2("Push", notice()).json()["MessageId"]
        assert int(second) > int(first)  # a MessageId is never handed out twice
        assert [p["seq"] for p in emu.pushes()] == [1, 2]
        stat = caller.v2("QueryPushStatByMsg", {"MessageId": first}).json()["PushStats"]["PushStat"]
        assert stat[0]["MessageId"] == first  # restored pushes answer the query actions too
        emu.reset()
        caller.session.close()
    with Emulator(clock=clock, store=store) as emu:
        assert emu.pushes() == [] and emu.calls() == []
        caller = Caller(emu, clock)
        assert int(caller.v2("Push", notice()).json()["MessageId"]) > int(second)
        caller.session.close()


def test_store_bounded_by_the_ring(tmp_path) -> None:
    clock = FakeClock()
    store = tmp_path / "h.sqlite"
    with Emulator(clock=clock, store=store, ring_size=2) as emu:
        caller = Caller(emu, clock)
        for n in range(5):
            caller.v2("Push", notice(Title=f"t{n}"))
        caller.session.close()
    import sqlite3

    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT kind, COUNT(*) FROM history GROUP BY kind ORDER BY kind").fetchall()
    assert dict(rows) == {"calls": 2, "meta": 1, "pushes": 2}


def test_unusable_store_is_an_emulator_error(tmp_path) -> None:
    import pytest

    from pushfn.emulator import EmulatorError

    (tmp_path / "not-a-db").write_bytes(b"this is not sqlite at all, not even close" * 10)
    with pytest.raises(EmulatorError):
        Emulator(store=tmp_path / "not-a-db")
    with pytest.raises(EmulatorError):
        Emulator(ring_size=0)


def test_seq_keeps_growing_across_resets_and_a_restart(tmp_path) -> None:
    # A reader pages with since=<seq>: a seq handed out again would hide the new entry from it.
    clock = FakeClock()
    store = tmp_path / "history.sqlite"
    with Emulator(clock=clock, store=store) as emu:
        caller = Caller(emu, clock)
        for _ in range(3):
            caller.v2("Push", notice())
        emu.reset()
        emu.reset()  # a second clear with nothing in between keeps the floor
        caller.v2("Push", notice())
        assert [p["seq"] for p in emu.pushes()] == [4] and [c["seq"] for c in emu.calls()] == [4]
        emu.reset()
        caller.session.close()
    with Emulator(clock=clock, store=store) as emu:
        caller = Caller(emu, clock)
        caller.v2("Push", notice())
        assert [p["seq"] for p in emu.pushes()] == [5] and [c["seq"] for c in emu.calls()] == [5]
        caller.session.close()


def test_store_refuses_another_programs_database(tmp_path) -> None:
    import sqlite3

    import pytest

    from pushfn.emulator import EmulatorError

    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE pushes (x)")
    with pytest.raises(EmulatorError, match="another program"):
        Emulator(store=other)
    with sqlite3.connect(other) as db:
        assert [n for (n,) in db.execute("SELECT name FROM sqlite_master")] == ["pushes"]  # no table added
    Emulator(store=tmp_path / "empty.db").state.close()  # a new (empty) file is fine


def _store_with_one_push(tmp_path, clock) -> tuple[Path, sqlite3.Connection]:
    """A ``--store`` file holding one accepted Push, and a plain SQLite connection to damage it with."""
    store = tmp_path / "history.sqlite"
    with Emulator(clock=clock, store=store) as emu:
        caller = Caller(emu, clock)
        caller.v2("Push", notice())
        caller.session.close()
    return store, sqlite3.connect(store)


def test_store_rows_the_emulator_did_not_write_are_an_emulator_error(tmp_path) -> None:
    import sqlite3

    import pytest

    from pushfn.emulator import EmulatorError

    clock = FakeClock()
    _, source = _store_with_one_push(tmp_path, clock)
    good = {kind: json.loads(body) for kind, body in source.execute("SELECT kind, body FROM history WHERE seq = 1")}
    damaged = [
        ("calls", {**good["calls"], "status": "weird"}),
        ("calls", {k: v for k, v in good["calls"].items() if k != "params"}),
        ("calls", {**good["calls"], "devices": "d1"}),
        ("pushes", {k: v for k, v in good["pushes"].items() if k != "devices"}),
        ("pushes", {**good["pushes"], "seq": 0}),
        ("pushes", ["not", "an", "object"]),
        ("meta", {"floors": [1, "x"]}),
    ]
    for kind, body in damaged:
        copy = tmp_path / f"damaged-{len(list(tmp_path.iterdir()))}.sqlite"
        db = sqlite3.connect(copy)
        source.backup(db)  # the store is in WAL mode: copy through SQLite, not the file
        db.execute("INSERT OR REPLACE INTO history VALUES (?, 1, ?)", (kind, json.dumps(body)))
        db.commit()
        db.close()
        with pytest.raises(EmulatorError, match="not an emulator history file"):
            Emulator(store=copy)
    source.close()


def test_call_devices_come_from_the_registry(api, emu) -> None:
    emu.register_device("d1", account="bob")
    api.v2("Push", notice(), app_key=APP_KEY)
    assert emu.calls()[0]["devices"][0]["account"] == "bob"


def _unusable_store(tmp_path, name: str) -> str:
    if name.lower().startswith(("/", ":", "file:")) or not name:
        return name
    return str(make_unusable_place(tmp_path, name))


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("/dev/null", "regular file"),
        ("fifo", "regular file"),
        ("socket", "regular file"),
        ("link-to-null", "regular file"),
        ("/tmp", "not a directory"),
        ("below-a-file/x.sqlite", "is not a directory"),
        ("no-such-folder/x.sqlite", "does not exist"),
        (":memory:", "keeps nothing across restarts"),
        ("file:history?mode=memory", "keeps nothing across restarts"),
        ("FILE::memory:", "keeps nothing across restarts"),
        ("", "needs a file name"),
        ("a\x00b.sqlite", "NUL"),
    ],
)
def test_store_refuses_paths_that_cannot_keep_history_as_pushfn_store_does(tmp_path, name, rule) -> None:
    """``--store /dev/null`` was refused as "disk I/O error" after SQLite touched the device, a FIFO the
    same, ``:memory:`` and ``file:…?mode=memory`` (a URI to Debian's SQLite) were accepted and kept
    nothing across a restart, NUL escaped as a ValueError: the rules of ``PUSHFN_IDEMPOTENCY_URL``."""
    from pushfn.emulator import EmulatorError

    path = _unusable_store(tmp_path, name)
    journals = [Path(f"{path}-{suffix}") for suffix in ("journal", "wal", "shm")]
    before = [j.stat().st_mtime_ns if j.exists() else None for j in journals]  # /dev is shared: compare
    with pytest.raises(EmulatorError) as info:
        Emulator(store=path)
    assert str(info.value).startswith("--store ") and rule in str(info.value)
    assert [j.stat().st_mtime_ns if j.exists() else None for j in journals] == before  # nothing was opened


@pytest.mark.parametrize("ring_size", [10_000_001, 2**64, 0, -1, 1.5, True, "5"])
def test_python_api_ring_size_has_the_clis_bounds(ring_size) -> None:
    """``Emulator(ring_size=…)`` took any size above the 10,000,000 that ``--ring-size`` and
    ``PUSHFN_EMULATOR_RING_SIZE`` stop at (and "5" escaped as a TypeError): one bound, one error."""
    from pushfn.emulator import EmulatorError
    from pushfn.settings import EMULATOR_MAX_RING_SIZE

    with pytest.raises(EmulatorError, match=f"from 1 to {EMULATOR_MAX_RING_SIZE}"):
        Emulator(ring_size=ring_size)
    assert Emulator(ring_size=EMULATOR_MAX_RING_SIZE).state.history.ring_size == EMULATOR_MAX_RING_SIZE


def test_one_store_file_serves_one_emulator_at_a_time(tmp_path) -> None:
    """Two emulators on one ``--store`` handed out the same MessageIds (500000000001 twice) and
    overwrote each other's rows under the same seq: four pushes, two kept. The second is now refused;
    a stopped emulator frees the file, and starting it again takes it back."""
    import socket

    from pushfn.emulator import EmulatorError

    clock = FakeClock()
    store = tmp_path / "history.sqlite"
    first = Emulator(clock=clock, store=store).start()
    with pytest.raises(EmulatorError, match="in use by another emulator"):
        Emulator(clock=clock, store=store)
    caller = Caller(first, clock)
    sent = caller.v2("Push", notice()).json()["MessageId"]
    caller.session.close()
    first.stop()
    with Emulator(clock=clock, store=store) as second:  # the file is free once the first stopped
        assert [p["message_id"] for p in second.pushes()] == [sent]
        with pytest.raises(EmulatorError, match="in use by another emulator"):
            first.start()  # ... and the first cannot take it back while the second runs
        caller = Caller(second, clock)
        assert int(caller.v2("Push", notice()).json()["MessageId"]) > int(sent)
        caller.session.close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        blocked = Emulator(clock=clock, store=store, port=busy.getsockname()[1])
        with pytest.raises(OSError):
            blocked.start()
    Emulator(clock=clock, store=store).state.close()  # a port in use left the file free for the next try


def test_the_live_feed_replays_a_backlog_of_several_writes_in_order(emu) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        for _ in range(250):  # refused calls (unsigned) are kept too: a backlog of 250, three writes of 100
            connection.request("POST", "/?Action=Push&Version=2016-08-01&Format=JSON")
            connection.getresponse().read()
        connection.request("GET", "/_emulator/events?since=0")
        response = connection.getresponse()
        response.readline(), response.readline()
        ids = []
        for _ in range(250):
            lines = [response.readline() for _ in range(4)]
            ids.append(lines[0])
        assert ids == [f"id: {n}\n".encode() for n in range(1, 251)]
    finally:
        connection.close()


def test_a_request_that_cannot_be_decoded_is_kept_as_a_refused_call(emu) -> None:
    """InvalidParameter.Encoding was answered before the pipeline and never kept: the one refusal the
    inbox and GET /_emulator/calls did not show."""
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        connection.request("POST", "/?Action=Push&Version=2016-08-01&Format=JSON&Title=%ED%A0%80")
        answer = connection.getresponse()
        body = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 400 and body["Code"] == "InvalidParameter.Encoding"
    (call,) = emu.calls()
    assert call["status"] == "refused" and call["code"] == "InvalidParameter.Encoding" and call["params"] == {}
    assert call["request_id"] == body["RequestId"] and emu.state.history.counts["refused"] == 1


def test_a_damaged_message_id_counter_or_push_message_id_is_an_emulator_error_or_skipped(tmp_path) -> None:
    import sqlite3

    import pytest

    from pushfn.emulator import EmulatorError

    clock = FakeClock()
    _, source = _store_with_one_push(tmp_path, clock)
    good_push = json.loads(source.execute("SELECT body FROM history WHERE kind = 'pushes'").fetchone()[0])

    def damaged(kind: str, seq: int, body: str) -> object:
        copy = tmp_path / f"damaged-{len(list(tmp_path.iterdir()))}.sqlite"
        db = sqlite3.connect(copy)
        source.backup(db)
        db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?)", (kind, seq, body))
        db.commit()
        db.close()
        return copy

    # int() raised ValueError / OverflowError / TypeError out of the constructor (a traceback from
    # pushfn emulator) for these, and took 1e300 and true as counters.
    for counter in ['"x"', "Infinity", "[1]", "1e300", "true", "-5", '"１２"', str(2**63)]:
        with pytest.raises(EmulatorError, match="not an emulator history file"):
            Emulator(store=damaged("meta", 0, '{"next_message_id": ' + counter + "}"))
    # A push's MessageId that is no ASCII number is no counter to go on from: "²" and 5,000 digits raised ValueError.
    for message_id in ["²", "9" * 5000]:
        path = damaged("pushes", 1, json.dumps({**good_push, "message_id": message_id}))
        with Emulator(store=path) as emu:
            assert int(emu.state.next_message_id()) > int(good_push["message_id"])
    source.close()


def test_python_api_calls_and_reset_take_the_control_apis_values() -> None:
    import pytest

    from pushfn.emulator import EmulatorError
    from pushfn.emulator.history import MAX_PAGE

    clock = FakeClock()
    with Emulator(clock=clock) as emu:
        caller = Caller(emu, clock)
        for _ in range(3):
            caller.v2("Push", notice())
        caller.session.close()
        # limit=0 and limit=-3 gave one call; since="0" raised TypeError; True was a limit of 1.
        for odd in (
            {"limit": 0},
            {"limit": -3},
            {"limit": MAX_PAGE + 1},
            {"limit": True},
            {"since": "0"},
            {"since": -1},
        ):
            with pytest.raises(EmulatorError, match=next(iter(odd))):
                emu.calls(**odd)
        assert [c["seq"] for c in emu.calls(since=1, limit=1)] == [3]
        emu.register_device("d1")
        with pytest.raises(EmulatorError, match="keep_devices"):
            emu.reset(keep_devices="no")  # bool("no") is True: the devices were kept
        assert len(emu.calls()) == 3 and len(emu.devices()) == 1  # nothing was reset
        emu.reset(keep_devices=False)
        assert emu.calls() == [] and emu.devices() == []
