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

from pushfn.push.models._base import ApiRequest, WireModel
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
from pushfn.push.models._parse import REQUEST_TYPES, parse_request
from pushfn.push.models._push import MassPush, Push, PushTask

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
]
