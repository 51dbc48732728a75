// Live logs of a function from the provider: follow or not, how many lines back, and a
// filter applied as lines arrive (and to those already shown).
import { h, listen, replace } from './dom.js';

interface LogLine {
  timestamp: string;
  instance: string;
  text: string;
}

const MAX_LINES = 2000;

export function logsPanel(name: string, namespace: string): { el: HTMLElement; stop: () => void } {
  const follow = h('input', { type: 'checkbox', id: 'logs-follow', checked: true });
  const tail = h('input', { id: 'logs-tail', type: 'number', min: 0, value: '100', 'aria-label': 'tail', class: 'narrow' });
  const filter = h('input', { id: 'logs-filter', placeholder: 'filter', 'aria-label': 'filter' });
  const out = h('pre', { id: 'logs', class: 'logs' });
  const state = h('span', { class: 'muted small' });
  let close = () => undefined as void;
  const lines: LogLine[] = [];

  const matches = (line: LogLine) => !filter.value || line.text.toLowerCase().includes(filter.value.toLowerCase());
  const show = (line: LogLine) => h('div', { class: 'line' }, h('span', { class: 'muted' }, `${line.timestamp.slice(11, 19)} ${line.instance.slice(-6)} `), line.text);
  const redraw = () => replace(out, lines.filter(matches).map(show));

  const start = () => {
    close();
    lines.length = 0;
    replace(out);
    state.textContent = follow.checked ? 'following' : 'loading';
    close = listen(
      `functions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs?follow=${follow.checked}&tail=${Number(tail.value) || 0}`,
      {
        log: (data) => {
          const line = JSON.parse(data) as LogLine;
          lines.push(line);
          if (lines.length > MAX_LINES) lines.shift();
          if (matches(line)) {
            const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
            out.appendChild(show(line));
            if (out.childNodes.length > MAX_LINES) out.firstChild?.remove();
            if (atBottom) out.scrollTop = out.scrollHeight;
          }
        },
        end: () => {
          state.textContent = 'end of log';
          close();
        },
      },
      () => (state.textContent = 'disconnected'),
    );
  };
  follow.addEventListener('change', start);
  tail.addEventListener('change', start);
  filter.addEventListener('input', redraw);
  start();
  return {
    el: h('section', { class: 'card' }, h('h2', {}, 'Logs'), h('div', { class: 'row' }, h('label', {}, follow, ' follow'), h('label', {}, 'tail ', tail), filter, state), out),
    stop: () => close(),
  };
}
