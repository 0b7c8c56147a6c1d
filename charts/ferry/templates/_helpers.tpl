{{/* Chart name, cut to 63 characters. */}}
{{- define "ferry.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Base name of every object: the release name if it contains the chart name, else release-chart. */}}
{{- define "ferry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The webhook's Deployment, Service and ServiceAccount name. */}}
{{- define "ferry.webhookName" -}}
{{- printf "%s-webhook" (include "ferry.fullname" .) -}}
{{- end -}}

{{/* Secret holding the serving certificate. */}}
{{- define "ferry.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secret.name is required when tls.mode is secret" .Values.tls.secret.name -}}
{{- else -}}
{{- printf "%s-tls" (include "ferry.webhookName" .) -}}
{{- end -}}
{{- end -}}

{{- define "ferry.labels" -}}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "ferry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Namespaces the webhooks never see: the configured ones plus the release namespace. */}}
{{- define "ferry.excludedNamespaces" -}}
{{- $ns := .Values.webhook.excludedNamespaces | default list -}}
{{- if not (has "kube-system" $ns) -}}{{- $ns = append $ns "kube-system" -}}{{- end -}}
{{- if not (has .Release.Namespace $ns) -}}{{- $ns = append $ns .Release.Namespace -}}{{- end -}}
{{- toJson $ns -}}
{{- end -}}

{{/* Shared by both webhook configurations: only labelled, non-excluded namespaces. */}}
{{- define "ferry.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: ferry.io/inject
      operator: In
      values: ["enabled"]
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "ferry.excludedNamespaces" . }}
{{- end -}}

{{/* caBundle (secret mode) and the cert-manager annotation (cert-manager mode). */}}
{{- define "ferry.caAnnotations" -}}
{{- if eq .Values.tls.mode "cert-manager" -}}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "ferry.webhookName" .) }}
{{- end -}}
{{- end -}}

{{- define "ferry.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "ferry.webhookName" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- if eq .root.Values.tls.mode "secret" }}
  caBundle: {{ required "tls.secret.caBundle is required when tls.mode is secret" .root.Values.tls.secret.caBundle }}
  {{- end }}
{{- end -}}

{{/* matchConditions need admissionregistration v1 matchConditions (beta 1.28, GA 1.30). */}}
{{- define "ferry.matchConditionsSupported" -}}
{{- if and .Values.webhook.matchConditions (semverCompare ">=1.28.0-0" .Capabilities.KubeVersion.Version) -}}
true
{{- end -}}
{{- end -}}
