"""DynamoDB speed-ups 2, 3, 8 and 9 of local/moto_speedups.py (its docstring says what each does and why)."""

import copy as _copy
import inspect
import json
import types

from moto_speedups_patch import replaces
from moto_speedups_stats import STATS


def _touched_keys(backend, transact_items):  # type: ignore[no-untyped-def]
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = {}
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            attrs = op["Item"] if op_type == "Put" else op["Key"]
            hash_value = DynamoType(attrs[table.hash_key_attr])
            range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except Exception:  # malformed input: moto reports it; the snapshot just has nothing to add
            continue
        touched.setdefault(table.name, []).append((hash_value, range_value))
    return touched


def _undo_log(backend, touched):  # type: ignore[no-untyped-def]
    """What the items a transaction names hold now (a deep copy, or None when absent)."""
    log = []
    for name, keys in touched.items():
        table = backend.tables.get(name)
        if table is None:
            continue
        for hash_value, range_value in keys:
            if table.range_key_attr:
                had_hash = hash_value in table.items
                current = table.items[hash_value].get(range_value) if had_hash else None
            else:
                had_hash = hash_value in table.items
                current = table.items.get(hash_value)
            log.append((table, hash_value, range_value, had_hash, _copy.deepcopy(current)))
    return log


def _undo(log):  # type: ignore[no-untyped-def]
    for table, hash_value, range_value, had_hash, previous in reversed(log):
        if table.range_key_attr:
            by_range = table.items.get(hash_value)
            if previous is None:
                if by_range is not None:
                    by_range.pop(range_value, None)
                    if not by_range and not had_hash:
                        del table.items[hash_value]
            else:
                table.items[hash_value][range_value] = previous
        elif previous is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = previous


@replaces("moto.dynamodb.models:DynamoDBBackend", "transact_write_items")
def _cheap_transaction_snapshots(original):  # type: ignore[no-untyped-def]
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.table import Table

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        touched = _touched_keys(self, transact_items)
        if any(getattr(self.tables.get(name), "stream_shard", None) is not None for name in touched):
            return original(self, transact_items)  # streams: moto's own full copy
        log = _undo_log(self, touched)

        def deepcopy(value, memo=None):  # type: ignore[no-untyped-def]
            # moto's rollback snapshot of a table: the table itself, restored from the undo log.
            if isinstance(value, Table):
                return value
            return _copy.deepcopy(value, memo)

        # transact_write_items reaches deepcopy through the module global `copy`; requests are
        # serialized (moto_process.py), so swapping it for the duration of one call is safe.
        ddb_models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=_copy.copy)
        try:
            return original(self, transact_items)
        except BaseException:
            # moto rolls back only by raising (TransactionCanceledException or a validation error).
            _undo(log)
            raise
        finally:
            ddb_models.copy = _copy

    return transact_write_items


@replaces("moto.dynamodb.responses:DynamoResult", "execute_result")
def _fast_dynamodb_json(original):  # type: ignore[no-untyped-def]
    def execute_result(self, context):  # type: ignore[no-untyped-def]
        try:
            body = json.dumps(self.result)
        except (TypeError, ValueError):
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    return execute_result


@replaces("moto.dynamodb.models.dynamo_type:Item", "__init__")
def _measure_items_once(_original):  # type: ignore[no-untyped-def]
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    DynamoType = dynamo_type.DynamoType  # noqa: N806
    LimitedSizeDict = dynamo_type.LimitedSizeDict  # noqa: N806

    def __init__(self, hash_key, range_key, attrs):  # type: ignore[no-untyped-def]
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        # moto's LimitedSizeDict.__setitem__, summed once: keys by bytesize(str(key)), values by size().
        total = sum(bytesize(str(key)) + value.size() for key, value in values.items())
        if total > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)

    return __init__


@replaces("moto.dynamodb.models.table:Table", "query")
def _query_one_partition(original):  # type: ignore[no-untyped-def]
    signature = inspect.signature(original)

    def query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            bound = signature.bind(self, *args, **kwargs).arguments
        except TypeError:
            return original(self, *args, **kwargs)
        hash_key = bound.get("hash_key")
        if bound.get("index_name") or hash_key is None:
            return original(self, *args, **kwargs)
        STATS["partition_queries"] += 1

        def all_items():  # type: ignore[no-untyped-def]
            # moto's all_items (same order), of the one partition the query keeps items from.
            bucket = self.items.get(hash_key)  # .get: moto's defaultdict gains no empty partition
            if bucket is None:
                items = []
            elif self.range_key_attr:
                items = list(bucket.values())
            else:
                items = [bucket]
            return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

        # Requests are serialized (moto_process.py): shadowing the method for one call is safe.
        self.all_items = all_items
        try:
            return original(self, *args, **kwargs)
        finally:
            if self.__dict__.get("all_items") is all_items:
                del self.all_items

    return query


def apply() -> None:
    _cheap_transaction_snapshots()
    _fast_dynamodb_json()
    _measure_items_once()
    _query_one_partition()
