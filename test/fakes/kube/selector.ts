// Label and field selectors as the API server parses them from ?labelSelector= and
// ?fieldSelector=: "a=b,c!=d,e in (f,g),h notin (i),j,!k". A malformed one is a 400.
import { badRequest } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

export type Matcher = (obj: any) => boolean;

/** Splits on commas that are not inside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

function requirement(term: string): Requirement {
  let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (m) {
    const [, key, op, list] = m;
    const values = list.split(',').map((v) => v.trim());
    return op === 'in' ? (l) => key in l && values.includes(l[key]) : (l) => !(key in l) || !values.includes(l[key]);
  }
  m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(!?)([\w./-]+)$/.exec(term);
  if (m) {
    const [, not, key] = m;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw badRequest(`unable to parse requirement: ${term}`);
}

/** Parses ?labelSelector=; an empty or absent selector matches everything. */
export function labelSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const reqs = terms(text).map(requirement);
  return (obj) => {
    const labels = obj?.metadata?.labels ?? {};
    return reqs.every((r) => r(labels));
  };
}

/** Parses ?fieldSelector=; supports metadata.name, metadata.namespace and status.phase, as the common cases. */
export function fieldSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const fields: Record<string, (o: any) => string | undefined> = {
    'metadata.name': (o) => o.metadata?.name,
    'metadata.namespace': (o) => o.metadata?.namespace,
    'status.phase': (o) => o.status?.phase,
  };
  const reqs = terms(text).map((term) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, op, value] = m;
    const get = fields[field];
    if (!get) throw badRequest(`field label not supported: ${field}`);
    return op === '!=' ? (o: any) => get(o) !== value : (o: any) => get(o) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}

/** A Deployment's or Service's selector (matchLabels + matchExpressions, or a plain map) as a labels predicate. */
export function selectorMatches(selector: any, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const matchLabels: Record<string, string> = selector.matchLabels ?? (selector.matchExpressions ? {} : selector);
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const values: string[] = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** The selector as a labelSelector string (what the scale subresource reports in status.selector). */
export function selectorString(selector: any): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${e.values.join(',')})`);
    if (e.operator === 'NotIn') parts.push(`${e.key} notin (${e.values.join(',')})`);
    if (e.operator === 'Exists') parts.push(e.key);
    if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
