"""What the server tells its operators besides its answers: trace spans
(`tracing`, exported by `export`) and JSON log lines (`json_log`)."""
