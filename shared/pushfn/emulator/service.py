"""The API pipeline: route the action, authenticate, inject faults, rate-limit, run the handler.

Order matters and mirrors a gateway in front of a service: an unknown action or a bad signature is
refused before anything else; a fault then strikes only requests that would have reached the
service; the handler itself runs last. All of it under the state lock, so it is atomic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pushfn.emulator.actions import ACTIONS, ActionContext
from pushfn.emulator.errors import ApiError, internal_error, throttled
from pushfn.emulator.faults import Fault
from pushfn.emulator.fields import COMMON_PARAMS
from pushfn.emulator.params import Params
from pushfn.emulator.render import wants_xml
from pushfn.emulator.state import EmulatorState
from pushfn.emulator.wire import WireRequest

API_VERSION = "2016-08-01"
DEFAULT_HOST_ID = "cloudpush.aliyuncs.com"
API_NOT_FOUND = "Specified api is not found, please check your url and method."


@dataclass(frozen=True)
class Answer:
    """The pipeline's answer to one API request, ready for the HTTP layer.

    ``status``: HTTP status; ``body``: the response or error body, ``RequestId`` included; ``fault``: a
    ``latency`` / ``drop`` fault still to apply; ``root``: the XML root element; ``xml``: answer in XML.
    """

    status: int
    body: dict[str, Any]
    fault: Fault | None = None  # a latency/drop fault to apply once the answer is ready
    root: str = "Error"  # XML root element: "<Action>Response" on success
    xml: bool = False


def new_request_id() -> str:
    """A fresh RequestId: an upper-case UUID4 string (36 characters)."""
    return str(uuid.uuid4()).upper()


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
    """Run one API request through the pipeline under the state lock.

    An :class:`ApiError` anywhere becomes an error :class:`Answer` with its status and code, never an
    exception. A ``latency`` or ``drop`` fault comes back on the answer, for the server to apply after
    the request is processed.
    """
    request_id = new_request_id()
    fault: Fault | None = None
    xml = wants_xml(request)
    try:
        with state.lock:
            now = state.clock()
            action = _route(request)
            caller = state.auth.verify(request, now)
            fault = state.faults.pick(action)
            if fault is not None and fault.kind == "internal_error":
                raise internal_error()
            if fault is not None and fault.kind == "throttle":
                raise throttled("Request was denied due to user flow control.")
            state.check_qps(action, now)
            spec = ACTIONS[action]
            params = Params({k: v for k, v in request.params.items() if k not in COMMON_PARAMS})
            app_key = _app_key(state, params) if spec.needs_app_key else None
            data = spec.handler(ActionContext(state, action, app_key, caller, request_id, now), params)
        return Answer(200, {"RequestId": request_id, **data}, fault, f"{action}Response", xml)
    except ApiError as error:
        return Answer(error.status, error_body(error, request_id, request.headers.get("host")), fault, xml=xml)


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
    try:
        app_key = int(raw)
    except ValueError:
        raise ApiError("InvalidAppKey.Format", f"AppKey must be an integer, got {raw!r}.") from None
    if app_key not in state.app_keys:
        # The Push docs do not publish this code; InvalidAppKey.NotFound follows their
        # Invalid%s.NotFound pattern of the error-code page
        # (https://help.aliyun.com/document_detail/48054.html) and names what is wrong.
        raise ApiError("InvalidAppKey.NotFound", f"The AppKey {app_key} does not exist for this account.")
    return app_key
