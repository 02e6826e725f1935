"""Runs the same DynamoDB requests against moto with or without local/moto_speedups.py and prints
what each returned (a response or an error code and message), one JSON line per case.

test/unit/moto-speedups.test.ts runs it twice (`raw` and `patched`, separate processes, since
the speed-ups patch moto in place) and requires identical output: the speed-ups may change how
fast moto answers, never what it answers.
"""

import json

from equivalence import choose_side, run

choose_side("moto_speedups_equivalence.py")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


def case(name, call):  # type: ignore[no-untyped-def]
    return run(name, call, error_fields=lambda response: {"item": response.get("Item"), "reasons": response.get("CancellationReasons")})


with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(
        TableName="reg",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "workloadId", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byWorkload",
                "KeySchema": [{"AttributeName": "workloadId", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    c.create_table(
        TableName="chain",
        KeySchema=[{"AttributeName": "chainId", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "chainId", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(6):
        c.put_item(TableName="reg", Item={"id": S(f"c{i}"), "workloadId": S(f"w{i % 2}"), "status": S("active")})

    def update(key, expr, names=None, values=None, cond=None, **extra):  # type: ignore[no-untyped-def]
        params = {"TableName": "reg", "Key": {"id": S(key)}, "UpdateExpression": expr, **extra}
        if names is not None:
            params["ExpressionAttributeNames"] = names
        if values is not None:
            params["ExpressionAttributeValues"] = values
        if cond is not None:
            params["ConditionExpression"] = cond
        return lambda: c.update_item(**params)

    transition = "attribute_exists(id) AND #status IN (:from0)"
    names = {"#status": "status", "#at": "at"}
    case("set, condition holds", update("c0", "SET #status = :to, #at = :at", names, {":to": S("revoking"), ":from0": S("active"), ":at": S("t1")}, transition, ReturnValues="ALL_NEW"))
    case("same condition, other value", update("c0", "SET #status = :to, #at = :at", names, {":to": S("revoked"), ":from0": S("revoking"), ":at": S("t2")}, transition, ReturnValues="UPDATED_OLD"))
    case("same condition, now false", update("c0", "SET #status = :to, #at = :at", names, {":to": S("revoked"), ":from0": S("revoking"), ":at": S("t3")}, transition))
    case("false, ALL_OLD", update("c0", "SET #status = :to", {"#status": "status"}, {":to": S("x"), ":from0": S("active")}, "#status IN (:from0)", ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    case("condition names a missing value", update("c1", "SET #status = :to", {"#status": "status"}, {":to": S("x")}, "#status = :nope"))
    case("set a key attribute", update("c1", "SET #id = :v", {"#id": "id"}, {":v": S("other")}))
    case("set an index key, wrong type", update("c1", "SET #w = :v", {"#w": "workloadId"}, {":v": N(1)}))
    case("set an index key", update("c1", "SET #w = :v", {"#w": "workloadId"}, {":v": S("w9")}, ReturnValues="ALL_NEW"))
    case("missing value placeholder", update("c1", "SET #status = :gone", {"#status": "status"}, {":to": S("x")}))
    case("unused name", update("c1", "SET #status = :to", {"#status": "status", "#x": "x"}, {":to": S("x")}))
    case("unused value", update("c1", "SET #status = :to", {"#status": "status"}, {":to": S("x"), ":y": S("y")}))
    case("same attribute twice", update("c1", "SET #a = :a, #b = :b", {"#a": "n", "#b": "n"}, {":a": S("1"), ":b": S("2")}))
    case("reserved word without a name", update("c1", "SET status = :to", None, {":to": S("x")}))
    case("bare names", update("c1", "SET headSeq = :n, headHash = :h", None, {":n": N(3), ":h": S("abc")}, ReturnValues="ALL_NEW"))
    case("bare key name", update("c1", "SET id = :n", None, {":n": S("c7")}))
    case("bare and placeholder, same attribute", update("c1", "SET headSeq = :n, #h = :h", {"#h": "headSeq"}, {":n": N(3), ":h": N(4)}))
    case("syntax error", update("c1", "SET #status = = :to", {"#status": "status"}, {":to": S("x")}))
    case("new item", update("c9", "SET #status = :to", {"#status": "status"}, {":to": S("new")}, ReturnValues="ALL_NEW"))
    case("new item, condition", update("c8", "SET #status = :to", {"#status": "status"}, {":to": S("new")}, "attribute_exists(id)"))
    case("if_not_exists", update("c2", "SET #n = if_not_exists(#n, :z)", {"#n": "n"}, {":z": N(0)}, ReturnValues="ALL_NEW"))
    case("remove", update("c2", "REMOVE #n", {"#n": "n"}, None, ReturnValues="ALL_NEW"))
    case("map and list values", update("c2", "SET #m = :m, #l = :l", {"#m": "m", "#l": "l"}, {":m": {"M": {"a": N(1)}}, ":l": {"L": [S("x")]}}, ReturnValues="ALL_NEW"))
    case("lowercase set", update("c2", "set #s = :s", {"#s": "status"}, {":s": S("lower")}, ReturnValues="ALL_NEW"))
    case("too large", update("c3", "SET #big = :big", {"#big": "big"}, {":big": S("x" * 410_000)}))
    case("get after", lambda: c.get_item(TableName="reg", Key={"id": S("c3")}))

    def tx(items):  # type: ignore[no-untyped-def]
        return lambda: c.transact_write_items(TransactItems=items)

    def tx_update(key, to, frm):  # type: ignore[no-untyped-def]
        return {
            "Update": {
                "TableName": "reg",
                "Key": {"id": S(key)},
                "UpdateExpression": "SET #status = :to",
                "ConditionExpression": transition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":to": S(to), ":from0": S(frm)},
            }
        }

    case("transaction, all hold", tx([tx_update("c4", "revoking", "active"), tx_update("c5", "revoking", "active")]))
    case("transaction, one fails", tx([tx_update("c4", "revoked", "revoking"), tx_update("c5", "revoked", "active")]))
    case("transaction rolled back", lambda: c.get_item(TableName="reg", Key={"id": S("c4")}))
    put = lambda seq: {"Put": {"TableName": "chain", "Item": {"chainId": S("a"), "seq": N(seq)}, "ConditionExpression": "attribute_not_exists(seq)"}}  # noqa: E731
    case("append", tx([put(1), put(2)]))
    case("append again", tx([put(3), put(2)]))
    case("put, condition", lambda: c.put_item(TableName="chain", Item={"chainId": S("a"), "seq": N(1)}, ConditionExpression="attribute_not_exists(seq)"))

    wide = {"chainId": S("a"), "seq": N(10), **{f"a{i:03d}": S("x" * 1000) for i in range(400)}}
    case("put, 400 attributes under the limit", lambda: c.put_item(TableName="chain", Item=wide))
    case("get, 400 attributes", lambda: c.get_item(TableName="chain", Key={"chainId": S("a"), "seq": N(10)}))
    wider = {**wide, "seq": N(11), **{f"b{i:03d}": S("y" * 1000) for i in range(10)}}
    case("put, over the limit", lambda: c.put_item(TableName="chain", Item=wider))
    case("put in a transaction, over the limit", tx([{"Put": {"TableName": "chain", "Item": {**wider, "seq": N(12)}}}]))
    case("nested map sizes", lambda: c.put_item(TableName="chain", Item={"chainId": S("a"), "seq": N(13), "m": {"M": {"k": {"L": [S("z" * 200_000), N(1)]}, "s": {"SS": ["q" * 204_000]}}}}))
    case("nested map sizes, over", lambda: c.put_item(TableName="chain", Item={"chainId": S("a"), "seq": N(14), "m": {"M": {"k": {"L": [S("z" * 201_000), N(1)]}, "s": {"SS": ["q" * 204_000]}}}}))

    for seq in range(20, 30):
        c.put_item(TableName="chain", Item={"chainId": S("b"), "seq": N(seq), "v": S(f"v{seq}")})
    chain_query = lambda **kw: lambda: c.query(TableName="chain", **kw)  # noqa: E731
    case("query one partition", chain_query(KeyConditionExpression="chainId = :c", ExpressionAttributeValues={":c": S("b")}))
    case("query, range, backwards, limit", chain_query(KeyConditionExpression="chainId = :c AND seq >= :s", ExpressionAttributeValues={":c": S("b"), ":s": N(23)}, ScanIndexForward=False, Limit=3))
    case("query, next page", chain_query(KeyConditionExpression="chainId = :c", ExpressionAttributeValues={":c": S("b")}, Limit=4, ExclusiveStartKey={"chainId": S("b"), "seq": N(23)}))
    case("query, filter and projection", chain_query(KeyConditionExpression="chainId = :c", FilterExpression="v <> :v", ProjectionExpression="seq", ExpressionAttributeValues={":c": S("b"), ":v": S("v25")}))
    case("query, empty partition", chain_query(KeyConditionExpression="chainId = :c", ExpressionAttributeValues={":c": S("none")}))
    case("query, hash-only table", lambda: c.query(TableName="reg", KeyConditionExpression="id = :i", ExpressionAttributeValues={":i": S("c4")}))
    case("query, hash-only table, missing", lambda: c.query(TableName="reg", KeyConditionExpression="id = :i", ExpressionAttributeValues={":i": S("zz")}))

    def query(value):  # type: ignore[no-untyped-def]
        return lambda: c.query(
            TableName="reg",
            IndexName="byWorkload",
            KeyConditionExpression="workloadId = :w",
            FilterExpression="#status = :s",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":w": S("w0"), ":s": S(value)},
        )

    case("filter, active", query("active"))
    case("filter, revoking", query("revoking"))
    case("scan", lambda: c.scan(TableName="reg", FilterExpression="#status <> :s", ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues={":s": S("active")}))
