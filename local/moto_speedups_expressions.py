"""DynamoDB expression speed-ups 5 and 6 of local/moto_speedups.py (its docstring says what each does and why)."""

import functools
import json
import re

from moto_speedups_patch import replaces
from moto_speedups_stats import STATS

_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")
_CONDITION_CACHE: dict = {}


def _condition_key(expr, names, values):  # type: ignore[no-untyped-def]
    """What a parsed condition depends on, or None when that cannot be said cheaply."""
    if expr is not None and not isinstance(expr, str):
        return None
    try:
        referenced = sorted(set(_PLACEHOLDER.findall(expr or "")))
        return (
            expr,
            tuple(sorted((names or {}).items())),
            tuple((name, json.dumps((values or {})[name], sort_keys=True)) for name in referenced),
        )
    except (KeyError, TypeError, ValueError):  # a missing value: let moto's parser report it
        return None


@replaces("moto.dynamodb.comparisons", "create_condition_expression_parser")
def _memoize_expression_parsing(_original):  # type: ignore[no-untyped-def]
    from moto.dynamodb import comparisons, responses
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models import table as ddb_table
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original_parser = comparisons.ConditionExpressionParser

    class MemoizedConditionParser:
        """moto's ConditionExpressionParser, parsing each distinct condition once."""

        def __init__(self, expr, names, values):  # type: ignore[no-untyped-def]
            self._args = (expr, names, values)
            self.expr_attr_names_found: list = []
            self.expr_attr_values_found: list = []

        def parse(self):  # type: ignore[no-untyped-def]
            key = _condition_key(*self._args)
            hit = _CONDITION_CACHE.get(key) if key is not None else None
            if hit is None:
                parser = original_parser(*self._args)
                op = parser.parse()
                hit = (op, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found))
                # Cache only when the placeholders found are the ones the key was made of.
                if key is not None and sorted(set(parser.expr_attr_values_found)) == [n for n, _ in key[2]]:
                    if len(_CONDITION_CACHE) > 4096:
                        _CONDITION_CACHE.clear()
                    _CONDITION_CACHE[key] = hit
            else:
                STATS["conditions_reused"] += 1
            self.expr_attr_names_found = list(hit[1])
            self.expr_attr_values_found = list(hit[2])
            return hit[0]

    def create_condition_expression_parser(expr, names, values):  # type: ignore[no-untyped-def]
        return MemoizedConditionParser(expr, names, values)

    def get_filter_expression(expr, names, values):  # type: ignore[no-untyped-def]
        return MemoizedConditionParser(expr, names, values).parse()

    for module in (comparisons, responses, ddb_models):
        if hasattr(module, "create_condition_expression_parser"):
            module.create_condition_expression_parser = create_condition_expression_parser
    for module in (comparisons, ddb_models, ddb_table):
        if hasattr(module, "get_filter_expression"):
            module.get_filter_expression = get_filter_expression

    original_make = UpdateExpressionParser.make.__func__
    memoized_make = functools.lru_cache(maxsize=1024)(lambda expression: original_make(UpdateExpressionParser, expression))

    def make(cls, expression_str):  # type: ignore[no-untyped-def]
        if not isinstance(expression_str, str):
            return original_make(cls, expression_str)
        return memoized_make(expression_str)

    UpdateExpressionParser.make = classmethod(make)
    return create_condition_expression_parser


_TARGET = r"(?:#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*)"
_PAIR = _TARGET + r"\s*=\s*:[A-Za-z0-9_]+"
_SIMPLE_SET = re.compile(r"\s*SET\s+(" + _PAIR + r"(?:\s*,\s*" + _PAIR + r")*)\s*", re.IGNORECASE)
_SET_PAIR = re.compile(r"(" + _TARGET + r")\s*=\s*(:[A-Za-z0-9_]+)")


@functools.lru_cache(maxsize=1)
def _reserved_keywords():  # type: ignore[no-untyped-def]
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    return frozenset(ReservedKeywords.get_reserved_keywords())


def _simple_sets(table, update_expression, names, values):  # type: ignore[no-untyped-def]
    """[(attribute, value)] for a plain `SET #a = :a, b = :b, ...` no validator walk can reject, else None.

    A bare name that is a reserved word is left to moto, which refuses it.
    """
    if not isinstance(update_expression, str) or not values:
        return None
    match = _SIMPLE_SET.fullmatch(update_expression)
    if match is None:
        return None
    # Only the table's own key is refused. (moto's type and empty-value checks of index keys look
    # at the placeholder, `#name`, not the attribute it names, so they never refuse these.)
    protected = set(table.table_key_attrs)
    sets = []
    for target, value_name in _SET_PAIR.findall(match.group(1)):
        if target.startswith("#"):
            attribute = (names or {}).get(target)
        elif target.upper() in _reserved_keywords():
            return None
        else:
            attribute = target
        value = values.get(value_name)
        if not isinstance(attribute, str) or not isinstance(value, dict) or attribute in protected:
            return None
        sets.append((attribute, value))
    if len({attribute for attribute, _ in sets}) != len(sets):
        return None  # overlapping paths: moto's validator reports them
    return sets


@replaces("moto.dynamodb.models:DynamoDBBackend", "update_item")
def _direct_simple_updates(original):  # type: ignore[no-untyped-def]
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ItemSizeTooLarge, ItemSizeToUpdateTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType

    def update_item(  # type: ignore[no-untyped-def]
        self,
        table_name,
        key,
        update_expression,
        expression_attribute_names,
        expression_attribute_values,
        attribute_updates=None,
        expected=None,
        condition_expression=None,
        return_values_on_condition_check_failure=None,
    ):
        args = (table_name, key, update_expression, expression_attribute_names, expression_attribute_values)
        kwargs = {
            "attribute_updates": attribute_updates,
            "expected": expected,
            "condition_expression": condition_expression,
            "return_values_on_condition_check_failure": return_values_on_condition_check_failure,
        }
        table = self.tables.get(table_name)
        if table is None or attribute_updates or expected or table.stream_shard is not None:
            return original(self, *args, **kwargs)
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            return original(self, *args, **kwargs)  # moto reports the incomplete key
        sets = _simple_sets(table, update_expression, expression_attribute_names, expression_attribute_values)
        if sets is None:
            return original(self, *args, **kwargs)
        item = table.get_item(*self.get_keys_value(table, key))
        if item is None:
            return original(self, *args, **kwargs)  # moto creates and validates the new item
        condition_op = ddb_models.get_filter_expression(
            condition_expression, expression_attribute_names, expression_attribute_values
        )
        if not condition_op.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD":
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        try:
            for attribute, value in sets:
                item.attrs[attribute] = DynamoType(value)
        except ItemSizeTooLarge:
            raise ItemSizeToUpdateTooLarge()
        STATS["direct_updates"] += 1
        return item

    return update_item


def apply() -> None:
    _memoize_expression_parsing()
    _direct_simple_updates()
