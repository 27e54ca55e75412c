"""Accepted pushes: response shapes, push records, IdempotentToken, Target=ALL pacing, QPS limits."""

from __future__ import annotations

import http.client
import uuid

import pytest
from emulator_support import APP_KEY, OTHER_APP_KEY, error_code, notice

from pushfn.api_time import format_api_time
from pushfn.emulator import Emulator, EmulatorError


def test_push_answer_and_record(api, emu, clock) -> None:
    response = api.v2("Push", notice(StoreOffline="True", JobKey="job-1"))
    body = response.json()
    assert response.status_code == 200 and set(body) == {"RequestId", "MessageId"}
    assert body["MessageId"].isdigit()
    (record,) = emu.pushes()
    assert record["action"] == "Push" and record["message_id"] == body["MessageId"]
    assert record["request_id"] == body["RequestId"] and record["time"] == format_api_time(clock.now)
    assert record["devices"] == ["d1"] and record["device_count"] == 1
    assert record["title"] == "Order shipped" and record["target"] == "DEVICE"
    assert record["params"]["StoreOffline"] == "True" and record["params"]["AppKey"] == str(APP_KEY)
    # signature and routing parameters are not business data
    assert not {"Signature", "SignatureNonce", "AccessKeyId", "Timestamp", "Action"} & set(record["params"])


def test_message_ids_are_distinct_numeric_strings(api) -> None:
    ids = {api.v2("Push", notice()).json()["MessageId"] for _ in range(5)}
    assert len(ids) == 5 and all(i.isdigit() for i in ids)


def test_mass_push_answer_and_one_record_per_task(api, emu) -> None:
    form = {}
    for n in (1, 2):
        form.update({f"PushTask.{n}.{k}": v for k, v in notice(TargetValue=f"d{n}", Title=f"T{n}").items()})
    response = api.v2("MassPush", form=form)
    ids = response.json()["MessageIds"]["MessageId"]
    assert response.status_code == 200 and len(ids) == 2
    records = emu.pushes()
    assert [r["message_id"] for r in records] == ids
    assert [(r["task_index"], r["title"], r["devices"]) for r in records] == [(1, "T1", ["d1"]), (2, "T2", ["d2"])]
    assert records[0]["params"]["Title"] == "T1" and records[0]["params"]["AppKey"] == str(APP_KEY)


def test_idempotent_token_returns_the_first_result_for_15_minutes(api, emu, clock) -> None:
    token = str(uuid.uuid4())
    first = api.v2("Push", notice(IdempotentToken=token)).json()
    clock.advance(14 * 60)
    again = api.v3("Push", notice(IdempotentToken=token, Title="changed")).json()
    assert again["MessageId"] == first["MessageId"] and again["RequestId"] != first["RequestId"]
    assert len(emu.pushes()) == 1
    clock.advance(2 * 60)  # past the window: a new push
    later = api.v2("Push", notice(IdempotentToken=token)).json()
    assert later["MessageId"] != first["MessageId"]
    assert len(emu.pushes()) == 2


def test_idempotent_token_is_scoped_per_app_key(api, emu) -> None:
    token = str(uuid.uuid4())
    a = api.v2("Push", notice(IdempotentToken=token)).json()["MessageId"]
    b = api.v2("Push", notice(IdempotentToken=token), app_key=OTHER_APP_KEY).json()["MessageId"]
    assert a != b and len(emu.pushes()) == 2


def test_idempotent_mass_push_and_failed_first_attempt(api, emu) -> None:
    token = str(uuid.uuid4())
    bad = {f"PushTask.1.{k}": v for k, v in notice(Title="x" * 201).items()}
    assert api.v2("MassPush", {"IdempotentToken": token}, form=bad).status_code == 400  # not remembered
    good = {f"PushTask.1.{k}": v for k, v in notice().items()}
    first = api.v2("MassPush", {"IdempotentToken": token}, form=good).json()
    again = api.v2("MassPush", {"IdempotentToken": token}, form=good).json()
    assert first["MessageIds"] == again["MessageIds"]
    assert len(emu.pushes()) == 1


