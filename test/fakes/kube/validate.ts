// Validation of every object the stand-in receives: first against the Kubernetes OpenAPI
// schemas (kubernetes-models' validators), then the API server's own rules that a schema
// cannot say: name formats, label syntax, a Deployment's selector matching its template and
// never changing, Secret data being base64, a Pod's spec being (mostly) immutable.
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import type { ResourceType } from './resources.js';
import { selectorMatches } from './selector.js';
import { invalid, type StatusCause } from './status.js';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  namespaces: Namespace,
  services: Service,
  secrets: Secret,
  configmaps: ConfigMap,
  pods: Pod,
  deployments: Deployment,
  endpointslices: EndpointSlice,
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** "/spec/template/spec/containers/0/image" -> "spec.template.spec.containers[0].image". */
function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function schemaCauses(type: ResourceType, obj: any): StatusCause[] {
  try {
    new MODELS[type.plural](obj).validate();
    return [];
  } catch (err: any) {
    const errors: any[] = err?.errors ?? [];
    if (errors.length === 0) return [{ reason: 'FieldValueInvalid', message: String(err?.message ?? err) }];
    return errors.map((e) => {
      if (e.keyword === 'required') {
        const base = fieldOf(e.instancePath);
        return { reason: 'FieldValueRequired', message: 'Required value', field: base ? `${base}.${e.params.missingProperty}` : e.params.missingProperty };
      }
      if (e.keyword === 'enum') {
        return { reason: 'FieldValueNotSupported', message: `Unsupported value: must be one of ${JSON.stringify(e.params.allowedValues)}`, field: fieldOf(e.instancePath) };
      }
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${e.message}`, field: fieldOf(e.instancePath) };
    });
  }
}

function nameCauses(type: ResourceType, name: unknown): StatusCause[] {
  if (typeof name !== 'string' || name === '') return [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }];
  const [pattern, max, what] =
    type.plural === 'namespaces'
      ? [DNS1123_LABEL, 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"]
      : type.plural === 'services'
        ? [DNS1035_LABEL, 63, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"]
        : [DNS1123_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"];
  const causes: StatusCause[] = [];
  if (!pattern.test(name)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${what}`, field: 'metadata.name' });
  if (name.length > max) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": must be no more than ${max} characters`, field: 'metadata.name' });
  return causes;
}

function labelCauses(labels: unknown, field: string): StatusCause[] {
  if (!labels || typeof labels !== 'object') return [];
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((slash >= 0 && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !LABEL_NAME.test(name) || name.length > 63) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field });
    }
    if (typeof value === 'string' && (!LABEL_VALUE.test(value) || value.length > 63)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`, field: `${field}` });
    }
  }
  return causes;
}

function deploymentCauses(obj: any, old: any | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const selector = obj.spec?.selector;
  const templateLabels = obj.spec?.template?.metadata?.labels ?? {};
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  if (empty) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: {}: empty selector is invalid for deployment', field: 'spec.selector' });
  else if (!selectorMatches(selector, templateLabels)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(templateLabels)}: \`selector\` does not match template \`labels\``, field: 'spec.template.metadata.labels' });
  }
  if (obj.spec?.replicas !== undefined && obj.spec.replicas < 0) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${obj.spec.replicas}: must be greater than or equal to 0`, field: 'spec.replicas' });
  }
  causes.push(...labelCauses(templateLabels, 'spec.template.metadata.labels'));
  causes.push(...containerCauses(obj.spec?.template?.spec, 'spec.template.spec'));
  if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(selector)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(selector)}: field is immutable`, field: 'spec.selector' });
  }
  return causes;
}

function containerCauses(podSpec: any, base: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  (podSpec?.containers ?? []).forEach((c: any, i: number) => {
    if (typeof c?.name === 'string' && !DNS1123_LABEL.test(c.name)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`, field: `${base}.containers[${i}].name` });
    }
    if (seen.has(c?.name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"`, field: `${base}.containers[${i}].name` });
    seen.add(c?.name);
    if (typeof c?.image !== 'string' || c.image.trim() === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${base}.containers[${i}].image` });
    (c?.ports ?? []).forEach((p: any, j: number) => {
      if (typeof p?.containerPort === 'number' && (p.containerPort < 1 || p.containerPort > 65535)) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${p.containerPort}: must be between 1 and 65535, inclusive`, field: `${base}.containers[${i}].ports[${j}].containerPort` });
      }
    });
  });
  return causes;
}

function secretCauses(obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(obj.data ?? {})) {
    if (!SECRET_KEY.test(key)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`, field: 'data' });
    if (typeof value === 'string' && !BASE64.test(value)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: illegal base64 data`, field: `data[${key}]` });
  }
  return causes;
}

function podUpdateCauses(obj: any, old: any): StatusCause[] {
  // A pod's spec is immutable but for container images (and a few fields gitfaas never sets).
  const strip = (spec: any) => ({ ...spec, containers: (spec?.containers ?? []).map((c: any) => ({ ...c, image: undefined })) });
  if (JSON.stringify(strip(obj.spec)) === JSON.stringify(strip(old.spec))) return [];
  return [{ reason: 'FieldValueForbidden', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`', field: 'spec' }];
}

/** Throws 422 Invalid listing every cause; `old` is the stored object on an update. */
export function validateObject(type: ResourceType, obj: any, old?: any): void {
  const name = obj?.metadata?.name;
  const causes = [
    ...schemaCauses(type, obj),
    ...nameCauses(type, name),
    ...labelCauses(obj?.metadata?.labels, 'metadata.labels'),
  ];
  if (type.plural === 'deployments') causes.push(...deploymentCauses(obj, old));
  if (type.plural === 'pods') {
    causes.push(...containerCauses(obj.spec, 'spec'));
    if (old) causes.push(...podUpdateCauses(obj, old));
  }
  if (type.plural === 'secrets') {
    causes.push(...secretCauses(obj));
    if (old && (old.type ?? 'Opaque') !== (obj.type ?? 'Opaque')) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${obj.type}": field is immutable`, field: 'type' });
  }
  if (type.plural === 'services' && old && old.spec?.clusterIP && obj.spec?.clusterIP && obj.spec.clusterIP !== old.spec.clusterIP) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${obj.spec.clusterIP}": field is immutable`, field: 'spec.clusterIP' });
  }
  if (causes.length > 0) throw invalid(type, typeof name === 'string' ? name : '', causes);
}
