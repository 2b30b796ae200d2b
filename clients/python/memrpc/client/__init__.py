"""Python client for memrpc."""
