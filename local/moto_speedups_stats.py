"""How often some speed-ups answered (read by test/emulator/moto_speedups_equivalence.py)."""

STATS = {"conditions_reused": 0, "direct_updates": 0, "partition_queries": 0, "delete_batches": 0, "rules_skipped": 0}
