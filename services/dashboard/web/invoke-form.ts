// The invoke form: calls /function/NAME.NAMESPACE from the browser (same origin) and shows
// the answer's status, headers, duration and body; a binary answer becomes a download.
import { h, replace } from './dom.js';

const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|x-ndjson)|[^;]*\+(json|xml))/i;

function parseHeaders(text: string): Headers {
  const headers = new Headers();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

export function invokeForm(name: string, namespace: string): HTMLElement {
  const method = h('select', { id: 'invoke-method', 'aria-label': 'method' }, ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'].map((m) => h('option', { value: m }, m)));
  const path = h('input', { id: 'invoke-path', placeholder: '/path', 'aria-label': 'path' });
  const query = h('input', { id: 'invoke-query', placeholder: 'a=1&b=2', 'aria-label': 'query' });
  const headers = h('textarea', { id: 'invoke-headers', rows: 2, placeholder: 'X-Header: value (one a line)', 'aria-label': 'headers' });
  const kind = h('select', { id: 'invoke-kind', 'aria-label': 'body type' }, h('option', { value: 'text' }, 'text'), h('option', { value: 'json' }, 'JSON'), h('option', { value: 'file' }, 'file'));
  const body = h('textarea', { id: 'invoke-body', rows: 5, placeholder: 'request body', 'aria-label': 'body' });
  const file = h('input', { id: 'invoke-file', type: 'file', hidden: true, 'aria-label': 'file' });
  kind.addEventListener('change', () => {
    body.hidden = kind.value === 'file';
    file.hidden = kind.value !== 'file';
  });
  const answer = h('div', { id: 'invoke-answer', class: 'answer' });

  const send = async (e: Event) => {
    e.preventDefault();
    replace(answer, h('p', { class: 'muted' }, 'calling…'));
    const requestHeaders = parseHeaders(headers.value);
    let payload: BodyInit | undefined;
    if (method.value !== 'GET') {
      if (kind.value === 'file') payload = file.files?.[0];
      else if (kind.value === 'json') {
        try {
          payload = JSON.stringify(JSON.parse(body.value || 'null'));
        } catch (err) {
          replace(answer, h('p', { class: 'error' }, `the body is not JSON: ${(err as Error).message}`));
          return;
        }
        if (!requestHeaders.has('content-type')) requestHeaders.set('content-type', 'application/json');
      } else payload = body.value;
    }
    const sub = path.value.trim().replace(/^\/*/, '');
    const url = `/function/${encodeURIComponent(name)}.${encodeURIComponent(namespace)}${sub ? `/${sub}` : ''}${query.value.trim() ? `?${query.value.trim().replace(/^\?/, '')}` : ''}`;
    const started = performance.now();
    try {
      const res = await fetch(url, { method: method.value, headers: requestHeaders, body: payload, credentials: 'omit' });
      const blob = await res.blob();
      const ms = Math.round(performance.now() - started);
      const type = res.headers.get('content-type') ?? '';
      const shownHeaders = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
      const isText = type === '' || TEXTUAL.test(type);
      replace(
        answer,
        h('p', {}, h('strong', { id: 'invoke-status', class: res.ok ? 'ok' : 'bad' }, `${res.status} ${res.statusText}`), ' in ', h('span', { id: 'invoke-duration' }, `${ms} ms`), ` · ${blob.size} bytes`),
        h('details', {}, h('summary', {}, 'headers'), h('pre', { class: 'small' }, shownHeaders)),
        isText
          ? h('pre', { id: 'invoke-body-out' }, await blob.text())
          : h('p', {}, h('a', { id: 'invoke-download', href: URL.createObjectURL(blob), download: `${name}-answer` }, `download the ${type} answer`)),
      );
    } catch (err) {
      replace(answer, h('p', { class: 'error' }, `the call failed: ${(err as Error).message}`));
    }
  };

  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Invoke'),
    h(
      'form',
      { id: 'invoke-form', onsubmit: send },
      h('div', { class: 'row' }, method, path, query),
      headers,
      h('div', { class: 'row' }, h('label', {}, 'body ', kind)),
      body,
      file,
      h('button', { type: 'submit', id: 'invoke-send' }, 'Send'),
    ),
    answer,
  );
}
