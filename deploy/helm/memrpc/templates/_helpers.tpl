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

{{/*
The workers' pods (memrpc worker): a name of their own, so that the servers'
selector (name and instance; immutable, so never changed) does not match
them and neither the Service nor the servers' PodDisruptionBudget selects
them.
*/}}
{{- define "memrpc.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "memrpc.name" . }}-worker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end }}

{{/* A dict: `top`, the chart's context; `selector`, its objects' selector labels. */}}
{{- define "memrpc.labelsWith" -}}
helm.sh/chart: {{ printf "%s-%s" .top.Chart.Name .top.Chart.Version | replace "+" "_" }}
{{ .selector }}
app.kubernetes.io/version: {{ .top.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .top.Release.Service }}
{{- end }}

{{- define "memrpc.labels" -}}
{{ include "memrpc.labelsWith" (dict "top" . "selector" (include "memrpc.selectorLabels" .)) }}
{{- end }}

{{- define "memrpc.workerLabels" -}}
{{ include "memrpc.labelsWith" (dict "top" . "selector" (include "memrpc.workerSelectorLabels" .)) }}
{{- end }}

{{- define "memrpc.workerFullname" -}}
{{- printf "%s-worker" (include "memrpc.fullname" . | trunc 56 | trimSuffix "-") }}
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
Whether the servers run the background jobs (MEMRPC_JOBS): jobs.inServer
when set, else only without workers, so that enabling the workers moves the
folds to them.
*/}}
{{- define "memrpc.jobsInServer" -}}
{{- if kindIs "bool" .Values.jobs.inServer }}
{{- .Values.jobs.inServer }}
{{- else }}
{{- not .Values.worker.enabled }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by the servers' and the workers' pods. */}}
{{- define "memrpc.podSpecCommon" -}}
serviceAccountName: {{ include "memrpc.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Where pods go (the servers' and the workers'). */}}
{{- define "memrpc.placement" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The container's image and security context (the servers' and the workers'). */}}
{{- define "memrpc.containerCommon" -}}
image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end }}

{{/* The scrape annotations of a pod serving metrics. */}}
{{- define "memrpc.scrapeAnnotations" -}}
{{- if and .Values.metrics.enabled .Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* The metrics port of a container (--metrics-listen), when metrics are on. */}}
{{- define "memrpc.metricsPort" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end }}
{{- end }}

{{/* The settings of Redis and metrics, the same for servers and workers. */}}
{{- define "memrpc.sharedEnv" -}}
{{- if .Values.metrics.enabled }}
- name: MEMRPC_METRICS_LISTEN
  value: "0.0.0.0:{{ .Values.metrics.port }}"
{{- end }}
{{- with .Values.redis.url }}
- name: MEMRPC_REDIS_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.redis.passwordSecret.name }}
- name: MEMRPC_REDIS_PASSWORD_FILE
  value: /etc/memrpc/redis/{{ $.Values.redis.passwordSecret.key }}
{{- end }}
{{- end }}

{{/* The Redis password Secret's mount and volume, when there is one. */}}
{{- define "memrpc.redisPasswordMount" -}}
{{- if .Values.redis.passwordSecret.name }}
- name: redis-password
  mountPath: /etc/memrpc/redis
  readOnly: true
{{- end }}
{{- end }}

{{- define "memrpc.redisPasswordVolume" -}}
{{- with .Values.redis.passwordSecret.name }}
- name: redis-password
  secret:
    secretName: {{ . }}
{{- end }}
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
{{- if and $v.worker.enabled (not $v.redis.url) }}
{{- fail "worker.enabled needs redis.url: workers share the servers' Redis, and the embedded one is private to the server's pod" }}
{{- end }}
{{- if and $v.tls.clientCaSecret.name (not $v.tls.secretName) }}
{{- fail "tls.clientCaSecret needs tls.secretName: mutual TLS is TLS with client certificates" }}
{{- end }}
{{- end }}
