"""The API: the pipeline every call goes through, and one handler per CloudPush action.

Pipeline order mirrors a gateway in front of a service: an unknown action or a bad signature is
refused before anything else; a fault then strikes only requests that would have reached the
service; the handler itself runs last. All of it under the state lock, so it is atomic.

Handlers take checked parameters and return the response fields of the ``*ResponseBody`` models of
``alibabacloud-push20160801`` 2.1.8, without ``RequestId`` (the pipeline adds it); they raise
:class:`ApiError` for any refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pushfn.api_time import format_api_time
from pushfn.emulator.auth import Caller
from pushfn.emulator.errors import ApiError, internal_error, invalid, throttled
from pushfn.emulator.registry import AppRegistry
from pushfn.emulator.rules import (
    COMMON_PARAMS,
    MAX_TAG_CHARS,
    PUSH_FIELDS,
    TASK_FIELDS,
    CheckedPush,
    Params,
    check_list_targets,
    check_push,
    check_task_fields,
    parse_integer,
    split_tasks,
)
from pushfn.emulator.state import EmulatorState, Fault
from pushfn.emulator.wire import WireRequest, utf8_headers, wants_xml
from pushfn.random_ids import uuid4_text

#: The actions whose every call (not only refused ones) the inbox shows.
PUSH_ACTIONS = frozenset({"Push", "MassPush", "ContinuouslyPush"})
#: Request parameters a call record leaves out: who signed and how (the IdempotentToken stays).
HIDDEN_PARAMS = frozenset({"AccessKeyId", "Signature", "SecurityToken", "SignatureNonce"})

API_VERSION = "2016-08-01"
DEFAULT_HOST_ID = "cloudpush.aliyuncs.com"
API_NOT_FOUND = "Specified api is not found, please check your url and method."


@dataclass(frozen=True)
class Answer:
    """The pipeline's answer to one API request, ready for the HTTP layer.

    ``status``: HTTP status; ``body``: the response or error body, ``RequestId`` included; ``fault``: a
    ``latency`` / ``drop`` fault still to apply; ``root``: the XML root element; ``xml``: answer in XML;
    ``headers``: extra response headers (``x-acs-retry-after``).
    """

    status: int
    body: dict[str, Any]
    fault: Fault | None = None  # a latency/drop fault to apply once the answer is ready
    root: str = "Error"  # XML root element: "<Action>Response" on success
    xml: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


def new_request_id() -> str:
    """A fresh RequestId: an upper-case UUID4 string (36 characters), ``str(uuid.uuid4()).upper()``."""
    # Not a uuid.UUID object: building one was a twentieth of a Push's CPU here.
    return uuid4_text().upper()


def error_body(error: ApiError, request_id: str, host: str | None) -> dict[str, Any]:
    """The error body CloudPush answers: ``RequestId``, ``HostId``, ``Code``, ``Message``, ``Recommend``.

    ``HostId`` is the request's ``Host`` header, else ``cloudpush.aliyuncs.com``; ``Recommend`` is a
    troubleshooting URL for the code.
    """
    return {
        "RequestId": request_id,
        "HostId": host or DEFAULT_HOST_ID,
        "Code": error.code,
        "Message": error.message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product=Push&requestId={request_id}",
    }


def handle(state: EmulatorState, request: WireRequest) -> Answer:
    """Run one API request through the pipeline under the state lock, and record it as a call.

    An :class:`ApiError` anywhere becomes an error :class:`Answer` with its status and code, never an
    exception. A ``latency`` or ``drop`` fault comes back on the answer, for the server to apply after
    the request is processed. Push and MassPush calls, and every refused or throttled call, are kept
    in the history (:meth:`EmulatorState.record_call`).
    """
    request_id = new_request_id()
    fault: Fault | None = None
    xml = wants_xml(request)
    ctx: ActionContext | None = None
    with state.lock:
        now = state.clock()
        try:
            action = _route(request)
            caller = state.auth.verify(request, now)
            fault = state.faults.pick(action)
            if fault is not None and fault.kind == "internal_error":
                raise internal_error()
            if fault is not None and fault.kind == "throttle":
                raise throttled("Request was denied due to user flow control.", fault.code, fault.retry_after_ms)
            state.check_qps(action, now)
            spec = ACTIONS[action]
            params = Params({k: v for k, v in request.params.items() if k not in COMMON_PARAMS})
            app_key = _app_key(state, params) if spec.needs_app_key else None
            ctx = ActionContext(state, action, app_key, caller, request_id, now)
            data = spec.handler(ctx, params)
            answer = Answer(200, {"RequestId": request_id, **data}, fault, f"{action}Response", xml)
        except ApiError as error:
            answer = Answer(
                error.status,
                error_body(error, request_id, request.headers.get("host")),
                fault,
                xml=xml,
                headers=error.headers,
            )
            code = error.code
        else:
            code = None
        if answer.status != 200 or request.action in PUSH_ACTIONS:
            state.record_call(_call(state, request, answer, code, ctx, now))
    return answer


def refuse_unreadable(state: EmulatorState, method: str, headers: Mapping[str, str], error: ApiError) -> Answer:
    """The answer to a request whose parameters could not be decoded (``InvalidParameter.Encoding``),
    kept as a refused call like any other, with no parameters: the inbox shows every refusal."""
    request = WireRequest(method.upper(), {}, utf8_headers(headers))  # the refusal may be a header that is not UTF-8
    answer = Answer(error.status, error_body(error, new_request_id(), request.headers.get("host")))
    with state.lock:
        state.record_call(_call(state, request, answer, error.code, None, state.clock()))
    return answer


def _call(
    state: EmulatorState, request: WireRequest, answer: Answer, code: str | None, ctx: ActionContext | None, now: float
) -> dict[str, Any]:
    body = answer.body
    # Throttled as a client sees it: a Throttling.* Code, or any refusal asking it to wait (x-acs-retry-after).
    throttle = code is not None and (code.startswith("Throttling") or "x-acs-retry-after" in answer.headers)
    status = "sent" if answer.status == 200 else "throttled" if throttle else "refused"
    devices: dict[str, dict[str, Any]] = {}
    for record in ctx.records if ctx is not None else ():
        for device_id in record["devices"]:
            if device_id not in devices:
                devices[device_id] = state.device_view(record["app_key"], device_id, record["device_type"])
    message_id = body.get("MessageId")
    if message_id is None and "MessageIds" in body:
        message_id = ",".join(body["MessageIds"]["MessageId"])
    action = str(request.action or "")[:64]
    return {
        "time": format_api_time(now),
        # no forged lines in the inbox; an action is almost always printable already
        "action": action if action.isprintable() else "".join(c if c.isprintable() else "?" for c in action),
        "status": status,
        "code": code,
        "message_id": message_id,
        "request_id": body.get("RequestId", ""),
        "params": {k: v for k, v in request.params.items() if k not in HIDDEN_PARAMS},
        "devices": list(devices.values()),
        "fault": answer.fault.kind if answer.fault is not None else None,
        "answer": body,
    }


def _route(request: WireRequest) -> str:
    action = request.action
    if not action:
        raise ApiError("MissingAction", "Action is mandatory for this request.")
    version = request.version
    if not version:
        raise ApiError("MissingVersion", "Version is mandatory for this request.")
    if version != API_VERSION:
        raise ApiError("InvalidVersion", f"Specified parameter Version is not valid; Push is {API_VERSION}.")
    if action not in ACTIONS:  # case-sensitive, like the service ("push" is not "Push")
        raise ApiError("InvalidApi.NotFound", API_NOT_FOUND, 404)
    return action


def _app_key(state: EmulatorState, params: Params) -> int:
    raw = params.required("AppKey")
    app_key = parse_integer(raw)
    if app_key is None:
        raise ApiError("InvalidAppKey.Format", f"AppKey must be an integer, got {raw[:80]!r}.")
    if app_key not in state.app_keys:
        # The Push docs do not publish this code; InvalidAppKey.NotFound follows their
        # Invalid%s.NotFound pattern of the error-code page
        # (https://help.aliyun.com/document_detail/48054.html) and names what is wrong.
        raise ApiError("InvalidAppKey.NotFound", f"The AppKey {app_key} does not exist for this account.")
    return app_key


# === the actions ================================================================================

MAX_CHECK_DEVICES = 100
MAX_ALIASES_PER_CALL = 10
MAX_ALIAS_BYTES = 128
MAX_TAGS_PER_CALL = 10
MAX_CLIENT_KEYS = 1000


@dataclass(frozen=True)
class ActionContext:
    """What an action handler knows about its call.

    The emulator's state, the action name, the AppKey (``None`` only for ListSummaryApps), the
    verified caller, the RequestId and the request time ``now`` (epoch seconds).
    """

    state: EmulatorState
    action: str
    app_key: int | None  # None only for actions without an AppKey (ListSummaryApps)
    caller: Caller
    request_id: str
    now: float
    #: Push records this call created (for the call's device list).
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def app(self) -> AppRegistry:
        """The device registry of this call's AppKey (only for actions that take one)."""
        assert self.app_key is not None
        return self.state.registry.app(self.app_key)


