{{/*
The metric names the alert rules and the dashboard use, in one place: the
server exports them on --metrics-listen (/metrics), as defined in
service/memrpc/metrics.py (counters with prometheus_client's `_total`).
Adjust here if they change.
*/}}
{{- define "memrpc.metric.requests" -}}memrpc_rpc_calls_total{{- end }}
{{- define "memrpc.metric.duration" -}}memrpc_rpc_duration_seconds{{- end }}
{{- define "memrpc.metric.redisErrors" -}}memrpc_redis_command_errors_total{{- end }}
{{- define "memrpc.metric.embedShed" -}}memrpc_embed_shed_texts_total{{- end }}
{{- define "memrpc.metric.tailsOpen" -}}memrpc_tails_open{{- end }}
{{- define "memrpc.metric.jobLag" -}}memrpc_job_lag_events{{- end }}
{{- define "memrpc.metric.jobDeadLetters" -}}memrpc_job_dead_letters_total{{- end }}
{{/* The gRPC codes (label `code`) counted as server errors, client mistakes excluded. */}}
{{- define "memrpc.metric.errorCodes" -}}UNKNOWN|INTERNAL|UNAVAILABLE|DATA_LOSS|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED{{- end }}
{{/* The calls that wait by design (a tail's lifetime, a long poll), kept out of latency; a regex on the method label. */}}
{{- define "memrpc.metric.waiting" -}}.*(TailEvents|ReceiveEvents){{- end }}
