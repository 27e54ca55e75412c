"""DynamoDB store (boto3, imported only when this store is used).

Table schema (created by ``pushfn store init`` and by the deployment template)::

    partition key  id                      S   function#scope#key
    attributes     status                  S   IN_PROGRESS | COMPLETED
                   expiration              N   epoch seconds; also the table's TTL attribute
                   in_progress_expiration  N   epoch milliseconds (IN_PROGRESS only)
                   payload_hash            S   sha256 of the declared payload subset
                   token                   S   CloudPush IdempotentToken
                   result                  S   JSON (COMPLETED only)
    billing        PAY_PER_REQUEST; IAM: GetItem, PutItem, UpdateItem, DeleteItem

Expiry is always checked in code: TTL deletion is only garbage collection and can lag by days.
Region and endpoint come from the usual AWS settings, so ``AWS_ENDPOINT_URL_DYNAMODB`` points it at a
local server (boto3 >= 1.28 reads that variable itself).
"""

from __future__ import annotations

import contextlib
from typing import Any

from pushfn.idempotency.exceptions import IdempotencyRecordExistsError, IdempotencyStoreError
from pushfn.idempotency.record import (
    ROW_ERRORS,
    IdempotencyRecord,
    RecordStatus,
    UnreadableRecord,
    dump_result,
    load_result,
    parse_status,
    unreadable,
)
from pushfn.idempotency.stores.base import IdempotencyStore

KEY = "id"
TTL_ATTRIBUTE = "expiration"

# The Powertools three-way condition, plus "same payload, same token" on the stale-in-progress branch:
#  (a) no record  (b) record expired  (c) in-progress record whose owner has certainly stopped, taken
#  over with the token it was stored with (so a push that may have gone out is resent under it).
PUT_CONDITION = (
    "attribute_not_exists(#id) OR #expiration < :now OR "
    "(#status = :in_progress AND attribute_exists(#ip_expiration) AND #ip_expiration < :now_ms "
    "AND #payload_hash = :payload_hash AND #token = :token)"
)


class DynamoDBStore(IdempotencyStore):
    """Records in one DynamoDB table. Pass ``client`` to reuse a boto3 client (or a stubbed one)."""

    kind = "dynamodb"

    def __init__(self, table_name: str, *, client: Any = None, client_kwargs: dict[str, Any] | None = None) -> None:
        if not table_name:
            raise IdempotencyStoreError("dynamodb store needs a table name")
        self.table_name = table_name
        self._client = client
        self._client_kwargs = client_kwargs or {}

    def describe(self) -> str:
        return f"dynamodb://{self.table_name}"

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client: the one passed in, else one built on first use (2 s connect, 5 s read
        timeout, 3 attempts) with ``client_kwargs``."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Short timeouts and few retries: an unreachable store must fail fast, before any push.
            config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
            self._client = boto3.client("dynamodb", config=config, **self._client_kwargs)
        return self._client

    # --- backend hooks -----------------------------------------------------------------------------

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        client = self.client
        try:
            client.put_item(
                TableName=self.table_name,
                Item=_to_item(record),
                ConditionExpression=PUT_CONDITION,
                ExpressionAttributeNames={
                    "#id": KEY,
                    "#expiration": TTL_ATTRIBUTE,
                    "#status": "status",
                    "#ip_expiration": "in_progress_expiration",
                    "#payload_hash": "payload_hash",
                    "#token": "token",
                },
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":now_ms": {"N": str(int(now * 1000))},
                    ":in_progress": {"S": RecordStatus.IN_PROGRESS.value},
                    ":payload_hash": {"S": record.payload_hash},
                    ":token": {"S": record.token},
                },
                # Saves the read after a lost put (boto3 >= 1.26.164).
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            item = exc.response.get("Item")
            raise IdempotencyRecordExistsError(_from_item(item) if item else None) from None

    def _get_record(self, key: str) -> IdempotencyRecord | None:
        answer = self.client.get_item(TableName=self.table_name, Key={KEY: {"S": key}}, ConsistentRead=True)
        item = answer.get("Item")
        return _from_item(item) if item else None

    def _update_record(self, record: IdempotencyRecord) -> None:
        self.client.put_item(TableName=self.table_name, Item=_to_item(record))

    def _delete_record(self, key: str) -> None:
        client = self.client
        # Already gone, or completed by someone else: nothing to undo.
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.delete_item(
                TableName=self.table_name,
                Key={KEY: {"S": key}},
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":in_progress": {"S": RecordStatus.IN_PROGRESS.value}},
            )

    def _init(self) -> str:
        client = self.client
        created = False
        try:
            client.create_table(
                TableName=self.table_name,
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            created = True
        except client.exceptions.ResourceInUseException:
            pass
        client.get_waiter("table_exists").wait(TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ttl = client.describe_time_to_live(TableName=self.table_name)["TimeToLiveDescription"]
        # Real DynamoDB refuses to enable TTL twice, so only ask when it is off.
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=self.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )
        state = "created" if created else "already existed"
        return f"{self.describe()}: table {state}; TTL on attribute {TTL_ATTRIBUTE!r}"

    def list_records(self, prefix: str = "", limit: int | None = None) -> list[IdempotencyRecord | UnreadableRecord]:
        """Records whose key starts with ``prefix`` (a consistent Scan, so it reads the whole table on the
        way), at most ``limit``, sorted by key within what was read; an item that cannot be read is listed as
        an :class:`UnreadableRecord`. Needs ``dynamodb:Scan``."""

        def scan() -> list[IdempotencyRecord | UnreadableRecord]:
            kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
            if prefix:
                kwargs.update(
                    FilterExpression="begins_with(#id, :prefix)",
                    ExpressionAttributeNames={"#id": KEY},
                    ExpressionAttributeValues={":prefix": {"S": prefix}},
                )
            found: list[IdempotencyRecord | UnreadableRecord] = []
            while limit is None or len(found) < limit:
                page = self.client.scan(**kwargs)
                found.extend(_read_item(item) for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            found.sort(key=lambda r: r.key)
            return found if limit is None else found[:limit]

        return self._call("list", scan)


def _to_item(record: IdempotencyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        KEY: {"S": record.key},
        "status": {"S": record.status.value},
        TTL_ATTRIBUTE: {"N": str(record.expiry)},
        "payload_hash": {"S": record.payload_hash},
        "token": {"S": record.token},
    }
    if record.in_progress_expiry is not None:
        item["in_progress_expiration"] = {"N": str(record.in_progress_expiry)}
    if record.result is not None:
        item["result"] = {"S": dump_result(record.result)}
    return item


def _read_item(item: dict[str, Any]) -> IdempotencyRecord | UnreadableRecord:
    """One scanned item, or an :class:`UnreadableRecord` when its attributes are not the ones pushfn writes."""
    try:
        return _from_item(item)
    except (IdempotencyStoreError, *ROW_ERRORS) as exc:
        key = item.get(KEY)
        return unreadable(key.get("S", key) if isinstance(key, dict) else key, exc)


def _from_item(item: dict[str, Any]) -> IdempotencyRecord:
    in_progress = item.get("in_progress_expiration")
    result = item.get("result")
    return IdempotencyRecord(
        key=item[KEY]["S"],
        status=parse_status(item["status"]["S"]),
        expiry=int(item[TTL_ATTRIBUTE]["N"]),
        in_progress_expiry=None if in_progress is None else int(in_progress["N"]),
        payload_hash=item.get("payload_hash", {}).get("S", ""),
        token=item.get("token", {}).get("S", ""),
        result=None if result is None else load_result(result["S"]),
    )
