// One function: what runs, scale, env vars, labels and annotations (secret names only),
// the invoke form, live logs, call figures with a chart, and the deploy history.
import { callPanel, type CallFigures, type CallPoint } from './call-chart.js';
import { deployHistory } from './deploy-history.js';
import { ago, api, errorBox, h, replace, shortSha } from './dom.js';
import { subdomainUrl } from './functions-page.js';
import { invokeForm } from './invoke-form.js';
import { logsPanel } from './logs-panel.js';
import type { FunctionDetail } from '../function-views.js';

const table = (id: string, map: Record<string, string>) =>
  Object.keys(map).length === 0
    ? h('p', { class: 'muted' }, 'none')
    : h('table', { id, class: 'kv' }, h('tbody', {}, Object.entries(map).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => h('tr', {}, h('th', { class: 'mono' }, k), h('td', { class: 'mono' }, v)))));

export async function functionPage(root: HTMLElement, namespace: string, name: string): Promise<() => void> {
  const path = `functions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  let fn: FunctionDetail;
  try {
    fn = await api<FunctionDetail>(path);
  } catch (err) {
    replace(root, h('h1', {}, `${name}.${namespace}`), errorBox(err));
    return () => undefined;
  }
  const { domain } = await api<{ domain: string }>('namespaces');
  const url = subdomainUrl(domain, fn.namespace, fn.name);
  const replicas = h('input', { id: 'scale-replicas', type: 'number', min: 0, value: String(fn.replicas), class: 'narrow', 'aria-label': 'replicas' });
  const scaleNote = h('span', { id: 'scale-note', class: 'small' });
  const ready = h('span', { id: 'replicas-ready' }, `${fn.availableReplicas} / ${fn.replicas}`);
  const scale = async (e: Event) => {
    e.preventDefault();
    try {
      await api(`${path}/scale`, { method: 'POST', body: { replicas: Number(replicas.value) } });
      scaleNote.textContent = `scaling to ${replicas.value}`;
      scaleNote.className = 'small ok';
    } catch (err) {
      scaleNote.textContent = (err as Error).message;
      scaleNote.className = 'small error';
    }
  };
  const calls = callPanel();
  calls.update(fn.lastMinute, fn.series);
  // Replica counts and call figures change all the time: refresh them every few seconds.
  const timer = setInterval(() => {
    api<FunctionDetail>(path)
      .then((now) => {
        ready.textContent = `${now.availableReplicas} / ${now.replicas}`;
        calls.update(now.lastMinute, now.series);
      })
      .catch(() => undefined);
  }, 3000);
  const logs = logsPanel(fn.name, fn.namespace);
  replace(
    root,
    h('div', { class: 'bar' }, h('h1', {}, fn.name), h('span', { class: 'muted' }, fn.namespace)),
    h(
      'section',
      { class: 'card facts' },
      h('dl', {},
        h('dt', {}, 'URL'), h('dd', {}, h('a', { href: url, target: '_blank', rel: 'noopener' }, url)),
        h('dt', {}, 'Image'), h('dd', { class: 'mono' }, fn.image),
        h('dt', {}, 'Git'), h('dd', { class: 'mono' }, `${fn.gitRepo ?? '—'} @ ${shortSha(fn.gitSha)}`),
        h('dt', {}, 'Replicas'), h('dd', {}, ready),
        h('dt', {}, 'Invocations'), h('dd', {}, fn.invocations),
        h('dt', {}, 'Last deploy'), h('dd', { title: fn.lastDeploy ?? '' }, ago(fn.lastDeploy)),
      ),
      h('form', { id: 'scale-form', class: 'row', onsubmit: scale }, h('label', {}, 'replicas ', replicas), h('button', { type: 'submit' }, 'Scale'), scaleNote),
    ),
    calls.el,
    invokeForm(fn.name, fn.namespace),
    logs.el,
    h('section', { class: 'card' }, h('h2', {}, 'Environment'), fn.envProcess ? h('p', { class: 'mono small' }, `fprocess: ${fn.envProcess}`) : null, table('env-vars', fn.envVars),
      h('h3', {}, 'Secrets'), fn.secrets.length ? h('p', { class: 'mono' }, fn.secrets.join(', ')) : h('p', { class: 'muted' }, 'none')),
    deployHistory(fn.namespace, fn.name),
    h('section', { class: 'card' }, h('h2', {}, 'Labels'), table('labels', fn.labels), h('h3', {}, 'Annotations'), table('annotations', fn.annotations)),
  );
  return () => {
    clearInterval(timer);
    logs.stop();
  };
}
