"""Running summaries of threads: the turns that left a session's window,
folded into its summary (see `SessionSummary` in working_memory.proto)."""
