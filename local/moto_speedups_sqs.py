"""SQS speed-ups 4, 10, 11 and 12 of local/moto_speedups.py (its docstring says what they do and why)."""

import functools

from moto_speedups_patch import replaces
from moto_speedups_stats import STATS


@replaces("moto.sqs.models:SQSBackend", "is_message_valid_based_on_retention_period")
def _cheap_sqs_attribute_reads(_original):  # type: ignore[no-untyped-def]
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.exceptions import InvalidAttributeName
    from moto.sqs.models import Queue, SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name, message):  # type: ignore[no-untyped-def]
        # moto: get_queue_attributes(queue_name, ["MessageRetentionPeriod"])["MessageRetentionPeriod"]
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

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
    SQSBackend.get_queue_attributes = get_queue_attributes
    return is_message_valid_based_on_retention_period


@replaces("moto.sqs.models", "generate_receipt_handle")
def _cheap_receipt_handles(_original):  # type: ignore[no-untyped-def]
    import string

    from moto.moto_api._internal import mock_random as random

    def generate_receipt_handle() -> str:
        # moto: "".join(random.choice(string.ascii_lowercase) for x in range(185)), ~0.25 ms.
        return "".join(random.choices(string.ascii_lowercase, k=185))

    return generate_receipt_handle


@replaces("moto.sqs.models:SQSBackend", "delete_message_batch")
def _one_walk_per_delete_batch(_original):  # type: ignore[no-untyped-def]
    def delete_message_batch(self, queue_name, receipts):  # type: ignore[no-untyped-def]
        # moto's, which calls delete_message per entry: two walks of the whole queue each. Here the
        # messages that had each handle are found in one walk, and the survivors kept in another.
        queue = self.get_queue(queue_name)
        STATS["delete_batches"] += 1
        wanted = {entry["ReceiptHandle"] for entry in receipts}
        holders: dict = {}
        for message in queue._messages:
            for handle in message.all_receipt_handles:
                if handle in wanted:
                    holders.setdefault(handle, []).append(message)
        success = []
        errors = []
        removed: set = set()
        for entry in receipts:
            handle = entry["ReceiptHandle"]
            if handle in queue.deleted_messages:
                success.append(entry["Id"])  # already deleted: moto accepts it again
                continue
            messages = [m for m in holders.get(handle, []) if id(m) not in removed]
            if not messages:
                errors.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": "ReceiptHandleIsInvalid",
                        "Message": f'The input receipt handle "{handle}" is not a valid receipt handle.',
                    }
                )
                continue
            for message in messages:
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)
                removed.add(id(message))
            success.append(entry["Id"])
        if removed:
            queue._messages = [m for m in queue._messages if id(m) not in removed]
        return success, errors

    return delete_message_batch


@replaces("moto.sqs.models", "camelcase_to_underscores")
def _memoize_attribute_names(camelcase_to_underscores):  # type: ignore[no-untyped-def]
    # Pure: the same attribute names, converted once each instead of ~20 times per message sent.
    return functools.lru_cache(maxsize=512)(camelcase_to_underscores)


def apply() -> None:
    _memoize_attribute_names()
    _cheap_sqs_attribute_reads()
    _cheap_receipt_handles()
    _one_walk_per_delete_batch()
