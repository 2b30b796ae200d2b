{{/* Names and labels. */}}
{{- define "memrpc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "memrpc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "memrpc.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "memrpc.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "memrpc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "memrpc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "memrpc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "memrpc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "memrpc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "memrpc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether the server starts its own Redis in /data. */}}
{{- define "memrpc.embeddedRedis" -}}
{{- if not .Values.redis.url }}true{{ end }}
{{- end }}

{{/*
The kubelet's bound on a graceful stop: the server's drain and grace, plus
slack (with workers > 1 the supervisor itself waits drain + grace + 5 s).
*/}}
{{- define "memrpc.terminationGracePeriodSeconds" -}}
{{- $s := .Values.server }}
{{- add (ceil $s.drainDelay) (ceil $s.shutdownGrace) (int $s.terminationSlack) }}
{{- end }}

{{/*
What a probe checks (a dict: `service`, the health service; `tls`, whether the
server serves TLS): the kubelet's gRPC probe on that health service, or,
under TLS, the gRPC port's TCP handshake only: the kubelet's gRPC probes speak
plaintext.
*/}}
{{- define "memrpc.probeAction" -}}
{{- if .tls }}
tcpSocket:
  port: grpc
{{- else }}
grpc:
  port: 50051
  service: {{ .service | quote }}
{{- end }}
{{- end }}

{{/*
The rules between values, each failing rendering with what to change
(values.schema.json checks each value's type and range). The server checks
its own settings again at start (config.py); these are the ones that concern
the deployment.
*/}}
{{- define "memrpc.validate" -}}
{{- $v := .Values }}
{{- if and (gt (int $v.replicaCount) 1) (not $v.redis.url) }}
{{- fail (printf "replicaCount %d needs an external Redis: set redis.url to a Redis 8 or Redis Stack (the embedded Redis lives in one pod's /data, so replicas would not share data)" (int $v.replicaCount)) }}
{{- end }}
{{- if and $v.redis.passwordSecret.name (not $v.redis.url) }}
{{- fail "redis.passwordSecret needs redis.url: the embedded Redis has no password" }}
{{- end }}
{{- $credentials := or $v.auth.keysSecret.name $v.auth.jwksSecret.name }}
{{- if and $credentials $v.auth.allowUnauthenticated }}
{{- fail "auth.allowUnauthenticated contradicts auth.keysSecret/auth.jwksSecret: drop one" }}
{{- end }}
{{- if not (or $credentials $v.auth.allowUnauthenticated) }}
{{- fail "memrpc refuses to serve beyond loopback without credentials: set auth.keysSecret.name (a Secret with a keys file from `memrpc keys new`) or auth.jwksSecret.name, or auth.allowUnauthenticated=true" }}
{{- end }}
{{- if and $v.tls.clientCaSecret.name (not $v.tls.secretName) }}
{{- fail "tls.clientCaSecret needs tls.secretName: mutual TLS is TLS with client certificates" }}
{{- end }}
{{- end }}
