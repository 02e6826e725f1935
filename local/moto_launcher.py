"""Start moto's server with the patches Sundown needs.

Every workaround for a moto bug that Sundown hits lives in this one file, so it
is easy to see what the emulator does differently and to drop a patch once moto
fixes the bug upstream. Each patch says what breaks without it.

Usage: python3 moto_launcher.py -H 127.0.0.1 -p PORT   (same flags as moto_server)
"""

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


def serialize_requests() -> None:
    """Make every request atomic, as each AWS API call is.

    moto's threaded server has no locking: two concurrent conditional writes
    to one DynamoDB item (or two TransactWriteItems on one chain head) can both
    pass their condition, which AWS never allows. Sundown's idempotency and
    its audit chain rely on those conditions, so requests run one at a time.
    (Nothing Sundown does long-polls, so no request holds the lock for long.)
    """
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.RLock()
    original = DomainDispatcherApplication.__call__

    def locked(self, environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            return list(original(self, environ, start_response))

    DomainDispatcherApplication.__call__ = locked


def exit_with_parent() -> None:
    """Never outlive the Node process that started us (no orphan servers).

    Node kills the server on exit and on SIGINT/SIGTERM, but a `kill -9` of Node
    or a crashed test worker cannot run handlers. SUNDOWN_PARENT_PID names the
    parent; a daemon thread exits this process once that PID is gone.
    """
    import os
    import threading
    import time

    parent = int(os.environ.get("SUNDOWN_PARENT_PID", "0") or 0)
    if parent <= 0:
        return

    def watch() -> None:
        while True:
            try:
                os.kill(parent, 0)
            except OSError:
                os._exit(0)
            time.sleep(1)

    threading.Thread(target=watch, daemon=True).start()


PATCHES = [
    patch_event_bus_physical_id,
    patch_network_interface_dns_name,
    serialize_requests,
    exit_with_parent,
]


def main(argv: list[str]) -> None:
    for patch in PATCHES:
        patch()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
