// The async queue: calls waiting per function and the age of the oldest, and the dead
// letters (calls whose every attempt failed) with their last error and a replay button.
// Refreshed every few seconds while the page is open.
import { ago, api, errorBox, h, replace } from './dom.js';

interface QueuedFunction {
  namespace: string;
  name: string;
  pending: number;
  oldestAt: string | null;
}

interface DeadLetter {
  id: number;
  callId: string;
  function: string;
  namespace: string;
  method: string;
  path: string;
  deadAt: string;
  reason: string;
  attempts: { attempt: number; status?: number; error?: string }[];
}

const lastError = (d: DeadLetter) => {
  const last = d.attempts.at(-1);
  if (!last) return d.reason;
  return `${d.reason}${last.status ? ` (last answer ${last.status})` : ''}${last.error ? `: ${last.error}` : ''}`;
};

export async function asyncPage(root: HTMLElement): Promise<() => void> {
  const queue = h('tbody');
  const dead = h('tbody');
  const note = h('span', { class: 'muted small' });
  replace(
    root,
    h('div', { class: 'bar' }, h('h1', {}, 'Async'), note),
    h('section', { class: 'card' }, h('h2', {}, 'Queued calls'), h('table', { id: 'async-queue' }, h('thead', {}, h('tr', {}, ['Function', 'Waiting', 'Oldest'].map((t) => h('th', {}, t)))), queue)),
    h('section', { class: 'card' }, h('h2', {}, 'Dead letters'), h('table', { id: 'dead-letters' }, h('thead', {}, h('tr', {}, ['Function', 'Call', 'Last error', 'Attempts', 'Died', ''].map((t) => h('th', {}, t)))), dead)),
  );
  const replay = async (d: DeadLetter, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      await api(`async/dead-letters/${d.id}/replay`, { method: 'POST' });
      await load();
    } catch (err) {
      button.replaceWith(errorBox(err));
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const load = async () => {
    clearTimeout(timer);
    try {
      const [{ functions }, { deadLetters }] = await Promise.all([
        api<{ functions: QueuedFunction[] }>('async/queue'),
        api<{ deadLetters: DeadLetter[] }>('async/dead-letters'),
      ]);
      replace(
        queue,
        functions.length === 0
          ? h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'Nothing waiting.'))
          : functions.map((f) => h('tr', { 'data-queue': `${f.name}.${f.namespace}` }, h('td', {}, `${f.name}.${f.namespace}`), h('td', { class: 'num pending' }, f.pending), h('td', { title: f.oldestAt ?? '' }, ago(f.oldestAt)))),
      );
      replace(
        dead,
        deadLetters.length === 0
          ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No dead letters.'))
          : deadLetters.map((d) => {
              const button = h('button', { class: 'replay', type: 'button' }, 'Replay');
              button.addEventListener('click', () => void replay(d, button));
              return h(
                'tr',
                { 'data-dead-letter': String(d.id) },
                h('td', {}, `${d.function}.${d.namespace}`),
                h('td', { class: 'mono small' }, `${d.method} ${d.path || '/'}`, h('div', { class: 'muted' }, d.callId)),
                h('td', { class: 'small error-text' }, lastError(d)),
                h('td', { class: 'num' }, d.attempts.length),
                h('td', { title: d.deadAt }, ago(d.deadAt)),
                h('td', {}, button),
              );
            }),
      );
      note.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      replace(queue, h('tr', {}, h('td', { colspan: 3 }, errorBox(err))));
    }
    if (!stopped) timer = setTimeout(load, 3000);
  };
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
