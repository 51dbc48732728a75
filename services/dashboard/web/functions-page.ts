// The functions list: every function the session may see, live over server-sent events,
// with a namespace picker for the admin.
import { ago, api, h, listen, replace, shortSha } from './dom.js';
import { formatErrorRate, formatMs, formatRate, type CallFigures } from './call-chart.js';
import type { Me } from './main.js';
import type { FunctionSummary } from '../function-views.js';

export function subdomainUrl(domain: string, namespace: string, name: string): string {
  const port = location.port ? `:${location.port}` : '';
  return `${location.protocol}//${namespace}.${domain}${port}/${name}`;
}

export async function functionsPage(root: HTMLElement, me: Me, params: URLSearchParams): Promise<() => void> {
  const { namespaces, domain } = await api<{ namespaces: string[]; domain: string }>('namespaces');
  const chosen = params.get('namespace') ?? '';
  const picker =
    me.role === 'admin'
      ? h(
          'select',
          { id: 'namespace-picker', 'aria-label': 'namespace', onchange: (e: Event) => (location.hash = `#/functions?namespace=${(e.target as HTMLSelectElement).value}`) },
          h('option', { value: '' }, 'all namespaces'),
          namespaces.map((ns) => h('option', { value: ns, selected: ns === chosen }, ns)),
        )
      : h('span', { class: 'muted' }, `namespace ${me.namespace}`);
  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'loading…')));
  const status = h('span', { class: 'live muted' }, 'connecting…');
  replace(
    root,
    h('div', { class: 'bar' }, h('h1', {}, 'Functions'), picker, status),
    h(
      'table',
      { id: 'functions' },
      h('thead', {}, h('tr', {}, ['Function', 'URL', 'Image', 'Git sha', 'Replicas', 'Invocations', 'Rate', 'Errors', 'p50 / p99', 'Last deploy'].map((t) => h('th', {}, t)))),
      body,
    ),
  );
  const render = (list: FunctionSummary[]) => {
    if (list.length === 0) {
      replace(body, h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No functions yet: push a repository with a stack.yml.')));
      return;
    }
    replace(
      body,
      list.map((f) => {
        const url = subdomainUrl(domain, f.namespace, f.name);
        const ready = f.availableReplicas >= f.replicas && f.replicas > 0;
        return h(
          'tr',
          { 'data-function': `${f.name}.${f.namespace}` },
          h('td', {}, h('a', { href: `#/function/${f.namespace}/${f.name}` }, f.name), h('div', { class: 'muted small' }, f.namespace)),
          h('td', {}, h('a', { href: url, target: '_blank', rel: 'noopener' }, url.replace(/^https?:\/\//, ''))),
          h('td', { class: 'mono small' }, f.image),
          h('td', { class: 'mono' }, shortSha(f.gitSha)),
          h('td', { class: ready ? 'ok replicas' : 'warn replicas' }, `${f.availableReplicas} / ${f.replicas}`),
          h('td', { class: 'num invocations' }, f.invocations),
          h('td', { class: 'num rate' }, formatRate(f.lastMinute.rate)),
          h('td', { class: f.lastMinute.errorRate ? 'num error-rate bad' : 'num error-rate' }, formatErrorRate(f.lastMinute)),
          h('td', { class: 'num latency' }, `${formatMs(f.lastMinute.p50Ms)} / ${formatMs(f.lastMinute.p99Ms)}`),
          h('td', { title: f.lastDeploy ?? '' }, ago(f.lastDeploy)),
        );
      }),
    );
  };
  const query = chosen ? `?namespace=${encodeURIComponent(chosen)}` : '';
  return listen(
    `functions/events${query}`,
    {
      functions: (data) => {
        status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
        render(JSON.parse(data) as FunctionSummary[]);
      },
    },
    () => (status.textContent = 'disconnected: reload'),
  );
}
