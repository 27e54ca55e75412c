"""Typed request models for CloudPush 2016-08-01, validated before anything is sent.

>>> req = parse_request("Push", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
...                              "TargetValue": "d1", "Title": "Hi", "body": "Hello"}, app_key=23267207)
>>> req.to_query()["AppKey"]
'23267207'

Input names may be the case-sensitive API names (``iOSBadge``) or snake_case (``ios_badge``);
anything else fails with a "did you mean" hint. Problems are raised as
:class:`pushfn.push.errors.InvalidRequestError` whose ``FieldProblem.field`` is the API name.
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