def test_idempotent_token_is_scoped_per_action(api, emu) -> None:
    token = str(uuid.uuid4())
    assert api.v2("Push", notice(IdempotentToken=token)).json()["MessageId"]
    form = {f"PushTask.1.{k}": v for k, v in notice().items()}
    mass = api.v2("MassPush", {"IdempotentToken": token}, form=form).json()
    assert len(mass["MessageIds"]["MessageId"]) == 1 and len(emu.pushes()) == 2


def test_reset_forgets_tokens(api, emu) -> None:
    token = str(uuid.uuid4())
    first = api.v2("Push", notice(IdempotentToken=token)).json()["MessageId"]
    emu.reset()
    assert api.v2("Push", notice(IdempotentToken=token)).json()["MessageId"] != first


def test_full_pushes_of_one_device_type_are_one_second_apart(api, emu, clock) -> None:
    everyone = notice(Target="ALL", TargetValue="ALL")
    assert api.v2("Push", everyone).status_code == 200
    clock.advance(0.5)
    assert error_code(api.v2("Push", everyone)) == (400, "Throttling.User")
    assert api.v2("Push", {**everyone, "DeviceType": "iOS"}).status_code == 200  # another type
    assert api.v2("Push", everyone, app_key=OTHER_APP_KEY).status_code == 200  # another app
    clock.advance(0.5)
    assert api.v2("Push", everyone).status_code == 200
    assert len(emu.pushes()) == 4


def test_at_most_10_full_push_notices_per_10_minutes(api, clock) -> None:
    everyone = notice(Target="ALL", TargetValue="ALL")
    for _ in range(10):
        assert api.v2("Push", everyone).status_code == 200
        clock.advance(1)
    assert error_code(api.v2("Push", everyone)) == (400, "Throttling.User")
    assert api.v2("Push", {**everyone, "PushType": "MESSAGE"}).status_code == 200  # messages: 30
    clock.advance(600)
    assert api.v2("Push", everyone).status_code == 200


def test_configurable_qps_limit_answers_throttling(api, emu, clock) -> None:
    emu.set_qps_limit("Push", 2)
    assert api.v2("Push", notice()).status_code == 200
    assert api.v2("Push", notice()).status_code == 200
    throttled = api.v2("Push", notice())
    assert error_code(throttled) == (400, "Throttling.User")
    assert api.v2("CheckDevice", {"DeviceId": "d1"}).status_code == 200  # other actions unaffected
    clock.advance(1)
    assert api.v2("Push", notice()).status_code == 200
    emu.set_qps_limit("Push", None)
    assert all(api.v2("Push", notice()).status_code == 200 for _ in range(3))


def test_cancel_push_only_a_scheduled_one(api, emu, clock) -> None:
    scheduled = api.v2("Push", notice(PushTime=format_api_time(clock.now + 3600))).json()["MessageId"]
    immediate = api.v2("Push", notice()).json()["MessageId"]
    assert api.v2("CancelPush", {"MessageId": scheduled}).status_code == 200
    assert emu.pushes()[0]["cancelled"] is True
    assert error_code(api.v2("CancelPush", {"MessageId": scheduled})) == (400, "InvalidMessageId.Status")
    assert error_code(api.v2("CancelPush", {"MessageId": immediate})) == (400, "InvalidMessageId.Status")
    assert error_code(api.v2("CancelPush", {"MessageId": "123"})) == (400, "InvalidMessageId.NotFound")
    assert error_code(api.v2("CancelPush", {"MessageId": "abc"})) == (400, "InvalidMessageId.Format")
    assert error_code(api.v2("CancelPush", {})) == (400, "MissingMessageId")


