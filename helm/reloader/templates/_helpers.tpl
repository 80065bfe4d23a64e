{{- define "reloader.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount the pods run as: reloader.serviceAccount.name, else the full name. */}}
{{- define "reloader.serviceAccountName" -}}
{{- (.Values.reloader.serviceAccount).name | default (include "reloader.fullname" .) -}}
{{- end -}}

{{/* Replicas: reloader.deployment.replicas (stakater's place) unless our older top-level
replicas is given; at most 1 when reloader.enableHA is false, as in stakater's chart. */}}
{{- define "reloader.replicas" -}}
{{- $n := 0 -}}
{{- if hasKey .Values "replicas" -}}
{{- $n = .Values.replicas | int -}}
{{- else -}}
{{- $n = ((.Values.reloader.deployment).replicas) | default 0 | int -}}
{{- end -}}
{{- if and (hasKey .Values.reloader "enableHA") (not .Values.reloader.enableHA) -}}
{{- $n = min $n 1 -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* A list given as a YAML list or, as stakater's chart also takes, a comma-separated
string; as JSON, for fromJsonArray. */}}
{{- define "reloader.list" -}}
{{- if kindIs "string" . -}}
{{- splitList "," . | compact | toJson -}}
{{- else -}}
{{- . | default list | toJson -}}
{{- end -}}
{{- end -}}


{{- define "reloader.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "reloader.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "reloader.tlsSecret" -}}
{{- if .Values.certManager.enabled -}}
{{ include "reloader.fullname" . }}-tls
{{- else -}}
{{ required "tls.secretName is required when certManager.enabled is false" .Values.tls.secretName }}
{{- end -}}
{{- end -}}

{{/* Webhook clientConfig: the Service (or webhook.url, for a reloader running outside the
cluster), with the CA injected by cert-manager or given. */}}
{{- define "reloader.clientConfig" -}}
clientConfig:
  {{- with .root.Values.webhook.url }}
  {{- if not (hasPrefix "https://" .) }}
  {{- fail (printf "webhook.url must start with https:// (the API server only calls webhooks over TLS), got %q" .) }}
  {{- end }}
  url: {{ printf "%s%s" (trimSuffix "/" .) $.path | quote }}
  {{- else }}
  service:
    name: {{ include "reloader.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- end }}
  {{- if not .root.Values.certManager.enabled }}
  caBundle: {{ required "tls.caBundle is required when certManager.enabled is false" .root.Values.tls.caBundle }}
  {{- end }}
{{- end -}}

{{- define "reloader.cainjector" -}}
{{- if .Values.certManager.enabled }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "reloader.fullname" . }}-tls
{{- end }}
{{- end -}}

{{/* Namespaced mode (reloader.watchGlobally: false): the namespaces reloader acts in,
reloader.namespaces or else the release namespace, without reloader.ignoreNamespaces; one
per line. Empty in the cluster-wide mode. The Deployment passes the same list as
--namespaces (less the ignored ones, which the engine drops itself). */}}
{{- define "reloader.scopedNamespaces" -}}
{{- $r := .Values.reloader -}}
{{- if not $r.watchGlobally -}}
{{- if $r.namespaceSelector -}}
{{- fail "reloader.namespaceSelector needs to list and watch namespaces cluster-wide, which reloader.watchGlobally: false does not grant; list the namespaces in reloader.namespaces instead" -}}
{{- end -}}
{{- $namespaces := include "reloader.list" $r.namespaces | fromJsonArray | default (list .Release.Namespace) -}}
{{- $ignored := include "reloader.list" $r.ignoreNamespaces | fromJsonArray -}}
{{- range $ns := $namespaces | uniq }}
{{- if not (has $ns $ignored) }}
{{ $ns }}
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* What reloader does in a namespace it acts in (cluster-wide: the ClusterRole; namespaced
mode: a Role in each namespace). Each rule is called by src/reload/ (see
tests/control_plane/rbac.rs for the calls). */}}
{{- define "reloader.actRules" -}}
- apiGroups: [""]
  resources: [secrets, configmaps]
  verbs: [get]
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, patch]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list, watch, patch]
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [get, list, watch, patch]
- apiGroups: [apps.openshift.io]
  resources: [deploymentconfigs]
  verbs: [get, list, watch, patch]
- apiGroups: [reloader.stakater.com]
  resources: [reloaderconfigs]
  verbs: [get, list, watch]
- apiGroups: [reloader.stakater.com]
  resources: [reloaderconfigs/status]
  verbs: [get, patch, update]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.reloader.reloadJobs }}
# --reload-jobs: Jobs are watched, deleted and created again with their reload (and a
# reloaded CronJob's run-now Job is created).
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
{{- else if ne (toString .Values.reloader.runCronJobsOnReload) "false" }}
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create]
{{- end }}
{{- if .Values.reloader.enableCSIIntegration }}
# --enable-csi-integration: the CSI driver's statuses (object versions, never secret
# values) are watched, and their classes read for labels and annotations.
- apiGroups: [secrets-store.csi.x-k8s.io]
  resources: [secretproviderclasspodstatuses]
  verbs: [list, watch]
- apiGroups: [secrets-store.csi.x-k8s.io]
  resources: [secretproviderclasses]
  verbs: [get]
{{- end }}
{{- end -}}

{{/* Namespaced mode: a webhook namespaceSelector expression matching only the namespaces
reloader acts in (given as a list), so no other namespace's Secrets reach it; nothing in
the cluster-wide mode (an empty list). */}}
{{- define "reloader.scopedSelector" -}}
{{- with . -}}
- key: kubernetes.io/metadata.name
  operator: In
  values:
    {{- toYaml . | nindent 4 }}
{{- end -}}
{{- end -}}

{{/* The scrape settings a ServiceMonitor endpoint and a PodMonitor endpoint share. */}}
{{- define "reloader.monitorEndpoint" -}}
{{- with .interval }}
interval: {{ . }}
{{- end }}
{{- with .timeout }}
scrapeTimeout: {{ . }}
{{- end }}
{{- with .scheme }}
scheme: {{ . }}
{{- end }}
{{- with .tlsConfig }}
tlsConfig:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .bearerTokenFile }}
bearerTokenFile: {{ . }}
{{- end }}
{{- with .bearerTokenSecret }}
bearerTokenSecret:
  {{- toYaml . | nindent 2 }}
{{- end }}
honorLabels: {{ .honorLabels | default false }}
{{- with .metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .relabelings }}
relabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