Handler = Callable[[ActionContext, Params], dict[str, Any]]


# --- pushes ------------------------------------------------------------------------------------


_UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _idempotent_token(p: Params) -> str | None:
    token = p.get("IdempotentToken") or None
    # The canonical 8-4-4-4-12 form in either case, what str(uuid.UUID(token)) == token.lower() accepts.
    if token is not None and not _UUID_TEXT.fullmatch(token):
        raise invalid("IdempotentToken", "Format", "IdempotentToken must be a 36-character UUID.")
    return token


def _record(
    ctx: ActionContext, checked: CheckedPush, known: frozenset[str], token: str | None, task: int | None
) -> str:
    app = ctx.app
    devices = app.resolve(checked.target, checked.target_values, checked.tag_expression, checked.device_type)
    message_id = ctx.state.next_message_id()
    # A Push's checked.params is already its own dict (Params copies what it is given): nothing to copy.
    params = checked.params if task is None else {"AppKey": str(ctx.app_key), **checked.params}
    record = {
        "action": ctx.action,
        "message_id": message_id,
        "request_id": ctx.request_id,
        "time": format_api_time(ctx.now),
        "app_key": ctx.app_key,
        "task_index": task,
        "params": params,
        "devices": devices,
        "device_count": len(devices),
        "device_type": checked.device_type,
        "push_type": checked.push_type,
        "target": checked.target,
        "target_value": checked.params.get("TargetValue"),
        "title": checked.params.get("Title"),
        "body": checked.params.get("Body"),
        "push_time": checked.params.get("PushTime"),
        "cancelled": False,
        "idempotent_token": token,
        "signature_version": ctx.caller.signature_version,
        "access_key_id": ctx.caller.access_key_id,
        # Unknown names are ignored, as CloudPush ignores them; listed so a test can catch IOSBadge.
        "ignored_params": sorted(checked.params.keys() - known),
    }
    ctx.state.record_push(record)
    ctx.records.append(record)
    return message_id


