"""Adapters of memrpc to agent frameworks, each behind an optional extra."""
