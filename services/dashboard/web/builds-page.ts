// Repositories and their builds, newest first, refreshed while any is running; and one
// build with its reason at the top, stage timings, each function's result and the log,
// streamed while the build runs.
import { ago, api, errorBox, h, listen, replace, shortSha } from './dom.js';

interface Build {
  id: string;
  repository: { scm: string; fullName: string; namespace: string; repoId: number };
  sha: string;
  branch: string;
  pullRequest?: number;
  kind: string;
  pushedBy?: string;
  trigger: string;
  state: string;
  reason?: string;
  stages: Record<string, number>;
  functions: Record<string, { state: string; detail?: string; image?: string }>;
  createdAt: string;
  finishedAt?: string;
}

interface Repository {
  key: string;
  scm: string;
  fullName: string;
  namespace: string;
  lastSeenAt: string;
}

const RUNNING = new Set(['queued', 'building', 'deploying']);
const STAGES = ['clone', 'build', 'push', 'deploy'];

const stateBadge = (state: string) => h('span', { class: `badge state-${state}` }, state);
const stages = (b: Build) => STAGES.filter((s) => b.stages[s] !== undefined).map((s) => `${s} ${b.stages[s].toFixed(1)}s`).join(' · ') || '—';

export async function buildsPage(root: HTMLElement, params: URLSearchParams): Promise<() => void> {
  const { repositories } = await api<{ repositories: Repository[] }>('repositories');
  const chosen = params.get('repository') ?? '';
  const picker = h(
    'select',
    { id: 'repository-picker', 'aria-label': 'repository', onchange: (e: Event) => (location.hash = `#/builds?repository=${encodeURIComponent((e.target as HTMLSelectElement).value)}`) },
    h('option', { value: '' }, 'all repositories'),
    repositories.map((r) => h('option', { value: r.key, selected: r.key === chosen }, `${r.fullName} (${r.scm})`)),
  );
  const body = h('tbody');
  const note = h('span', { class: 'muted small' });
  replace(
    root,
    h('div', { class: 'bar' }, h('h1', {}, 'Builds'), picker, note),
    h('table', { id: 'builds' }, h('thead', {}, h('tr', {}, ['Repository', 'Commit', 'State', 'Pushed by', 'Stages', 'Functions', 'Started'].map((t) => h('th', {}, t)))), body),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const load = async () => {
    try {
      const { builds } = await api<{ builds: Build[] }>(`builds${chosen ? `?repository=${encodeURIComponent(chosen)}` : ''}`);
      replace(
        body,
        builds.length === 0
          ? h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No builds yet.'))
          : builds.map((b) =>
              h(
                'tr',
                { 'data-build': b.id },
                h('td', {}, b.repository.fullName),
                h('td', { class: 'mono' }, h('a', { href: `#/build/${b.id}` }, shortSha(b.sha)), ` ${b.branch}${b.pullRequest ? ` #${b.pullRequest}` : ''}`),
                h('td', {}, stateBadge(b.state)),
                h('td', {}, b.pushedBy ?? '—'),
                h('td', { class: 'small' }, stages(b)),
                h('td', { class: 'small' }, Object.entries(b.functions).map(([n, f]) => `${n}: ${f.state}`).join(', ') || '—'),
                h('td', { title: b.createdAt }, ago(b.createdAt)),
              ),
            ),
      );
      note.textContent = `updated ${new Date().toLocaleTimeString()}`;
      // Conditional polling: only while something is still running.
      if (!stopped && builds.some((b) => RUNNING.has(b.state))) timer = setTimeout(load, 2000);
      else if (!stopped) timer = setTimeout(load, 10000);
    } catch (err) {
      replace(body, h('tr', {}, h('td', { colspan: 7 }, errorBox(err))));
    }
  };
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export async function buildPage(root: HTMLElement, id: string): Promise<() => void> {
  let build: Build;
  try {
    build = await api<Build>(`builds/${encodeURIComponent(id)}`);
  } catch (err) {
    replace(root, h('h1', {}, `Build ${id}`), errorBox(err));
    return () => undefined;
  }
  const head = h('div');
  const log = h('pre', { id: 'build-log', class: 'logs' });
  const render = (b: Build) =>
    replace(
      head,
      h('div', { class: 'bar' }, h('h1', {}, `${b.repository.fullName} @ ${shortSha(b.sha)}`), h('span', { id: 'build-state' }, stateBadge(b.state))),
      b.state === 'failed' && b.reason ? h('p', { id: 'build-reason', class: 'error', role: 'alert' }, h('strong', {}, 'Failed: '), b.reason) : null,
      b.state !== 'failed' && b.reason ? h('p', { id: 'build-reason', class: 'muted' }, b.reason) : null,
      h(
        'section',
        { class: 'card facts' },
        h('dl', {},
          h('dt', {}, 'Branch'), h('dd', {}, `${b.branch}${b.pullRequest ? ` (pull request #${b.pullRequest})` : ''}`),
          h('dt', {}, 'Pushed by'), h('dd', {}, b.pushedBy ?? '—'),
          h('dt', {}, 'Trigger'), h('dd', {}, b.trigger),
          h('dt', {}, 'Stages'), h('dd', { id: 'build-stages' }, stages(b)),
          h('dt', {}, 'Started'), h('dd', { title: b.createdAt }, ago(b.createdAt)),
        ),
        h('table', { id: 'build-functions' }, h('tbody', {}, Object.entries(b.functions).map(([n, f]) => h('tr', {}, h('th', {}, n), h('td', {}, stateBadge(f.state)), h('td', { class: 'small' }, f.detail ?? ''))))),
      ),
    );
  render(build);
  replace(root, head, h('section', { class: 'card' }, h('h2', {}, 'Log'), log));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = async () => {
    build = await api<Build>(`builds/${encodeURIComponent(id)}`).catch(() => build);
    render(build);
    if (RUNNING.has(build.state)) timer = setTimeout(refresh, 1500);
  };
  if (RUNNING.has(build.state)) timer = setTimeout(refresh, 1500);
  const close = listen(`builds/${encodeURIComponent(id)}/log`, {
    lines: (data) => {
      for (const line of JSON.parse(data) as string[]) log.appendChild(h('div', { class: 'line' }, line));
      log.scrollTop = log.scrollHeight;
    },
    end: () => {
      close();
      void refresh();
    },
  });
  return () => {
    clearTimeout(timer);
    close();
  };
}