def push(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """Push: check the parameters, honour ``IdempotentToken``, resolve the target, record one push.

    Returns ``{"MessageId": "<decimal digits>"}``. A token already answered within 15 minutes (same AppKey
    and action) returns that first answer and records nothing. Raises :class:`ApiError`:
    ``Missing<Param>`` / ``Invalid<Param>.<Rule>`` for a parameter (limits page,
    https://help.aliyun.com/document_detail/92832.html), ``InvalidIdempotentToken.Format`` (not a
    36-character UUID), ``Throttling.User`` for Target=ALL beyond its rate.
    """
    token = _idempotent_token(p)
    checked = check_push(p, ctx.now)
    replay = ctx.state.replay(ctx.app_key, ctx.action, token, ctx.now)
    if replay is not None:
        return replay
    if checked.target == "ALL":
        ctx.state.check_full_push(ctx.app_key, checked.device_type, checked.push_type, ctx.now)
    data = {"MessageId": _record(ctx, checked, PUSH_FIELDS, token, None)}
    ctx.state.remember(ctx.app_key, ctx.action, token, data, ctx.now)
    return data


def mass_push(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """MassPush: ``PushTask.N.<Field>`` tasks (N from 1, at most 100), each checked like a Push but
    targeting only DEVICE, ACCOUNT or ALIAS.

    Every task is checked before any is recorded, so one bad task refuses the whole call. Returns
    ``{"MessageIds": {"MessageId": [...]}}``, one id per task in N order; ``IdempotentToken`` as for
    :func:`push`. Raises :class:`ApiError`: ``MissingPushTask``, ``InvalidPushTask.Format`` /
    ``.CountExceed``, or a task field's code with its ``PushTask.N.`` path in the message.
    """
    token = _idempotent_token(p)
    tasks = split_tasks(p.values)
    if not tasks:
        raise ApiError("MissingPushTask", "PushTask is mandatory for this action.")
    checked = []
    for task in tasks:
        check_task_fields(task)
        checked.append(check_push(task, ctx.now, in_task=True))
    replay = ctx.state.replay(ctx.app_key, ctx.action, token, ctx.now)
    if replay is not None:
        return replay
    ids = [_record(ctx, c, TASK_FIELDS, token, n) for n, c in enumerate(checked, start=1)]
    data = {"MessageIds": {"MessageId": ids}}
    ctx.state.remember(ctx.app_key, ctx.action, token, data, ctx.now)
    return data


def continuously_push(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """ContinuouslyPush: send the message of an earlier ``Push`` with ``Target=TBD`` to a batch of
    targets (``Target`` DEVICE, ACCOUNT or ALIAS, ``TargetValue`` at most 1,000 values).

    Records one push with the campaign's ``MessageId`` and content; returns ``{"MessageId": "..."}``
    (the same id). Takes no ``IdempotentToken``: every call is recorded. Raises :class:`ApiError`:
    ``MissingMessageId``, ``InvalidMessageId.Format``, ``InvalidMessageId.NotFound`` (no ``Target=TBD``
    push of this app has that id), ``MissingTarget``, ``InvalidTarget.Format``, ``MissingTargetValue``,
    ``InvalidTargetValue.CountExceed`` / ``.BytesExceed``.
    """
    message_id, records = _message_records(ctx, p)
    campaign = next((r for r in records if r["target"] == "TBD"), None)
    if campaign is None:
        raise invalid("MessageId", "NotFound", f"No Target=TBD push with MessageId {message_id} in this app.")
    target = p.required("Target")
    if target not in ("DEVICE", "ACCOUNT", "ALIAS"):
        raise invalid("Target", "Format", "Target must be DEVICE, ACCOUNT or ALIAS for ContinuouslyPush.")
    values = check_list_targets(p, target)
    devices = ctx.app.resolve(target, values, None, campaign["device_type"])
    record = {
        **campaign,
        "action": ctx.action,
        "request_id": ctx.request_id,
        "time": format_api_time(ctx.now),
        "task_index": None,
        "params": dict(p.values),
        "devices": devices,
        "device_count": len(devices),
        "target": target,
        "target_value": p.get("TargetValue"),
        "cancelled": False,
        "idempotent_token": None,
        "signature_version": ctx.caller.signature_version,
        "access_key_id": ctx.caller.access_key_id,
        "ignored_params": sorted(set(p.values) - {"MessageId", "Target", "TargetValue"}),
    }
    ctx.state.record_push(record)
    ctx.records.append(record)
    return {"MessageId": message_id}


def _message_records(ctx: ActionContext, p: Params) -> tuple[str, list[dict[str, Any]]]:
    p.required("MessageId")
    message_id = str(p.integer("MessageId"))
    records = [r for r in ctx.state.messages.get(message_id, []) if r["app_key"] == ctx.app_key]
    return message_id, records


def cancel_push(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """CancelPush: cancel a scheduled push of this app whose ``PushTime`` is still ahead; returns ``{}``.

    Raises :class:`ApiError`: ``MissingMessageId``, ``InvalidMessageId.Format`` (not an integer),
    ``InvalidMessageId.NotFound``, ``InvalidMessageId.Status`` (already sent or already cancelled).
    """
    message_id, records = _message_records(ctx, p)
    if not records:
        raise invalid("MessageId", "NotFound", f"No push with MessageId {message_id} in this app.")
    for record in records:
        scheduled = record["push_time"] and record["push_time"] > format_api_time(ctx.now)
        if not scheduled or record["cancelled"]:
            raise invalid("MessageId", "Status", "Only a scheduled push that has not been sent can be cancelled.")
    for record in records:
        record["cancelled"] = True
        ctx.state.history.update_push(record)
    return {}


def query_push_stat_by_msg(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryPushStatByMsg: ``{"PushStats": {"PushStat": [...]}}``, one entry per record of ``MessageId``.

    An unknown id gives an empty list. A scheduled or cancelled push counts 0 sent; a sent one counts
    every resolved device as sent and received; opened, deleted and SMS counts are always 0 (no real
    devices report back). Raises :class:`ApiError` ``MissingMessageId`` or ``InvalidMessageId.Format``.
    """
    message_id, records = _message_records(ctx, p)
    stats = []
    for record in records:
        pending = record["cancelled"] or (record["push_time"] or "") > format_api_time(ctx.now)
        sent = 0 if pending else record["device_count"]
        stats.append(
            {
                "MessageId": message_id,
                "AcceptCount": record["device_count"],
                "SentCount": sent,
                "ReceivedCount": sent,
                "OpenedCount": 0,
                "DeletedCount": 0,
                "SmsSentCount": 0,
                "SmsSkipCount": 0,
                "SmsFailedCount": 0,
                "SmsReceiveSuccessCount": 0,
                "SmsReceiveFailedCount": 0,
            }
        )
    return {"PushStats": {"PushStat": stats}}


# --- devices -----------------------------------------------------------------------------------


def check_devices(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """CheckDevices: ``{"DeviceCheckInfos": {"DeviceCheckInfo": [{"DeviceId", "Available"}, ...]}}``.

    ``DeviceIds``: a comma list of at most 100 ids; available means registered in this app. Raises
    :class:`ApiError` ``MissingDeviceIds`` or ``InvalidDeviceIds.CountExceed``.
    """
    ids = p.items("DeviceIds")
    if len(ids) > MAX_CHECK_DEVICES:
        raise invalid("DeviceIds", "CountExceed", f"At most {MAX_CHECK_DEVICES} device ids per call.")
    infos = [{"DeviceId": d, "Available": d in ctx.app.devices} for d in ids]
    return {"DeviceCheckInfos": {"DeviceCheckInfo": infos}}


def check_device(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """CheckDevice: ``{"Available": bool}``, true when ``DeviceId`` is registered in this app.

    Raises :class:`ApiError` ``MissingDeviceId``.
    """
    return {"Available": p.required("DeviceId") in ctx.app.devices}


def query_device_info(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryDeviceInfo: ``{"DeviceInfo": {...}}`` of a registered ``DeviceId``.

    Aliases and tags come as sorted comma lists, ``LastOnlineTime`` is the request time, brand, model,
    token and phone number are empty. Raises :class:`ApiError` ``MissingDeviceId`` or
    ``InvalidDeviceId.NotFound``.
    """
    device = ctx.app.require(p.required("DeviceId"))
    return {
        "DeviceInfo": {
            "DeviceId": device.device_id,
            "DeviceType": device.device_type,
            "Account": device.account or "",
            "Alias": ",".join(sorted(device.aliases)),
            "Tags": ",".join(sorted(device.tags)),
            "Online": device.online,
            "PushEnabled": True,
            "LastOnlineTime": format_api_time(ctx.now),
            "Brand": "",
            "Model": "",
            "DeviceToken": "",
            "PhoneNumber": "",
        }
    }


def query_devices_by_account(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryDevicesByAccount: ``{"DeviceIds": {"DeviceId": [...]}}``, sorted ids bound to ``Account``.

    Raises :class:`ApiError` ``MissingAccount``.
    """
    return {"DeviceIds": {"DeviceId": ctx.app.by_account(p.required("Account"))}}


# --- aliases -----------------------------------------------------------------------------------


def _alias_names(p: Params, name: str = "AliasName") -> list[str]:
    aliases = p.items(name)
    if not aliases:
        raise ApiError(f"Missing{name}", f"{name} is mandatory for this action.")
    if len(aliases) > MAX_ALIASES_PER_CALL:
        raise invalid(name, "CountExceed", f"At most {MAX_ALIASES_PER_CALL} aliases per call.")
    if any(len(a.encode()) > MAX_ALIAS_BYTES for a in aliases):
        raise invalid(name, "BytesExceed", f"An alias is limited to {MAX_ALIAS_BYTES} bytes.")
    return aliases


def bind_alias(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """BindAlias: bind ``AliasName`` (a comma list of at most 10, each ≤ 128 UTF-8 bytes) to ``DeviceId``.

    Returns ``{}``. Raises :class:`ApiError`: ``MissingAliasName``, ``MissingDeviceId``,
    ``InvalidAliasName.CountExceed`` (over 10 per call, 128 per device or 128 devices per alias),
    ``InvalidAliasName.BytesExceed``, ``InvalidDeviceId.NotFound``.
    """
    aliases = _alias_names(p)
    ctx.app.bind_alias(p.required("DeviceId"), aliases)
    return {}


def unbind_alias(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """UnbindAlias: unbind the listed ``AliasName`` from ``DeviceId``, or every alias with ``UnbindAll=true``.

    Returns ``{}``; unknown aliases are ignored. Errors as for :func:`bind_alias`, plus
    ``InvalidUnbindAll.Format``.
    """
    device_id = p.required("DeviceId")
    aliases = None if p.boolean("UnbindAll") else _alias_names(p)
    ctx.app.unbind_alias(device_id, aliases)
    return {}


def query_aliases(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryAliases: ``{"AliasInfos": {"AliasInfo": [{"AliasName"}, ...]}}`` of ``DeviceId``, sorted.

    Raises :class:`ApiError` ``MissingDeviceId`` or ``InvalidDeviceId.NotFound``.
    """
    device = ctx.app.require(p.required("DeviceId"))
    return {"AliasInfos": {"AliasInfo": [{"AliasName": a} for a in sorted(device.aliases)]}}


def query_devices_by_alias(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryDevicesByAlias: ``{"DeviceIds": {"DeviceId": [...]}}``, sorted ids bound to ``Alias``.

    Raises :class:`ApiError` ``MissingAlias``.
    """
    return {"DeviceIds": {"DeviceId": ctx.app.by_alias(p.required("Alias"))}}


# --- tags --------------------------------------------------------------------------------------


def _tag_names(p: Params, limit: int = MAX_TAGS_PER_CALL) -> list[str]:
    tags = p.items("TagName")
    if not tags:
        raise ApiError("MissingTagName", "TagName is mandatory for this action.")
    if len(tags) > limit:
        raise invalid("TagName", "CountExceed", f"At most {limit} tags per call.")
    if any(len(t) > MAX_TAG_CHARS for t in tags):
        raise invalid("TagName", "LengthExceed", f"A tag name is limited to {MAX_TAG_CHARS} characters.")
    return tags


def _client_keys(p: Params, limit: int) -> list[str]:
    # CloudPush once also tagged accounts and aliases; today KeyType is DEVICE only (BindTag docs in
    # alibabacloud-push20160801 2.1.8).
    p.enum("KeyType", ("DEVICE",)) or p.required("KeyType")
    keys = p.items("ClientKey")
    if not keys:
        raise ApiError("MissingClientKey", "ClientKey is mandatory for this action.")
    if len(keys) > limit:
        raise invalid("ClientKey", "CountExceed", f"At most {limit} client keys per call.")
    return keys


def bind_tag(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """BindTag: add ``TagName`` (a comma list of at most 10, each ≤ 128 characters) to the ``ClientKey`` devices.

    ``ClientKey``: a comma list of at most 1,000 device ids; ``KeyType`` must be ``DEVICE``. All devices
    must exist or none is tagged. Returns ``{}``. Raises :class:`ApiError`: ``MissingKeyType`` /
    ``InvalidKeyType.Format``, ``MissingClientKey`` / ``InvalidClientKey.CountExceed``,
    ``MissingTagName`` / ``InvalidTagName.CountExceed`` / ``InvalidTagName.LengthExceed``,
    ``InvalidDeviceId.NotFound``.
    """
    keys, tags = _client_keys(p, MAX_CLIENT_KEYS), _tag_names(p)
    ctx.app.bind_tag(keys, tags)
    return {}


def unbind_tag(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """UnbindTag: remove ``TagName`` from the ``ClientKey`` devices; the app still lists the tags.

    Parameters, answer and errors as for :func:`bind_tag`; :func:`remove_tag` deletes a tag outright.
    """
    keys, tags = _client_keys(p, MAX_CLIENT_KEYS), _tag_names(p)
    ctx.app.unbind_tag(keys, tags)
    return {}


def query_tags(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """QueryTags: ``{"TagInfos": {"TagInfo": [{"TagName"}, ...]}}`` of one device, sorted.

    ``ClientKey``: exactly one device id, ``KeyType=DEVICE``. Errors as for :func:`bind_tag`
    (``InvalidClientKey.CountExceed`` for more than one key).
    """
    (key,) = _client_keys(p, 1)
    device = ctx.app.require(key)
    return {"TagInfos": {"TagInfo": [{"TagName": t} for t in sorted(device.tags)]}}


def list_tags(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """ListTags: ``{"TagInfos": {"TagInfo": [{"TagName"}, ...]}}``, the app's tags (bound once, not removed), sorted."""
    return {"TagInfos": {"TagInfo": [{"TagName": t} for t in sorted(ctx.app.tags)]}}


def remove_tag(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """RemoveTag: delete one ``TagName`` from every device and from the app's tag list; returns ``{}``.

    Raises :class:`ApiError` ``MissingTagName``, ``InvalidTagName.CountExceed`` (more than one) or
    ``InvalidTagName.LengthExceed``.
    """
    (tag,) = _tag_names(p, limit=1)
    ctx.app.remove_tag(tag)
    return {}


def list_summary_apps(ctx: ActionContext, p: Params) -> dict[str, Any]:
    """ListSummaryApps (no AppKey): ``{"SummaryAppInfos": {"SummaryAppInfo": [{"AppKey", "AppName"}, ...]}}``.

    One entry per AppKey the emulator serves, named ``emulator-app-<AppKey>``.
    """
    apps = [{"AppKey": key, "AppName": f"emulator-app-{key}"} for key in ctx.state.app_keys]
    return {"SummaryAppInfos": {"SummaryAppInfo": apps}}


@dataclass(frozen=True)
class ActionSpec:
    """How the pipeline runs an action: its handler, and whether the request must name a served ``AppKey``."""

    handler: Handler
    needs_app_key: bool = True


#: Every action the emulator answers; names are case-sensitive, like the service's.
ACTIONS: dict[str, ActionSpec] = {
    "Push": ActionSpec(push),
    "MassPush": ActionSpec(mass_push),
    "ContinuouslyPush": ActionSpec(continuously_push),
    "CancelPush": ActionSpec(cancel_push),
    "QueryPushStatByMsg": ActionSpec(query_push_stat_by_msg),
    "CheckDevices": ActionSpec(check_devices),
    "CheckDevice": ActionSpec(check_device),
    "QueryDeviceInfo": ActionSpec(query_device_info),
    "QueryDevicesByAccount": ActionSpec(query_devices_by_account),
    "BindAlias": ActionSpec(bind_alias),
    "UnbindAlias": ActionSpec(unbind_alias),
    "QueryAliases": ActionSpec(query_aliases),
    "QueryDevicesByAlias": ActionSpec(query_devices_by_alias),
    "BindTag": ActionSpec(bind_tag),
    "UnbindTag": ActionSpec(unbind_tag),
    "QueryTags": ActionSpec(query_tags),
    "ListTags": ActionSpec(list_tags),
    "RemoveTag": ActionSpec(remove_tag),
    "ListSummaryApps": ActionSpec(list_summary_apps, needs_app_key=False),
}
