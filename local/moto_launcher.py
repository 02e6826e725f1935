"""Start moto's server with the patches Sundown needs.

Every workaround for a moto bug that Sundown hits lives in this one file, so it
is easy to see what the emulator does differently and to drop a patch once moto
fixes the bug upstream. Each patch says what breaks without it. How the server
process runs (one request at a time, never past its parent) is moto_process.py;
speed-ups that change no answer are moto_speedups.py.

Usage: python3 moto_launcher.py -H 127.0.0.1 -p PORT   (same flags as moto_server)
"""

import os
import sys


def patch_event_bus_physical_id() -> None:
    """CloudFormation: a Rule on a custom bus fails without this.

    CDK emits `EventBusName: {Ref: <EventBus>}` for a rule on a custom bus. moto
    resolves that Ref through `EventBus.physical_resource_id`, which it lacks, so
    CreateStack fails with HTTP 500 ("'EventBus' object has no attribute 'split'").
    On AWS the Ref of an AWS::Events::EventBus is the bus name; return that.
    """
    from moto.events.models import EventBus

    if not isinstance(getattr(EventBus, "physical_resource_id", None), property):
        EventBus.physical_resource_id = property(lambda self: self.name)


def patch_network_interface_dns_name() -> None:
    """ECS: RunTask with launchType FARGATE fails without this.

    moto's ECS reads `private_dns_name` from the task's elastic network
    interface, which moto's NetworkInterface model does not define, so RunTask
    fails with HTTP 500 (AttributeError). Derive it the way EC2 names hosts.
    """
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if hasattr(NetworkInterface, "private_dns_name"):
        return

    def get(self):  # type: ignore[no-untyped-def]
        explicit = self.__dict__.get("_sundown_private_dns_name")
        return explicit or "ip-%s.ec2.internal" % str(self.private_ip_address).replace(".", "-")

    def set(self, value):  # type: ignore[no-untyped-def]
        # Other code paths assign the attribute; keep what they set.
        self.__dict__["_sundown_private_dns_name"] = value

    NetworkInterface.private_dns_name = property(get, set)


def patch_event_account_field() -> None:
    """EventBridge -> SQS: delivered events lack `account` without this.

    moto builds the delivered body from a default input template that omits the
    envelope's `account`, although it sets it on the event. Real EventBridge
    always delivers it, and Sundown rejects events without an account (an
    event that hides its account could hide that it is from another account).
    """
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"version": "0",', '"version": "0", "account": "<account>",'
        )


def patch_ecs_tasks_keep_running() -> None:
    """ECS: a running task stops by itself after a few DescribeTasks calls without this.

    moto advances a task's lastStatus one step (RUNNING -> DEACTIVATING -> ... -> STOPPED) on
    every DescribeTasks that names it. Discovery and the reconciliation sweep both describe tasks,
    so a live task would read as STOPPED after a few sweeps and the sweep would revoke it. On AWS a
    task runs until it is stopped: keep moto's tasks where they are until StopTask.
    """
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})


def patch_schedule_rules_match_no_events() -> None:
    """EventBridge: a schedule rule receives every event on its bus without this.

    moto treats a rule without an event pattern as matching every event, so the reconciliation
    sweep's schedule rule (ScheduleExpression only) forwards every event on the default bus to the
    SweepTicks queue, and each one runs a sweep. On AWS a schedule rule matches no events (moto
    does not fire schedules either: locally, sweeps run through `sundown sweep`).
    """
    from moto.events.models import Rule

    original = Rule.send_to_targets
    if getattr(original, "_sundown_patched", False):
        return

    def send_to_targets(self, original_event, transform_input=True):  # type: ignore[no-untyped-def]
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return None
        return original(self, original_event, transform_input)

    send_to_targets._sundown_patched = True  # type: ignore[attr-defined]
    Rule.send_to_targets = send_to_targets


