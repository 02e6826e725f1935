"""SQS speed-up 4 of local/moto_speedups.py (its docstring says what it does and why)."""


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
    _cheap_sqs_attribute_reads()
