{{/* Names: "<release>-mecqkd", or the release name when it already says mecqkd. */}}
{{- define "mecqkd.fullname" -}}
{{- if contains "mecqkd" .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-mecqkd" .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* Namespace of the LCMP's client registrations, JWKS Secret and signing key. */}}
{{- define "mecqkd.lcmpCredentialsNamespace" -}}
{{- .Values.lcmp.credentialsNamespace.name | default (printf "%s-lcmp-credentials" .Release.Namespace) -}}
{{- end -}}

{{- define "mecqkd.labels" -}}
app.kubernetes.io/name: mecqkd
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "operator") */}}
{{- define "mecqkd.selector" -}}
app.kubernetes.io/name: mecqkd
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mecqkd.componentLabels" -}}
{{ include "mecqkd.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* image reference: (dict "root" $ "name" .Values.images.operator) */}}
{{- define "mecqkd.image" -}}
{{- $i := .root.Values.images -}}
{{- if $i.registry }}{{ printf "%s/%s:%s" $i.registry .name $i.tag }}{{ else }}{{ printf "%s:%s" .name $i.tag }}{{ end -}}
{{- end -}}

{{/* Every pod: not root, the runtime's default seccomp profile. */}}
{{- define "mecqkd.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Every container: read-only root filesystem, no capabilities, no privilege escalation. */}}
{{- define "mecqkd.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end -}}

{{/* flags from a map: --key value (values may hold '=', e.g. label selectors) */}}
{{- define "mecqkd.flags" -}}
{{- range $k, $v := . }}
- {{ printf "--%s" $k | quote }}
- {{ $v | toString | quote }}
{{- end -}}
{{- end -}}

{{- define "mecqkd.redisUrl" -}}
{{- if .Values.redis.enabled -}}redis://{{ include "mecqkd.fullname" . }}-redis:6379{{- else -}}{{ required "redis.externalUrl is required when redis.enabled is false" .Values.redis.externalUrl }}{{- end -}}
{{- end -}}

{{/* lab names: KME and SAE IDs of a host, Service names */}}
{{- define "mecqkd.lab.kmeId" -}}KME_{{ . | upper | replace "-" "_" }}{{- end -}}
{{- define "mecqkd.lab.saeId" -}}SAE_{{ . | upper | replace "-" "_" }}{{- end -}}
{{- define "mecqkd.lab.kmeService" -}}{{ include "mecqkd.fullname" .root }}-{{ .id | lower | replace "_" "-" }}{{- end -}}