def test_query_push_stat_by_msg(api, emu) -> None:
    emu.register_device("d1")
    message_id = api.v2("Push", notice(TargetValue="d1,d2")).json()["MessageId"]
    (stat,) = api.v2("QueryPushStatByMsg", {"MessageId": message_id}).json()["PushStats"]["PushStat"]
    assert stat["MessageId"] == message_id and stat["AcceptCount"] == 2 and stat["SentCount"] == 2
    assert api.v2("QueryPushStatByMsg", {"MessageId": "1"}).json()["PushStats"]["PushStat"] == []


def test_list_summary_apps_needs_no_app_key(api) -> None:
    body = api.v2("ListSummaryApps", app_key=None).json()
    assert [a["AppKey"] for a in body["SummaryAppInfos"]["SummaryAppInfo"]] == [APP_KEY, OTHER_APP_KEY]


def test_keep_alive_one_connection_serves_many_answers(emu) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        sockets = set()
        for route in ("/", "/_emulator/pushes", "/_emulator/devices", "/?Action=Push"):
            connection.request("GET", route)
            response = connection.getresponse()
            assert int(response.headers["Content-Length"]) == len(response.read())
            sockets.add(id(connection.sock))
        assert len(sockets) == 1 and connection.sock is not None
    finally:
        connection.close()


def test_v2_answers_xml_unless_format_is_json(api, emu) -> None:
    response = api.v2("Push", notice(), common={"Format": "XML"})
    assert response.headers["Content-Type"].startswith("text/xml")
    message_id = emu.pushes()[0]["message_id"]
    assert f"<PushResponse><RequestId>{response.headers['x-acs-request-id']}</RequestId>" in response.text
    assert f"<MessageId>{message_id}</MessageId></PushResponse>" in response.text
    form = {f"PushTask.{n}.{k}": v for n in (1, 2) for k, v in notice().items()}
    mass = api.v2("MassPush", form=form, common={"Format": None})  # no Format: the documented default is XML
    assert mass.text.count("<MessageId>") == 2 and "<MessageIds><MessageId>" in mass.text
    error = api.v2("Push", notice(Title="<&>" * 100), common={"Format": "xml"})
    assert error.status_code == 400 and "<Error><RequestId>" in error.text
    assert "<Code>InvalidTitle.BytesExceed</Code>" in error.text
    assert api.v2("Push", notice(), common={"Format": "json"}).json()["MessageId"]


