"""Cluster: which partner records are the same person (deduplication), with stable keys."""
