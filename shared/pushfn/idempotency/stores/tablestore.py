"""Tablestore (OTS) store, with the ``tablestore`` SDK imported only when this store is used.

Table: primary key ``id`` (STRING, ``function#scope#key``); attribute columns ``status``, ``expiry``
(INTEGER, epoch s), ``in_progress_expiry`` (INTEGER, epoch ms, IN_PROGRESS only), ``payload_hash``,
``token``, ``result`` (JSON). ``max_version=1``; Tablestore's TTL is table-wide and counts cell age, so
expiry is checked in code like everywhere else (``init`` can set a table TTL as garbage collection).

The Powertools condition maps onto a row condition ``IGNORE`` plus a composite column condition::

    OR( expiry < now                      pass_if_missing=True  → an absent row passes,
        AND( status == IN_PROGRESS,       pass_if_missing=False
             in_progress_expiry < now_ms, pass_if_missing=False
             payload_hash == new hash,    pass_if_missing=False
             token == new token ))        pass_if_missing=False  (a takeover keeps the stored token)

A failed check is ``OTSServiceError`` code ``OTSConditionCheckFail``; Tablestore has no ALL_OLD, so
the winner is read with GetRow after a lost put.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pushfn.idempotency.exceptions import IdempotencyRecordExistsError, IdempotencyStoreError
from pushfn.idempotency.record import IdempotencyRecord, RecordStatus, dump_result, load_result, parse_status
from pushfn.idempotency.stores.base import IdempotencyStore
from pushfn.push.errors import CredentialsError

if TYPE_CHECKING:
    from pushfn.push.credentials import CredentialsProvider

KEY = "id"
CONDITION_FAILED = "OTSConditionCheckFail"
ALREADY_EXISTS = "OTSObjectAlreadyExist"


class TablestoreStore(IdempotencyStore):
    """Records in one Tablestore table. Pass ``client`` to reuse an ``OTSClient`` (or a fake of it).

    Otherwise the client is built on first use from ``endpoint`` (``PUSHFN_TABLESTORE_ENDPOINT``)
    and ``credentials`` (a provider such as the process's credential chain, so role and STS keys
    work); it is rebuilt whenever the provider hands out other keys (temporary keys are refreshed
    before they expire). Nothing here reads the environment. Missing endpoint or keys raise
    :class:`IdempotencyStoreError` naming the setting.
    """

    kind = "tablestore"

    def __init__(
        self,
        instance_name: str,
        table_name: str,
        *,
        client: Any = None,
        endpoint: str | None = None,
        credentials: CredentialsProvider | None = None,
        ttl_seconds: int = -1,
    ) -> None:
        if not table_name:
            raise IdempotencyStoreError("tablestore store needs an instance and a table name")
        self.instance_name = instance_name
        self.table_name = table_name
        self.endpoint = endpoint
        self.ttl_seconds = ttl_seconds
        self._credentials = credentials
        self._client = client
        self._client_is_given = client is not None
        self._client_keys: tuple[str, str, str | None] | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"tablestore://{self.instance_name}/{self.table_name}"

    @property
    def client(self) -> Any:
        """The ``OTSClient``: the one passed in, else one built for the current keys (rebuilt when they change).

        Raises :class:`IdempotencyStoreError` when the endpoint or the keys are missing.
        """
        if self._client_is_given:
            return self._client
        keys = self._keys()
        with self._lock:
            if self._client is None or keys != self._client_keys:
                self._client = self._build_client(keys)
                self._client_keys = keys
            return self._client

    def _keys(self) -> tuple[str, str, str | None]:
        if not self.endpoint:
            raise IdempotencyStoreError("tablestore store needs PUSHFN_TABLESTORE_ENDPOINT")
        try:
            creds = self._credentials.get_credentials() if self._credentials is not None else None
        except CredentialsError as exc:
            raise IdempotencyStoreError(f"tablestore store needs credentials: {exc}") from None
        if creds is None:
            raise IdempotencyStoreError(
                "tablestore store needs credentials: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, "
                "or a role (the credential chain)"
            )
        return creds.access_key_id, creds.access_key_secret, creds.security_token

    def _build_client(self, keys: tuple[str, str, str | None]) -> Any:
        import tablestore

        access_key_id, access_key_secret, token = keys
        return tablestore.OTSClient(
            self.endpoint,
            access_key_id,
            access_key_secret,
            self.instance_name,
            sts_token=token or None,
            socket_timeout=5,
            logger_name="pushfn.idempotency.tablestore",
        )

    # --- backend hooks -----------------------------------------------------------------------------

    def _put_record(self, record: IdempotencyRecord, now: float) -> None:
        from tablestore.error import OTSServiceError
        from tablestore.metadata import (
            ComparatorType,
            CompositeColumnCondition,
            Condition,
            LogicalOperator,
            Row,
            RowExistenceExpectation,
            SingleColumnCondition,
        )

        stale = CompositeColumnCondition(LogicalOperator.AND)
        stale.add_sub_condition(
            SingleColumnCondition("status", RecordStatus.IN_PROGRESS.value, ComparatorType.EQUAL, pass_if_missing=False)
        )
        stale.add_sub_condition(
            SingleColumnCondition(
                "in_progress_expiry", int(now * 1000), ComparatorType.LESS_THAN, pass_if_missing=False
            )
        )
        stale.add_sub_condition(
            SingleColumnCondition("payload_hash", record.payload_hash, ComparatorType.EQUAL, pass_if_missing=False)
        )
        stale.add_sub_condition(
            SingleColumnCondition("token", record.token, ComparatorType.EQUAL, pass_if_missing=False)
        )
        replaceable = CompositeColumnCondition(LogicalOperator.OR)
        replaceable.add_sub_condition(
            SingleColumnCondition("expiry", int(now), ComparatorType.LESS_THAN, pass_if_missing=True)
        )
        replaceable.add_sub_condition(stale)
        row = Row([(KEY, record.key)], _attributes(record))
        try:
            self.client.put_row(self.table_name, row, Condition(RowExistenceExpectation.IGNORE, replaceable))
        except OTSServiceError as exc:
            if exc.get_error_code() != CONDITION_FAILED:
                raise
            raise IdempotencyRecordExistsError(self._get_record(record.key)) from None

    def _get_record(self, key: str) -> IdempotencyRecord | None:
        _, row, _ = self.client.get_row(self.table_name, [(KEY, key)], max_version=1)
        if row is None or not row.attribute_columns:
            return None
        columns = {column[0]: column[1] for column in row.attribute_columns}
        in_progress = columns.get("in_progress_expiry")
        return IdempotencyRecord(
            key=key,
            status=parse_status(columns["status"]),
            expiry=int(columns["expiry"]),
            in_progress_expiry=None if in_progress is None else int(in_progress),
            payload_hash=columns.get("payload_hash", ""),
            token=columns.get("token", ""),
            result=load_result(columns.get("result")),
        )

    def _update_record(self, record: IdempotencyRecord) -> None:
        from tablestore.metadata import Condition, Row, RowExistenceExpectation

        # PutRow replaces the whole row, so columns of the in-progress state disappear with it.
        row = Row([(KEY, record.key)], _attributes(record))
        self.client.put_row(self.table_name, row, Condition(RowExistenceExpectation.IGNORE))

    def _delete_record(self, key: str) -> None:
        from tablestore.error import OTSServiceError
        from tablestore.metadata import ComparatorType, Condition, Row, RowExistenceExpectation, SingleColumnCondition

        only_in_progress = SingleColumnCondition(
            "status", RecordStatus.IN_PROGRESS.value, ComparatorType.EQUAL, pass_if_missing=False
        )
        try:
            self.client.delete_row(
                self.table_name, Row([(KEY, key)]), Condition(RowExistenceExpectation.IGNORE, only_in_progress)
            )
        except OTSServiceError as exc:
            if exc.get_error_code() != CONDITION_FAILED:
                raise

    def _init(self) -> str:
        from tablestore.error import OTSServiceError
        from tablestore.metadata import CapacityUnit, ReservedThroughput, TableMeta, TableOptions

        try:
            self.client.create_table(
                TableMeta(self.table_name, [(KEY, "STRING")]),
                TableOptions(time_to_live=self.ttl_seconds, max_version=1),
                ReservedThroughput(CapacityUnit(0, 0)),
            )
        except OTSServiceError as exc:
            if exc.get_error_code() != ALREADY_EXISTS:
                raise
            return f"{self.describe()}: table already existed"
        return f"{self.describe()}: table created (TTL {self.ttl_seconds}s; -1 = never)"


def _attributes(record: IdempotencyRecord) -> list[tuple[str, Any]]:
    columns: list[tuple[str, Any]] = [
        ("status", record.status.value),
        ("expiry", record.expiry),
        ("payload_hash", record.payload_hash),
        ("token", record.token),
    ]
    if record.in_progress_expiry is not None:
        columns.append(("in_progress_expiry", record.in_progress_expiry))
    if record.result is not None:
        columns.append(("result", dump_result(record.result)))
    return columns