def patch_cloudwatch_alarm_resource() -> None:
    """CloudFormation: the stack's alarms are missing, and its dashboard fails, without this.

    moto's CloudFormation has no AWS::CloudWatch::Alarm: it skips Sundown's alarms, and the
    operations dashboard (whose alarm status widget names them with Fn::GetAtt Arn) then fails
    with "references undefined resource". Create them through moto's PutMetricAlarm (moto stores
    alarms and reports their state; it does not evaluate them).
    """
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel

    class CloudWatchAlarmResource(CloudFormationModel):
        # moto derives a model's service from its module name (moto.<service>.models).
        __module__ = "moto.cloudwatch.models"

        def __init__(self, name: str, arn: str) -> None:
            self.name = name
            self.arn = arn

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name == "Arn":
                return self.arn
            raise KeyError(attribute_name)

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def,override]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            p = cloudformation_json["Properties"]
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=p.get("AlarmName", resource_name),
                namespace=p.get("Namespace"),
                metric_name=p.get("MetricName"),
                comparison_operator=p.get("ComparisonOperator"),
                evaluation_periods=int(p.get("EvaluationPeriods", 1)),
                period=int(p.get("Period", 60)),
                threshold=float(p.get("Threshold", 0)),
                statistic=p.get("Statistic"),
                extended_statistic=p.get("ExtendedStatistic"),
                description=p.get("AlarmDescription"),
                dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
                alarm_actions=p.get("AlarmActions", []),
                ok_actions=p.get("OKActions", []),
                treat_missing_data=p.get("TreatMissingData"),
                datapoints_to_alarm=p.get("DatapointsToAlarm"),
            )
            return cls(alarm.name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[no-untyped-def,override]
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            return cls.create_from_cloudformation_json(
                original_resource.name, cloudformation_json, account_id, region_name
            )

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[no-untyped-def,override]
            cls, resource_name, cloudformation_json, account_id, region_name
        ):
            cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    _ = CloudWatchAlarmResource  # registered as a CloudFormationModel subclass


def patch_kms_key_spec_in_cloudformation() -> None:
    """CloudFormation: an asymmetric AWS::KMS::Key cannot sign without this.

    moto's CloudFormation creates every AWS::KMS::Key as SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT,
    ignoring the template's KeySpec and KeyUsage, so Sign on the audit seal key (ECC_NIST_P256,
    SIGN_VERIFY) fails with InvalidKeyUsageException. Create the key with the template's values,
    as CloudFormation does on AWS. (The CreateKey API already honours them.)
    """
    from moto.kms.models import Key, kms_backends

    if getattr(Key, "_sundown_key_spec_patch", False):
        return

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        key = kms_backends[account_id][region_name].create_key(
            policy=properties["KeyPolicy"],
            key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=properties.get("Description"),
            tags=properties.get("Tags", []),
        )
        key.key_rotation_status = properties.get("EnableKeyRotation", False)
        key.enabled = properties.get("Enabled", True)
        return key

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Key._sundown_key_spec_patch = True


PATCHES = [
    patch_event_bus_physical_id,
    patch_network_interface_dns_name,
    patch_event_account_field,
    patch_ecs_tasks_keep_running,
    patch_schedule_rules_match_no_events,
    patch_cloudwatch_alarm_resource,
    patch_kms_key_spec_in_cloudformation,
]


def main(argv: list[str]) -> None:
    # This folder's modules (moto_process, moto_speedups, moto_profile, moto_fork) are imported by name.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import moto_process

    for patch in PATCHES:
        patch()
    # How the server process runs: one request at a time, full garbage collections between
    # requests, and never past its parent.
    lock = moto_process.serialize_requests()

    def start_threads() -> None:  # again in each copy: a fork keeps only the forking thread
        moto_process.exit_with_parent()
        moto_process.collect_when_idle(lock)

    start_threads()
    if "--forkable" in argv:  # copies of this emulator on request: see moto_fork.py
        argv = [a for a in argv if a != "--forkable"]
        import moto_fork

        moto_fork.install(lock, start_threads)
    # Pure speed-ups (no API result changes): see moto_speedups.py.
    import moto_speedups

    moto_speedups.apply()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
