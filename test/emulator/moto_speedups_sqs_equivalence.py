"""Runs the same SQS requests against moto with or without local/moto_speedups.py and prints what
each returned, one JSON line per case (see moto_speedups_equivalence.py, its DynamoDB twin).

Receipt handles and message IDs are random on both sides, so each is printed as its shape and the
order in which it was first seen; everything else is printed as moto returned it.
"""

import json

from equivalence import choose_side, run

choose_side("moto_speedups_sqs_equivalence.py")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

handles: dict = {}


def shape(kind, value):  # type: ignore[no-untyped-def]
    if value not in handles:
        handles[value] = f"{kind}-{len(handles)} ({len(value)} chars, lowercase {value.isalpha() and value.islower()})"
    return handles[value]


def normalize(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {k: (shape(k, v) if k in ("ReceiptHandle", "MessageId") else normalize(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        for handle, name in handles.items():
            value = value.replace(handle, name)
    return value


def case(name, call):  # type: ignore[no-untyped-def]
    return run(name, call, normalize)


def ignore_times(attributes):  # type: ignore[no-untyped-def]
    return {k: v for k, v in attributes.items() if "Timestamp" not in k}


with mock_aws():
    sqs = boto3.client("sqs", region_name="us-east-1")
    for fifo in (False, True):
        kind = "fifo" if fifo else "standard"
        attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
        url = sqs.create_queue(QueueName=f"q-{kind}{'.fifo' if fifo else ''}", Attributes=attributes)["QueueUrl"]
        for batch in range(3):
            entries = [{"Id": str(i), "MessageBody": f"m{batch * 10 + i}"} for i in range(10)]
            if fifo:
                entries = [{**e, "MessageGroupId": f"g{int(e['Id']) % 3}"} for e in entries]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)

        def receive(n):  # type: ignore[no-untyped-def]
            def call():  # type: ignore[no-untyped-def]
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, VisibilityTimeout=30, AttributeNames=["ApproximateReceiveCount"])
                for m in got.get("Messages", []):
                    m["Attributes"] = ignore_times(m.get("Attributes", {}))
                return got

            return call

        def delete(entries):  # type: ignore[no-untyped-def]
            return lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(entries)])

        def counts():  # type: ignore[no-untyped-def]
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])

        first = case(f"{kind}: receive 10", receive(10))["Messages"]
        h = [m["ReceiptHandle"] for m in first]
        case(f"{kind}: delete 3, one unknown handle", delete([h[0], "not-a-handle", h[1], h[2]]))
        case(f"{kind}: delete a handle already deleted, and one more", delete([h[0], h[3]]))
        case(f"{kind}: counts after deletes", counts)
        case(f"{kind}: make 2 visible again", lambda: sqs.change_message_visibility_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": h[4], "VisibilityTimeout": 0}, {"Id": "b", "ReceiptHandle": h[5], "VisibilityTimeout": 0}]))
        again = case(f"{kind}: receive again", receive(10)).get("Messages", [])
        renewed = [m["ReceiptHandle"] for m in again if m["Body"] in {first[4]["Body"], first[5]["Body"]}]
        case(f"{kind}: delete by an old handle and the same message's new one", delete([h[4], *renewed[:1]]))
        case(f"{kind}: delete the rest, old handles and new", delete([*h[5:], *renewed[1:]]))
        case(f"{kind}: delete everything received again", delete([m["ReceiptHandle"] for m in again if m["ReceiptHandle"] not in renewed]))
        case(f"{kind}: counts after second deletes", counts)
        case(f"{kind}: duplicate handle in one batch", delete([h[9], h[9]]))
        case(f"{kind}: receive the rest", receive(10))
        case(f"{kind}: counts at the end", counts)
        resend = {"MessageBody": "m0", **({"MessageGroupId": "g0"} if fifo else {})}
        case(f"{kind}: send a body sent before", lambda: sqs.send_message(QueueUrl=url, **resend))
        case(f"{kind}: every attribute", lambda: {"Attributes": ignore_times(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])})
    case("unknown queue", lambda: sqs.delete_message_batch(QueueUrl=url.replace("q-fifo", "nope"), Entries=[{"Id": "0", "ReceiptHandle": "x"}]))
