"""Object-created events of each platform, built from a few arguments (shapes of the samples
``fc_oss_put.json`` and ``aws_s3_put_powertools.json`` in ``tests/fixtures/events/``).

:func:`s3_event` form-encodes each key the way S3 does (``quote_plus``: a space becomes ``+``, a ``+``
becomes ``%2B``, non-ASCII is percent-encoded UTF-8); :func:`oss_event` writes keys as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus


@dataclass(frozen=True)
class StoredObject:
    """One object to announce: ``key`` (plain, not encoded), ``etag``, ``size``, ``event_name`` (the
    part after ``ObjectCreated:`` by default), and an S3 ``version_id``."""

    key: str
    etag: str = "688A7BF4F233DC9C88A80BF985AB7329"
    size: int = 122539
    event_name: str = "ObjectCreated:PutObject"
    version_id: str | None = None


def _objects(objects: Iterable[StoredObject | str]) -> list[StoredObject]:
    return [item if isinstance(item, StoredObject) else StoredObject(item) for item in objects]


def oss_event(
    objects: Iterable[StoredObject | str],
    *,
    bucket: str = "testbucket",
    region: str = "cn-hangzhou",
    account: str = "123456789",
    as_bytes: bool = True,
) -> bytes | dict[str, Any]:
    """``{"events": [...]}``, one record per object; bytes by default, as FC passes it."""
    records = []
    for obj in _objects(objects):
        records.append(
            {
                "eventName": obj.event_name,
                "eventSource": "acs:oss",
                "eventTime": "2022-08-13T06:45:43.000Z",
                "eventVersion": "1.0",
                "oss": {
                    "bucket": {
                        "arn": f"acs:oss:{region}:{account}:{bucket}",
                        "name": bucket,
                        "ownerIdentity": account,
                    },
                    "object": {"deltaSize": obj.size, "eTag": obj.etag, "key": obj.key, "size": obj.size},
                    "ossSchemaVersion": "1.0",
                    "ruleId": "9adac8e253828f4f7c0466d941fa3db811610000",
                },
                "region": region,
                "requestParameters": {"sourceIPAddress": "140.205.0.1"},
                "responseElements": {"requestId": "58F9FF2D3DF792092E12044C"},
                "userIdentity": {"principalId": account},
            }
        )
    event = {"events": records}
    return json.dumps(event, ensure_ascii=False).encode("utf-8") if as_bytes else event


def s3_event(
    objects: Iterable[StoredObject | str],
    *,
    bucket: str = "my-upload-bucket",
    region: str = "us-east-1",
) -> dict[str, Any]:
    """``{"Records": [...]}``, one record per object, keys form-encoded as S3 sends them. An
    ``event_name`` of ``ObjectCreated:PutObject`` (the OSS default) is written as S3's ``ObjectCreated:Put``."""
    records = []
    for obj in _objects(objects):
        name = "ObjectCreated:Put" if obj.event_name == "ObjectCreated:PutObject" else obj.event_name
        entry: dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "eTag": obj.etag}
        if obj.version_id is not None:
            entry["versionId"] = obj.version_id
        entry["sequencer"] = "0C0F6F405D6ED209E1"
        records.append(
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": "2019-09-03T19:37:27.192Z",
                "eventName": name,
                "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
                "requestParameters": {"sourceIPAddress": "205.255.255.255"},
                "responseElements": {"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6j="},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "828aa6fc-f7b5-4305-8584-487c791949c1",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": entry,
                },
            }
        )
    return {"Records": records}


__all__ = ["StoredObject", "oss_event", "s3_event"]