def test_chunked_form_body_is_read(api, emu) -> None:
    from urllib.parse import urlencode

    from pushfn.push import signing

    params = {k: v for k, v in notice().items() if k != "Body"}
    response = api.v2("Push", params, form={"Body": "chunked body"})  # reference: plain body works
    assert response.status_code == 200
    # the same request again, its form body streamed in chunks
    query = _query(response.request.url)
    query["SignatureNonce"] = "chunked-nonce"
    query.pop("Signature")
    form = {"Body": "chunked body"}
    query["Signature"] = signing.sign_rpc_v2("POST", {**query, **form}, "testsecret")
    encoded = urlencode(form).encode()
    chunked = api.session.post(
        api.emu.url + "/",
        params=query,
        data=iter([encoded[:5], encoded[5:]]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert chunked.request.headers.get("Transfer-Encoding") == "chunked"
    assert chunked.status_code == 200, chunked.text
    assert [p["body"] for p in emu.pushes()] == ["chunked body", "chunked body"]


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def test_a_push_to_1000_devices_fits_the_request_line(emulator) -> None:
    # Both official SDKs put TargetValue in the query: 1,000 device ids make a ~35 KB request line.
    ids = [f"{i:032x}" for i in range(1000)]
    emulator.register_device(ids[0])
    client = emulator.client()
    request = {"Target": "DEVICE", "TargetValue": ids, "DeviceType": "ANDROID", "PushType": "NOTICE"}
    result = client.push({**request, "Title": "t", "Body": "b"})
    assert emulator.pushes()[-1]["message_id"] == result.message_id


def test_continuously_push_sends_the_tbd_message_to_each_batch(api, emu) -> None:
    campaign = api.v2("Push", notice(Target="TBD", TargetValue="TBD")).json()["MessageId"]
    first = api.v2("ContinuouslyPush", {"MessageId": campaign, "Target": "DEVICE", "TargetValue": "d1,d2"})
    second = api.v2("ContinuouslyPush", {"MessageId": campaign, "Target": "DEVICE", "TargetValue": "d3"})
    assert first.status_code == second.status_code == 200
    assert first.json()["MessageId"] == second.json()["MessageId"] == campaign
    tbd, one, two = emu.pushes()
    assert tbd["target"] == "TBD" and tbd["devices"] == []
    assert [one["action"], two["action"]] == ["ContinuouslyPush", "ContinuouslyPush"]
    assert one["message_id"] == two["message_id"] == campaign and one["title"] == "Order shipped"
    assert one["devices"] == ["d1", "d2"] and two["devices"] == ["d3"]


def test_continuously_push_refusals(api) -> None:
    plain = api.v2("Push", notice()).json()["MessageId"]
    campaign = api.v2("Push", notice(Target="TBD", TargetValue="TBD")).json()["MessageId"]
    batch = {"Target": "DEVICE", "TargetValue": "d1"}
    for message_id in (plain, "999999"):  # not a TBD push, no push at all
        assert error_code(api.v2("ContinuouslyPush", {"MessageId": message_id, **batch})) == (
            400,
            "InvalidMessageId.NotFound",
        )
    assert error_code(api.v2("ContinuouslyPush", batch)) == (400, "MissingMessageId")
    tag = {"MessageId": campaign, "Target": "TAG", "TargetValue": "vip"}
    assert error_code(api.v2("ContinuouslyPush", tag)) == (400, "InvalidTarget.Format")
    many = {"MessageId": campaign, "Target": "DEVICE", "TargetValue": ",".join(f"d{n}" for n in range(1001))}
    assert error_code(api.v2("ContinuouslyPush", many)) == (400, "InvalidTargetValue.CountExceed")


@pytest.mark.parametrize(
    ("action", "qps", "named"),
    [("Push", "5", "qps"), ("Push", float("nan"), "qps"), ("Push", 0, "qps"), ("Push", -1, "qps"),
     ("Push", True, "qps"), ("Push", float("inf"), "qps"), ("push", 5, "push"), ("Nope", 5, "Nope"),
     ("Push,MassPush", 5, "one API action"), (" Push", 5, "one API action")],
)  # fmt: skip
def test_a_qps_limit_that_could_not_work_is_refused(action, qps, named) -> None:
    # "5" failed every Push with a TypeError (a 500), NaN never throttled, 0 refused everything, and a
    # limit on "push" (names are case-sensitive) never applied.
    with pytest.raises(EmulatorError, match=named):
        Emulator(qps_limits={action: qps})
    emu = Emulator()
    with pytest.raises(EmulatorError, match=named):
        emu.set_qps_limit(action, qps)
    assert emu.state.qps_limits == {}


@pytest.mark.parametrize("name", ["PushTask.\x01.Title", "PushTask.\ufffe.Title", "PushTask.\x1f.Title"])
def test_an_xml_answer_quoting_a_character_xml_cannot_carry_is_well_formed(api, name) -> None:
    import xml.etree.ElementTree as ET

    # The refusal quoted the parameter name as it came, so the XML was not well-formed and the old
    # SDK (which parses XML) could not read the Code.
    response = api.v2("MassPush", form={name: "t"}, common={"Format": "XML"})
    root = ET.fromstring(response.content)
    assert (response.status_code, root.findtext("Code")) == (400, "InvalidPushTask.Format")
    assert f"\\u{ord(name[9]):04x}" in root.findtext("Message")
