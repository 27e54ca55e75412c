"""Parameter value types shared by the request models (``Annotated`` aliases).

Each type accepts the friendly Python form *and* the wire form (``["a", "b"]`` or ``"a,b"``, a dict
or its JSON text, an aware ``datetime`` or an ISO string) and serialises back to the wire form.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer

from pushfn.push.models._rules import (
    NO_EMPTY_ITEM,
    NOT_EMPTY,
    PARSE_JSON_ARRAY,
    PARSE_JSON_OBJECT,
    PARSE_JSON_TEXT,
    PARSE_UTC,
    SPLIT_COMMAS,
    UUID_TO_STR,
    between,
    matches,
    one_of,
)
from pushfn.push.models._wire import compact_json, format_utc, join_commas

_AS_JSON = PlainSerializer(compact_json, return_type=str)

#: An aware time; sent as ``YYYY-MM-DDThh:mm:ssZ`` (UTC).
UtcDateTime = Annotated[datetime, PARSE_UTC, PlainSerializer(format_utc, return_type=str)]
#: A JSON map parameter (``*ExtParameters``): a dict, or its JSON text.
JsonMap = Annotated[dict[str, Any], PARSE_JSON_OBJECT, _AS_JSON]
#: A map of strings (the OPPO private-message template parameters).
StrMap = Annotated[dict[str, str], PARSE_JSON_OBJECT, _AS_JSON]
#: A JSON array parameter (``AndroidInboxBody``): a list, or its JSON text.
JsonArray = Annotated[list[Any], PARSE_JSON_ARRAY, _AS_JSON]
#: A vendor payload documented as "JSON string of ...": a dict/list, or JSON text.
JsonText = Annotated[Any, PARSE_JSON_TEXT, _AS_JSON]
#: Comma-separated values: a list, or the comma-joined string; no empty items.
CommaList = Annotated[list[str], SPLIT_COMMAS, NO_EMPTY_ITEM, PlainSerializer(join_commas, return_type=str)]

AppKey = Annotated[int, between(1, 2**63 - 1)]
NonEmptyStr = Annotated[str, NOT_EMPTY]
#: Documented as 0 (official / production, the default) or 1 (test).
ZeroOrOne = Annotated[int, one_of(0, 1)]
JobKey = Annotated[str, matches(r"[A-Za-z0-9_-]{1,32}", "letters, digits, '_' or '-', at most 32 characters")]
IdempotentToken = Annotated[
    str,
    UUID_TO_STR,
    matches(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "a 36-character UUID (8-4-4-4-12 hex digits)",
    ),
]


def _target_value_text(value: Any) -> Any:
    """TargetValue is one string on the wire: join lists, serialise tag expressions compactly."""
    if isinstance(value, (list, tuple)):
        return join_commas([str(item) for item in value])
    if isinstance(value, dict):
        return compact_json(value)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value  # the Target-specific rules report it
        return compact_json(parsed) if isinstance(parsed, dict) else value
    return value


#: DEVICE/ACCOUNT/ALIAS values (list or comma string), a tag name or expression (dict or JSON), ALL, TBD.
TargetValue = Annotated[str, BeforeValidator(_target_value_text)]

DeviceType = Literal["iOS", "ANDROID", "HARMONY", "ALL"]
PushType = Literal["NOTICE", "MESSAGE"]
Target = Literal["DEVICE", "ACCOUNT", "ALIAS", "TAG", "ALL", "TBD"]
ListTarget = Literal["DEVICE", "ACCOUNT", "ALIAS"]
KeyType = Literal["DEVICE", "ACCOUNT", "ALIAS"]

SEND_CHANNELS = ("accs", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "gcm", "fcm", "apns", "harmony")
