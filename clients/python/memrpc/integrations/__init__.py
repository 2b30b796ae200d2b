"""Adapters of memrpc to agent frameworks, each behind an optional extra
(`pip install 'clients/python[langchain,langgraph]'`; docs/integrations.md):
importing one without its extra installed fails with the framework's
ImportError."""
