"""Emulator speed-ups, applied by moto_launcher.py for every use of the emulator (local mode, tests,
benchmarks).

Some moto hot spots have no counterpart on AWS and would otherwise dominate every timing, since
moto serves one request at a time (local/moto_process.py serialize_requests). They were first
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

5. DynamoDB parses every ConditionExpression three times per written item (the request check,
   the transaction's condition check, and update_item's own check), each a tokenizer and parser
   run in Python (~0.3 ms), and every UpdateExpression twice. A parsed condition is pure (its
   nodes hold the expression's names and values and read the item only when evaluated), so it
   is memoized by the expression, its names and the values it references; a parsed update
   expression is only read, never changed (moto's validator deep-copies it first), so it is
   memoized by its text. Failures are not memoized: a bad expression fails as before.

6. DynamoDB UpdateItem (alone or in a transaction) runs ten tree walks of moto's validator over
   the update expression and deep-copies the item for a stream record, ~0.8 ms per item. For the
   plainest update, `SET #a = :a, b = :b, ...` on an existing item of a table without a stream,
   none touching the table's key, each walk has nothing to reject, so the values are
   set directly (a fresh DynamoType each, as the validator makes, through the same size-limited
   dict). Anything else (another clause, a nested path, a function, a missing placeholder, a
   new item, a key attribute, a stream) goes through moto's own update_item.

7. moto's server routes each request by checking its host against the list of its own service
   packages, which it makes by listing its package directory (os.listdir and a stat of each of
   ~200 entries) twice per request: ~1.6 ms of every call, whatever the service, both systems'
   alike. The directory does not change while the server runs: it is listed once.

8. DynamoDB builds every stored item attribute by attribute through a dict that checks the
   400 KB item limit on each insertion by re-measuring every attribute already in it: quadratic
   in the attributes (~0.6 ms for an audit record). Sizes are never negative, so the item is over
   the limit after some insertion exactly when it is over the limit at the end: it is measured
   once, and the same ItemSizeTooLarge is raised when it is over.

9. DynamoDB Query on a table's own key sorts every item of the table (all_items) and then keeps
   those with the queried partition key: a read of one role's deny entries cost as much as reading
   the whole revocation store. The query now starts from that partition's items, the only ones
   the filter could keep, sorted the same way.

10. SQS makes each receipt handle from 185 separate random.choice calls, ~0.25 ms per message
    received (2.5 ms of every ReceiveMessage of 10): one random.choices call of the same 185
    lowercase letters, from the same generator.

11. SQS DeleteMessageBatch deletes its entries one at a time, each with two walks of every message
    in the queue (which message had this handle? then a rebuild of the queue without it): 20 walks
    of a burst's 1,000-message backlog per call. The messages holding the batch's handles are
    found in one walk and the queue rebuilt once, entry by entry in the same order, with the same
    answers (already deleted, superseded handles, unknown handles).

12. SQS computes every attribute of a queue for each message sent to it (to read
    ContentBasedDeduplication, which a standard queue does not even have), converting each of ~20
    attribute names from CamelCase to snake_case character by character: ~0.35 ms of every message
    an EventBridge rule or SendMessage delivers. The conversion is pure: memoized by name.

13. EventBridge PutEvents builds the delivered message (a deep copy of a base message, the event's
    Detail parsed from JSON, two clock reads) once for every rule of the bus, and only then asks
    the rule whether its pattern matches: on the default bus, with Sundown's rules, ~20 messages
    built per event put, nearly all thrown away (~0.8 ms of every event of a burst, both systems'
    alike: the burst is delivered to both). The message is built once per event; each rule whose
    pattern matches gets a deep copy of its own, as before.

14. Every request looks up the method that serves its action in the list of its response
    class's methods, which moto makes anew each time with inspect.getmembers (~0.2 ms of every
    call, whatever the service). A class's methods do not change while the server runs: listed
    once per class.

None of these changes what any API call returns. Nothing else is patched here.
"""

import functools

import moto_speedups_dynamodb
import moto_speedups_events
import moto_speedups_expressions
import moto_speedups_sqs
from moto_speedups_patch import replaces
from moto_speedups_stats import STATS

__all__ = ["STATS", "apply"]


@replaces("jsonpath_ng.ext", "parse")
def _memoize_jsonpath_parse(parse):  # type: ignore[no-untyped-def]
    return functools.lru_cache(maxsize=256)(parse)


@replaces("moto.backends", "list_of_moto_modules")
def _list_moto_modules_once(list_of_moto_modules):  # type: ignore[no-untyped-def]
    modules = tuple(list_of_moto_modules())
    return lambda: iter(modules)


@replaces("moto.core.responses", "method_names_from_class")
def _list_response_methods_once(method_names_from_class):  # type: ignore[no-untyped-def]
    listed = functools.lru_cache(maxsize=None)(lambda clazz: tuple(method_names_from_class(clazz)))
    return lambda clazz: list(listed(clazz))


def apply() -> None:
    _memoize_jsonpath_parse()
    _list_moto_modules_once()
    _list_response_methods_once()
    moto_speedups_events.apply()
    moto_speedups_dynamodb.apply()
    moto_speedups_sqs.apply()
    moto_speedups_expressions.apply()
