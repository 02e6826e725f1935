"""Runs the same EventBridge requests against moto with or without local/moto_speedups.py and prints
what each returned and what each queue received, one JSON line per case (see
moto_speedups_equivalence.py, its DynamoDB twin).

Event IDs are random on both sides and times are the clock's, so each ID is printed as the order in
which it was first seen and each time as its type; everything else is printed as moto returned it.
"""

import json

from equivalence import choose_side, run

choose_side("moto_speedups_events_equivalence.py")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

ids: dict = {}


def normalize(value, key=""):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if key in ("EventId", "id", "MessageId"):
        ids.setdefault(value, f"{key}-{len(ids)}")
        return ids[value]
    if key in ("time", "ingestion-time"):
        return type(value).__name__
    if isinstance(value, str):
        for event_id, name in ids.items():
            value = value.replace(event_id, name)
    return value


def case(name, call):  # type: ignore[no-untyped-def]
    return run(name, call, normalize)


with mock_aws():
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queues = {}
    for name in ("ec2", "any-source", "transformed", "custom-bus", "never"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[name] = (url, arn)
    fifo_url = sqs.create_queue(QueueName="ordered.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queues["ordered.fifo"] = (fifo_url, fifo_arn)
    events.create_event_bus(Name="custom")

    def rule(name, pattern, targets, bus="default"):  # type: ignore[no-untyped-def]
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), EventBusName=bus)
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)

    rule("ec2", {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated", "stopped"]}}, [{"Id": "q", "Arn": queues["ec2"][1]}, {"Id": "f", "Arn": fifo_arn, "SqsParameters": {"MessageGroupId": "g"}}])
    rule("any-source", {"source": [{"prefix": "sundown"}]}, [{"Id": "q", "Arn": queues["any-source"][1]}])
    rule("transformed", {"detail": {"instance-id": [{"exists": True}]}}, [{"Id": "q", "Arn": queues["transformed"][1], "InputTransformer": {"InputPathsMap": {"i": "$.detail.instance-id", "s": "$.detail.state"}, "InputTemplate": '{"instance": "<i>", "state": "<s>"}'}}])
    rule("never", {"source": ["nobody"]}, [{"Id": "q", "Arn": queues["never"][1]}])
    rule("custom-bus", {"detail-type": ["Workload Ended"]}, [{"Id": "q", "Arn": queues["custom-bus"][1]}], bus="custom")
    # A rule without targets and one with a pattern on resources.
    events.put_rule(Name="no-targets", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    rule("by-resource", {"resources": [{"prefix": "arn:aws:ec2"}]}, [{"Id": "q", "Arn": queues["any-source"][1]}])

    def entry(source, detail_type, detail, **extra):  # type: ignore[no-untyped-def]
        return {"Source": source, "DetailType": detail_type, "Detail": detail if isinstance(detail, str) else json.dumps(detail), **extra}

    ec2 = "EC2 Instance State-change Notification"
    case("ten EC2 ends, some matching", lambda: events.put_events(Entries=[entry("aws.ec2", ec2, {"instance-id": f"i-{i:017x}", "state": ["terminated", "running", "stopped"][i % 3]}, Resources=[f"arn:aws:ec2:us-east-1:123456789012:instance/i-{i:017x}"]) for i in range(10)]))
    case("Sundown's own events, default and custom bus", lambda: events.put_events(Entries=[entry("sundown.audit", "Sundown Audit Record", {"seq": 1, "nested": {"list": [1, {"a": None}]}}), entry("sundown", "Workload Ended", {"workload": {"id": "w-1"}}, EventBusName="custom"), entry("sundown", "Workload Ended", {"workload": {"id": "w-2"}}, Time="2026-12-03T08:00:00Z")]))
    case("invalid entries beside a valid one", lambda: events.put_events(Entries=[{"Source": "", "DetailType": "x", "Detail": "{}"}, {"Source": "s", "DetailType": "", "Detail": "{}"}, {"Source": "s", "DetailType": "x", "Detail": ""}, entry("sundown.x", "x", "{not json"), entry("sundown.x", "list detail", "[1, 2]"), entry("sundown.x", "ok", {"instance-id": "i-1", "state": "gone"})]))
    case("eleven entries", lambda: events.put_events(Entries=[entry("aws.ec2", ec2, {"state": "terminated"})] * 11))
    case("unknown bus", lambda: events.put_events(Entries=[entry("sundown", "Workload Ended", {}, EventBusName="nope")]))
    case("a bus without rules", lambda: (events.create_event_bus(Name="empty"), events.put_events(Entries=[entry("s", "x", {}, EventBusName="empty")]))[1])
    for name, (url, _arn) in sorted(queues.items()):
        def received(url=url):  # type: ignore[no-untyped-def]
            messages = []
            while True:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
                if not got:
                    return {"bodies": sorted(json.dumps(normalize(json.loads(m["Body"])), sort_keys=True) for m in messages)}
                messages.extend(got)

        case(f"delivered to {name}", received)
