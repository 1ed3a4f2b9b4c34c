{{/* Names, labels and the image, shared by every template. */}}

{{/* "<release>-<component>", at most 63 characters (a DNS label). */}}
{{- define "ambit.name" -}}
{{ printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ambit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ambit
{{- end }}

{{/* Selector labels of one component: stable across upgrades (a selector is immutable). */}}
{{- define "ambit.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ambit.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) | quote }}
{{- end }}

{{/* The control plane's gRPC address (ConfigService + CertificateService), as agents dial it. */}}
{{- define "ambit.controlPlaneAddress" -}}
{{ printf "%s.%s.svc:15012" (include "ambit.name" (dict "root" . "component" "control-plane")) .Release.Namespace }}
{{- end }}

{{/* A projected ServiceAccount token for the CA (TokenReview checks it), rotated by the kubelet. */}}
{{- define "ambit.nodeTokenVolume" -}}
- name: node-token
  projected:
    sources:
      - serviceAccountToken:
          path: node-token
          audience: {{ .Values.mesh.tokenAudience | quote }}
          expirationSeconds: 3600
{{- end }}
