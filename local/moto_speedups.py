"""Emulator speed-ups, applied by moto_launcher.py for every use of the emulator (local mode, tests,
benchmarks).

Three moto hot spots have no counterpart on AWS and would otherwise dominate every timing, since
moto serves one request at a time (local/moto_launcher.py serialize_requests). They were first
written for the benchmarks; the tests paid the same costs (about 150 ms of emulator time per
delivered event), so they now apply everywhere:

1. EventBridge: every matched event is delivered through EventTemplateParser.parse, which builds
   a new jsonpath_ng parser (a PLY yacc table) for each default input path on every event,
   about 150 ms of emulator time per delivered event. Parsing is pure: memoized by path string.

2. DynamoDB TransactWriteItems deep-copies every table the transaction names, before checking
   any condition, so it can roll back. The cost grows with the table: about 55 ms per call at
   1,000 items and 290 ms at 4,000, and Sundown's audit chain appends to one ever-growing
   table. Here the rollback snapshot copies the table's item containers and deep-copies only
   the items the transaction names (the only ones it can change), which restores exactly the
   same state. Tables with streams keep moto's full copy.

3. DynamoDB responses go through moto's generic, shape-driven serializer, about 0.55 ms per
   returned item (a Query returning 500 items costs ~280 ms), so the cost of reading grows far
   faster than on AWS. moto's DynamoDB handlers already return the AWS-shaped dict
   (DynamoResult, via dynamo_to_dict); it is written with json.dumps instead, which gives the
   same JSON (checked for Query, Scan, GetItem, UpdateItem, PutItem, BatchWriteItem) with the
   same Content-Type. Anything json.dumps cannot write (binary attributes, timestamps in table
   descriptions) still goes through moto's serializer.

None of these changes what any API call returns. Nothing else is patched here.
"""

import copy as _copy
import functools
import types


def _memoize_jsonpath_parse() -> None:
    try:
        import jsonpath_ng.ext as jsonpath_ext
    except ImportError:  # moto without jsonpath_ng: nothing to speed up
        return
    if getattr(jsonpath_ext.parse, "_sundown_bench", False):
        return
    memoized = functools.lru_cache(maxsize=256)(jsonpath_ext.parse)
    memoized._sundown_bench = True  # type: ignore[attr-defined]
    jsonpath_ext.parse = memoized


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


def _snapshot(table, keys):  # type: ignore[no-untyped-def]
    from collections import defaultdict

    if table.stream_shard is not None:
        return _copy.deepcopy(table)
    snapshot = _copy.copy(table)
    if table.range_key_attr:
        items = defaultdict(dict, {h: dict(by_range) for h, by_range in table.items.items()})
        for hash_value, range_value in keys:
            current = items.get(hash_value, {}).get(range_value)
            if current is not None:
                items[hash_value][range_value] = _copy.deepcopy(current)
    else:
        items = defaultdict(dict, table.items)
        for hash_value, _ in keys:
            current = items.get(hash_value)
            if current is not None:
                items[hash_value] = _copy.deepcopy(current)
    snapshot.items = items
    return snapshot


def _cheap_transaction_snapshots() -> None:
    try:
        from moto.dynamodb import models as ddb_models
        from moto.dynamodb.models.table import Table
    except ImportError:
        return
    backend_class = ddb_models.DynamoDBBackend
    if getattr(backend_class.transact_write_items, "_sundown_bench", False):
        return
    original = backend_class.transact_write_items

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        touched = _touched_keys(self, transact_items)

        def deepcopy(value, memo=None):  # type: ignore[no-untyped-def]
            if isinstance(value, Table):
                return _snapshot(value, touched.get(value.name, []))
            return _copy.deepcopy(value, memo)

        # transact_write_items reaches deepcopy through the module global `copy`; requests are
        # serialized (moto_launcher.py), so swapping it for the duration of one call is safe.
        ddb_models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=_copy.copy)
        try:
            return original(self, transact_items)
        finally:
            ddb_models.copy = _copy

    transact_write_items._sundown_bench = True  # type: ignore[attr-defined]
    backend_class.transact_write_items = transact_write_items


def _fast_dynamodb_json() -> None:
    try:
        import json

        from moto.dynamodb.responses import DynamoResult
    except ImportError:
        return
    if getattr(DynamoResult.execute_result, "_sundown_bench", False):
        return
    original = DynamoResult.execute_result

    def execute_result(self, context):  # type: ignore[no-untyped-def]
        try:
            body = json.dumps(self.result)
        except (TypeError, ValueError):
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result._sundown_bench = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result


def apply() -> None:
    _memoize_jsonpath_parse()
    _cheap_transaction_snapshots()
    _fast_dynamodb_json()
