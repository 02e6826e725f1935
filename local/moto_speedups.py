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
   table. Here the only copies are of the items the transaction names (the only ones it can
   change), taken before it runs: when moto rolls back (always by raising), they are put back,
   which restores exactly the same state. (An earlier version copied every item container of the
   table, hashing every key: ~0.6 s per transaction at a few thousand items.) Tables with streams
   keep moto's full copy.

3. DynamoDB responses go through moto's generic, shape-driven serializer, about 0.55 ms per
   returned item (a Query returning 500 items costs ~280 ms), so the cost of reading grows far
   faster than on AWS. moto's DynamoDB handlers already return the AWS-shaped dict
   (DynamoResult, via dynamo_to_dict); it is written with json.dumps instead, which gives the
   same JSON (checked for Query, Scan, GetItem, UpdateItem, PutItem, BatchWriteItem) with the
   same Content-Type. Anything json.dumps cannot write (binary attributes, timestamps in table
   descriptions) still goes through moto's serializer.

4. SQS ReceiveMessage checks each message it returns against the queue's retention period by
   calling get_queue_attributes, which computes every attribute of the queue three times over,
   ApproximateNumberOfMessages and its siblings among them (each a scan of every message in the
   queue): ~30 scans of the queue per 10 messages received, 150-550 ms per ReceiveMessage with a
   burst's backlog of 1,000 messages. The check now reads the retention period itself, and
   GetQueueAttributes computes the attributes once per call. The scans of the queue's messages
   (visible, delayed, in flight; SendMessage computes every attribute of the queue for each
   message sent) read the clock, through datetime conversions, once or twice per message: they
   now read it once per scan. 10 events delivered to a queue holding 1,000 messages went from
   ~300 ms to a few ms.

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
        if any(getattr(self.tables.get(name), "stream_shard", None) is not None for name in touched):
            return original(self, transact_items)  # streams: moto's own full copy
        log = _undo_log(self, touched)

        def deepcopy(value, memo=None):  # type: ignore[no-untyped-def]
            # moto's rollback snapshot of a table: the table itself, restored from the undo log.
            if isinstance(value, Table):
                return value
            return _copy.deepcopy(value, memo)

        # transact_write_items reaches deepcopy through the module global `copy`; requests are
        # serialized (moto_launcher.py), so swapping it for the duration of one call is safe.
        ddb_models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=_copy.copy)
        try:
            return original(self, transact_items)
        except BaseException:
            # moto rolls back only by raising (TransactionCanceledException or a validation error).
            _undo(log)
            raise
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


def _cheap_sqs_attribute_reads() -> None:
    try:
        from moto.sqs.models import SQSBackend
    except ImportError:
        return
    if getattr(SQSBackend.is_message_valid_based_on_retention_period, "_sundown_bench", False):
        return
    from moto.core.utils import unix_time

    def is_message_valid_based_on_retention_period(self, queue_name, message):  # type: ignore[no-untyped-def]
        # moto: get_queue_attributes(queue_name, ["MessageRetentionPeriod"])["MessageRetentionPeriod"]
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    from moto.sqs.exceptions import InvalidAttributeName

    def get_queue_attributes(self, queue_name, attribute_names):  # type: ignore[no-untyped-def]
        # moto's, with queue.attributes (a property scanning every message) computed once.
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid_names = ["All"] + queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
        invalid_name = next((name for name in attribute_names if name not in valid_names), None)
        if invalid_name or invalid_name == "":
            raise InvalidAttributeName(invalid_name)
        computed = queue.attributes
        if "All" in attribute_names:
            return computed
        return {name: computed[name] for name in attribute_names if computed.get(name) is not None}

    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Queue

    def messages(self):  # type: ignore[no-untyped-def]
        # moto: [m for m in self._messages if m.visible and not m.delayed], each reading the clock.
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed_count(self):  # type: ignore[no-untyped-def]
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible_count(self):  # type: ignore[no-untyped-def]
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    Queue.messages = property(messages)
    # Part of queue.attributes, which SendMessage also reads (ContentBasedDeduplication) for every
    # message sent: same counts, one clock read per scan.
    Queue.approximate_number_of_messages_delayed = property(delayed_count)
    Queue.approximate_number_of_messages_not_visible = property(not_visible_count)
    is_message_valid_based_on_retention_period._sundown_bench = True  # type: ignore[attr-defined]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    SQSBackend.get_queue_attributes = get_queue_attributes


def apply() -> None:
    _memoize_jsonpath_parse()
    _cheap_transaction_snapshots()
    _fast_dynamodb_json()
    _cheap_sqs_attribute_reads()
