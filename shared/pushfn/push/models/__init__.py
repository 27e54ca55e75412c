"""Typed request models for CloudPush 2016-08-01, validated before anything is sent.

>>> req = parse_request("Push", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
...                              "TargetValue": "d1", "Title": "Hi", "body": "Hello"}, app_key=23267207)
>>> req.to_query()["AppKey"]
'23267207'

Input names may be the case-sensitive API names (``iOSBadge``) or snake_case (``ios_badge``);
anything else fails with a "did you mean" hint. Problems are raised as
:class:`pushfn.push.errors.InvalidRequestError` whose ``FieldProblem.field`` is the API name.

Each parameter takes only its own kind of value, so nothing is stringified on its way to the wire:

- text: a ``str`` only, with no lone surrogate (rule ``text``) and no control character other than
  tab, line feed and carriage return -- C0 and DEL are refused (rule ``control_character``);
- integers: an int, a whole float or decimal digits (``"3"``, as the CLI gives), never a boolean, within
  the documented range or at least the SDK's int32/int64 (rule ``range``);
- booleans: ``True``/``False`` or the wire text ``"true"``/``"false"`` (any case);
- times: an aware ``datetime`` or an ISO-8601 string, from 1970 to 2099 (numbers are not guessed
  to be epoch seconds);
- JSON in a field (ext-parameters, tag expressions, vendor payloads): a dict/list or JSON text decoded
  by :func:`pushfn.json_input.decode_json`, with the same bounds (depth 32, int64, text) and problems
  located inside the field (``AndroidExtParameters.key``).

:class:`InvalidRequestError` is the only exception any input can raise here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from pushfn.push.models._base import ApiRequest, WireModel
from pushfn.push.models._parse import parse_request, request_types

if TYPE_CHECKING:
    from pushfn.push.models._devices import (
        BindAlias,
        BindPhone,
        BindTag,
        CancelPush,
        CheckCertificate,
        CheckDevice,
        CheckDevices,
        CompleteContinuouslyPush,
        ContinuouslyPush,
        ListTags,
        QueryAliases,
        QueryDeviceInfo,
        QueryDevicesByAccount,
        QueryDevicesByAlias,
        QueryDeviceStat,
        QueryPushRecords,
        QueryPushStatByApp,
        QueryPushStatByMsg,
        QueryTags,
        QueryUniqueDeviceStat,
        RemoveTag,
        UnbindAlias,
        UnbindPhone,
        UnbindTag,
    )
    from pushfn.push.models._push import MassPush, Push, PushTask

_PUSH_NAMES = frozenset({"MassPush", "Push", "PushTask"})


def __getattr__(name: str) -> object:
    """Models are built on first use (schema building dominates import time)."""
    if name == "REQUEST_TYPES":
        return request_types()
    if not name.startswith("_"):
        module = import_module(f"{__name__}._push" if name in _PUSH_NAMES else f"{__name__}._devices")
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REQUEST_TYPES",
    "ApiRequest",
    "BindAlias",
    "BindPhone",
    "BindTag",
    "CancelPush",
    "CheckCertificate",
    "CheckDevice",
    "CheckDevices",
    "CompleteContinuouslyPush",
    "ContinuouslyPush",
    "ListTags",
    "MassPush",
    "Push",
    "PushTask",
    "QueryAliases",
    "QueryDeviceInfo",
    "QueryDeviceStat",
    "QueryDevicesByAccount",
    "QueryDevicesByAlias",
    "QueryPushRecords",
    "QueryPushStatByApp",
    "QueryPushStatByMsg",
    "QueryTags",
    "QueryUniqueDeviceStat",
    "RemoveTag",
    "UnbindAlias",
    "UnbindPhone",
    "UnbindTag",
    "WireModel",
    "parse_request",
    "request_types",
]
