"""Adapters of memrpc to agent frameworks (optional extras: `langgraph`, `langchain`)."""
