"""Typed request models for CloudPush 2016-08-01, validated before anything is sent.

>>> req = check_request("Push", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
...                              "TargetValue": "d1", "Title": "Hi", "body": "Hello"}, app_key=23267207)
>>> req.to_query()["AppKey"]
'23267207'

The modules, one job each (none imports pydantic but the models module):

- :mod:`~pushfn.push.models.wire` — parameter names (``iOSBadge`` / ``ios_badge``) and wire strings;
- :mod:`~pushfn.push.models.rules` — every rule, as a plain function;
- :mod:`~pushfn.push.models.fields` — the field table: every parameter of every request, once;
- :mod:`~pushfn.push.models.pydantic_models` — the pydantic models built from the table
  (:func:`parse_request`; the OpenAPI schemas and every error message);
- :mod:`~pushfn.push.models.fast` — the fast checker (:func:`check_request`), which accepts requests
  without pydantic and loads it only to explain a refusal;
- :mod:`~pushfn.push.models.tag_expression` — the Target=TAG grammar.

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
  to be epoch seconds), in whole seconds: a fraction is dropped before any rule, as the wire drops it;
- JSON in a field (ext-parameters, tag expressions, vendor payloads): a dict/list or JSON text decoded
  by :func:`pushfn.json_input.decode_json`, with the same bounds (depth 32, int64, text) and problems
  located inside the field (``AndroidExtParameters.key``).

:class:`InvalidRequestError` is the only exception any input can raise here. Model classes
(``Push``, ``MassPush``, ``PushTask``, ``BindAlias``…) are attributes built on first use.
"""

from __future__ import annotations

from pushfn.push.models.fast import ValidRequest, check_request

# `typing` stays off the cold path; type checkers treat this constant like `typing.TYPE_CHECKING`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pushfn.push.models.pydantic_models import ApiRequest, WireModel, parse_request, request_types

_PYDANTIC_NAMES = frozenset({"ApiRequest", "WireModel", "parse_request", "request_types", "model_class"})


def __getattr__(name: str) -> object:
    """Models (and pydantic) load on first use: building them dominates a cold start."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    from pushfn.push.models.fields import PUSH_TASK, REQUESTS

    pydantic_models = import_module(f"{__name__}.pydantic_models")

    if name == "REQUEST_TYPES":
        return pydantic_models.request_types()
    if name in _PYDANTIC_NAMES:
        return getattr(pydantic_models, name)
    if name in REQUESTS or name == PUSH_TASK.name:
        return pydantic_models.model_class(name)
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
    "ValidRequest",
    "WireModel",
    "check_request",
    "parse_request",
    "request_types",
]
