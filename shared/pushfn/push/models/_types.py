"""Parameter value types shared by the request models (``Annotated`` aliases).

Each type accepts the friendly Python form *and* the wire form (``["a", "b"]`` or ``"a,b"``, a dict
or its JSON text, an aware ``datetime`` or an ISO string) and serialises back to the wire form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer

from pushfn.api_time import format_api_time
from pushfn.push.models._rules import (
    BOOLEAN,
    EARLIEST_UNIX,
    INTEGER,
    LATEST_UNIX,
    NO_EMPTY_ITEM,
    NOT_EMPTY,
    NUMBER,
    PARSE_JSON_ARRAY,
    PARSE_JSON_OBJECT,
    PARSE_JSON_TEXT,
    PARSE_STRING_MAP,
    PARSE_UTC,
    SPLIT_COMMAS,
    TARGET_VALUE_TEXT,
    TEXT,
    UUID_TO_STR,
    between,
    matches,
    one_of,
)
from pushfn.push.models._wire import compact_json, join_commas

_AS_JSON = PlainSerializer(compact_json, return_type=str)

# Scalars. Each takes only its own kind (see _rules: no dict becomes "{}", no 10**30 is sent).
#: A string parameter: a ``str`` of valid text (no lone surrogate, no control character but tab/LF/CR).
Text = Annotated[str, TEXT]
#: An integer parameter: int, whole float or decimal digits, within int64; narrow it with ``between``.
Int = Annotated[int, INTEGER]
#: The int32 range the official SDKs declare for parameters whose range is not documented.
Int32 = Annotated[Int, between(-(2**31), 2**31 - 1)]
#: A decimal parameter (finite).
Float = Annotated[float, NUMBER]
#: A boolean parameter: ``True``/``False``, or the wire text ``"true"``/``"false"``.
Bool = Annotated[bool, BOOLEAN]

#: An aware time from 1970 to 2099; sent as ``YYYY-MM-DDThh:mm:ssZ`` (UTC).
UtcDateTime = Annotated[datetime, PARSE_UTC, PlainSerializer(format_api_time, return_type=str)]
#: A time in Unix seconds, in the same window as :data:`UtcDateTime`.
UnixSeconds = Annotated[Int, between(EARLIEST_UNIX, LATEST_UNIX)]
#: A JSON map parameter (``*ExtParameters``): a dict, or its JSON text.
JsonMap = Annotated[dict[str, Any], PARSE_JSON_OBJECT, _AS_JSON]
#: A map of strings (the OPPO private-message template parameters).
StrMap = Annotated[dict[str, str], PARSE_STRING_MAP, _AS_JSON]
#: A JSON array parameter (``AndroidInboxBody``): a list, or its JSON text.
JsonArray = Annotated[list[Any], PARSE_JSON_ARRAY, _AS_JSON]
#: A vendor payload documented as "JSON string of ...": a dict/list, or JSON text.
JsonText = Annotated[Any, PARSE_JSON_TEXT, _AS_JSON]
#: Comma-separated values: a list, or the comma-joined string; no empty items.
CommaList = Annotated[list[Text], SPLIT_COMMAS, NO_EMPTY_ITEM, PlainSerializer(join_commas, return_type=str)]

AppKey = Annotated[Int, between(1, 2**63 - 1)]
NonEmptyStr = Annotated[Text, NOT_EMPTY]
#: Documented as 0 (official / production, the default) or 1 (test).
ZeroOrOne = Annotated[Int, one_of(0, 1)]
JobKey = Annotated[Text, matches(r"[A-Za-z0-9_-]{1,32}", "letters, digits, '_' or '-', at most 32 characters")]
IdempotentToken = Annotated[
    Text,
    UUID_TO_STR,
    matches(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "a 36-character UUID (8-4-4-4-12 hex digits)",
    ),
]

#: DEVICE/ACCOUNT/ALIAS values (list or comma string), a tag name or expression (dict or JSON), ALL, TBD.
TargetValue = Annotated[str, TARGET_VALUE_TEXT]

DeviceType = Literal["iOS", "ANDROID", "HARMONY", "ALL"]
PushType = Literal["NOTICE", "MESSAGE"]
Target = Literal["DEVICE", "ACCOUNT", "ALIAS", "TAG", "ALL", "TBD"]
ListTarget = Literal["DEVICE", "ACCOUNT", "ALIAS"]
#: BindTag/UnbindTag tag devices only today (limits page, https://help.aliyun.com/document_detail/92832.html;
#: BindTag docs in alibabacloud-push20160801 2.1.8); accounts and aliases tagged in the past can still be queried.
BindKeyType = Literal["DEVICE"]
KeyType = Literal["DEVICE", "ACCOUNT", "ALIAS"]

SEND_CHANNELS = ("accs", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "gcm", "fcm", "apns", "harmony")
