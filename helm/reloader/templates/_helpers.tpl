{{- define "reloader.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
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
