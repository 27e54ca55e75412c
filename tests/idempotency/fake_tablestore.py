"""FAKE Tablestore client: an in-memory stand-in for ``tablestore.OTSClient``.

No local Tablestore server exists, so the Tablestore store is tested against this fake. It takes the
real SDK objects (``Row``, ``Condition``, ``SingleColumnCondition``, ``CompositeColumnCondition``) and
evaluates them with the semantics the SDK documents:

- row existence: ``IGNORE`` always passes, ``EXPECT_EXIST`` / ``EXPECT_NOT_EXIST`` check the row;
- a single-column condition on a missing column (or a missing row) passes iff ``pass_if_missing``;
  values of different types never compare as equal/ordered;
- composite conditions combine with ``NOT`` (one sub-condition), ``AND``, ``OR``;
- a failed check raises ``OTSServiceError(403, "OTSConditionCheckFail", "Condition check failed.")``;
- a string primary-key value over 1 KB of UTF-8 is refused (``OTSParameterInvalid``), as the service does.

What it cannot show: network behaviour, throttling, partition loading after CreateTable, and the real
service's exact type-comparison rules.
"""

from __future__ import annotations

import threading
from typing import Any

from tablestore.error import OTSClientError, OTSServiceError
from tablestore.metadata import (
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
    TableMeta,
)

_MISSING = object()


class FakeOTSClient:
    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.table_options: dict[str, Any] = {}
        self.available = True
        self.calls: list[str] = []
        self._lock = threading.Lock()

    # --- tables ----------------------------------------------------------------------------------

    def create_table(self, table_meta: TableMeta, table_options: Any, reserved_throughput: Any, *args: Any) -> None:
        self._enter("CreateTable")
        with self._lock:
            if table_meta.table_name in self.tables:
                raise OTSServiceError(409, "OTSObjectAlreadyExist", "Requested table already exists.")
            self.tables[table_meta.table_name] = {}
            self.table_options[table_meta.table_name] = table_options

    def list_table(self) -> tuple[str, ...]:
        self._enter("ListTable")
        return tuple(self.tables)

    # --- rows ------------------------------------------------------------------------------------

    def put_row(self, table_name: str, row: Row, condition: Condition | None = None, *args: Any) -> Any:
        self._enter("PutRow")
        with self._lock:
            rows = self._table(table_name)
            pk = _pk(row.primary_key)
            self._check(rows.get(pk), condition)
            rows[pk] = dict(_columns(row.attribute_columns))
        return None, None

    def update_row(self, table_name: str, row: Row, condition: Condition, *args: Any) -> Any:
        self._enter("UpdateRow")
        with self._lock:
            rows = self._table(table_name)
            pk = _pk(row.primary_key)
            self._check(rows.get(pk), condition)
            current = dict(rows.get(pk, {}))
            changes = row.attribute_columns or {}
            current.update(_columns(changes.get("put", [])))
            for name in changes.get("delete_all", []):
                current.pop(name if isinstance(name, str) else name[0], None)
            rows[pk] = current
        return None, None

    def delete_row(self, table_name: str, row: Row, condition: Condition | None = None, *args: Any) -> Any:
        self._enter("DeleteRow")
        with self._lock:
            rows = self._table(table_name)
            pk = _pk(row.primary_key if isinstance(row, Row) else row)
            self._check(rows.get(pk), condition)
            rows.pop(pk, None)
        return None, None

    def get_row(self, table_name: str, primary_key: list[tuple[str, Any]], *args: Any, **kwargs: Any) -> Any:
        self._enter("GetRow")
        with self._lock:
            columns = self._table(table_name).get(_pk(primary_key))
        if columns is None:
            return None, None, None
        # The SDK returns attribute columns as (name, value, timestamp) tuples.
        return None, Row(list(primary_key), [(k, v, 0) for k, v in columns.items()]), None

    # --- semantics -------------------------------------------------------------------------------

    def _check(self, existing: dict[str, Any] | None, condition: Condition | None) -> None:
        if condition is None:
            return
        if not isinstance(condition, Condition):
            raise OTSClientError("condition must be a tablestore Condition")
        expectation = condition.get_row_existence_expectation()
        ok = {
            RowExistenceExpectation.IGNORE: True,
            RowExistenceExpectation.EXPECT_EXIST: existing is not None,
            RowExistenceExpectation.EXPECT_NOT_EXIST: existing is None,
        }[expectation]
        column_condition = condition.get_column_condition()
        if ok and column_condition is not None:
            ok = _evaluate(column_condition, existing or {})
        if not ok:
            raise OTSServiceError(403, "OTSConditionCheckFail", "Condition check failed.")

    def _table(self, name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        if name not in self.tables:
            raise OTSServiceError(404, "OTSObjectNotExist", "Requested table does not exist.")
        return self.tables[name]

    def _enter(self, api: str) -> None:
        self.calls.append(api)
        if not self.available:
            raise OTSClientError("Connection refused (fake Tablestore marked unavailable)")


def _evaluate(condition: Any, columns: dict[str, Any]) -> bool:
    if isinstance(condition, CompositeColumnCondition):
        results = [_evaluate(sub, columns) for sub in condition.sub_conditions]
        combinator = condition.get_combinator()
        if combinator == LogicalOperator.NOT:
            if len(results) != 1:
                raise OTSClientError("NOT takes exactly one sub-condition")
            return not results[0]
        if not results:
            raise OTSClientError("composite condition without sub-conditions")
        return all(results) if combinator == LogicalOperator.AND else any(results)
    if isinstance(condition, SingleColumnCondition):
        value = columns.get(condition.get_column_name(), _MISSING)
        if value is _MISSING:
            return condition.get_pass_if_missing()
        expected = condition.get_column_value()
        if type(value) is not type(expected):
            return False
        return {
            ComparatorType.EQUAL: value == expected,
            ComparatorType.NOT_EQUAL: value != expected,
            ComparatorType.GREATER_THAN: value > expected,
            ComparatorType.GREATER_EQUAL: value >= expected,
            ComparatorType.LESS_THAN: value < expected,
            ComparatorType.LESS_EQUAL: value <= expected,
        }[condition.get_comparator()]
    raise OTSClientError(f"unsupported condition {type(condition).__name__}")


#: The service refuses a string primary-key value over 1 KB of UTF-8
#: (https://help.aliyun.com/en/tablestore/product-overview/general-limits-of-tablestore/).
MAX_PRIMARY_KEY_STRING_BYTES = 1024


def _pk(primary_key: list[tuple[str, Any]]) -> tuple[Any, ...]:
    for name, value in primary_key:
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_PRIMARY_KEY_STRING_BYTES:
            raise OTSServiceError(
                400, "OTSParameterInvalid", f"The length of primary key column: '{name}' exceeds the limit."
            )
    return tuple(value for _, value in primary_key)


def _columns(columns: Any) -> list[tuple[str, Any]]:
    return [(column[0], column[1]) for column in columns or []]
