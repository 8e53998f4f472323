"""Block: candidate pairs from blocking rules (keys per rule, joins, the oversized-block guard)."""
