{{/*
Names and labels shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "tcp-tuning-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of resource names: fullnameOverride, else the release name when it already contains
the chart name (the usual `helm install tcp-tuning-operator ...`), else release-chart.
*/}}
{{- define "tcp-tuning-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "tcp-tuning-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "tcp-tuning-operator.labels" -}}
helm.sh/chart: {{ include "tcp-tuning-operator.chart" . }}
app.kubernetes.io/part-of: tcp-tuning-operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Values.managedBy | default .Release.Service }}
{{- end }}

{{/* Selector labels of the operator pods (stable across upgrades: do not add to them). */}}
{{- define "tcp-tuning-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tcp-tuning-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the operator's own objects: common labels plus selector labels. */}}
{{- define "tcp-tuning-operator.operatorLabels" -}}
{{ include "tcp-tuning-operator.labels" . }}
{{ include "tcp-tuning-operator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Labels of the objects that belong to the agents. The agent pods themselves are created by the
operator and carry app.kubernetes.io/name: tcp-tuning-agent (the contract the agent Service
selects on).
*/}}
{{- define "tcp-tuning-operator.agentLabels" -}}
{{ include "tcp-tuning-operator.labels" . }}
app.kubernetes.io/name: tcp-tuning-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "tcp-tuning-operator.serviceAccountName" -}}
{{- default (include "tcp-tuning-operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- end }}

{{/* The agents' ServiceAccount name. */}}
{{- define "tcp-tuning-operator.agentServiceAccountName" -}}
{{- .Values.agent.serviceAccount.name }}
{{- end }}

{{/* The image reference, shared by the operator and (through TCPTUNE_AGENT_IMAGE) the agents. */}}
{{- define "tcp-tuning-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Whether to render the admission policy: enabled, and the cluster is Kubernetes >= 1.30, where
ValidatingAdmissionPolicy v1 is served and service-account tokens carry the node-name claim.
The version, not APIVersions, decides: `helm template` knows only group/versions, not kinds.
*/}}
{{- define "tcp-tuning-operator.admissionPolicyEnabled" -}}
{{- if and .Values.admissionPolicy.enabled (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version) -}}
true
{{- end }}
{{- end }}
