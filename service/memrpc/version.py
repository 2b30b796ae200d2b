"""The version of the running memrpc: that of its installed package, which
the repository's VERSION file sets (`tools/set-version`)."""

from __future__ import annotations

import importlib.metadata

VERSION = importlib.metadata.version("memrpc")
