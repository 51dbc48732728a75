// #/secrets: a namespace's secrets by name (values are write-only: they are sent, never
// shown), a form to create or update one, a remove button per secret, and the namespace's
// API token for faas-cli (made here, shown once, revocable). The admin picks the namespace
// (#/secrets?namespace=); an owner always gets their own.
import { ago, api, errorBox, h, replace } from './dom.js';
import type { Me } from './main.js';

interface SecretsView {
  namespace: string;
  secrets: string[];
  token: { createdAt: string; createdBy: string } | null;
}

export async function secretsPage(root: HTMLElement, me: Me, params: URLSearchParams): Promise<() => void> {
  const namespace = me.role === 'admin' ? params.get('namespace') ?? '' : me.namespace!;
  if (!namespace) {
    const input = h('input', { id: 'secrets-namespace', 'aria-label': 'namespace', placeholder: 'gh-login' });
    replace(
      root,
      h('h1', {}, 'Secrets'),
      h('form', { class: 'row', onsubmit: (e: Event) => (e.preventDefault(), (location.hash = `#/secrets?namespace=${encodeURIComponent(input.value)}`)) }, 'Namespace', input, h('button', { type: 'submit' }, 'Open')),
    );
    return () => undefined;
  }
  const base = `secrets/${encodeURIComponent(namespace)}`;
  const note = h('div', { id: 'secrets-note' });
  const list = h('tbody', {});
  const tokenBox = h('div', { id: 'token' });
  const name = h('input', { id: 'secret-name', 'aria-label': 'secret name', placeholder: 'api-key', autocomplete: 'off' });
  const value = h('input', { id: 'secret-value', 'aria-label': 'secret value', type: 'password', autocomplete: 'new-password' });

  const run = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      replace(note, h('p', { class: 'ok', role: 'status' }, done));
      await refresh();
    } catch (err) {
      replace(note, errorBox(err));
    }
  };
  const save = (method: 'POST' | 'PUT') => async (e: Event) => {
    e.preventDefault();
    const secret = name.value.trim();
    const body = method === 'POST' ? { name: secret, value: value.value } : { value: value.value };
    await run(() => api(method === 'POST' ? base : `${base}/${encodeURIComponent(secret)}`, { method, body }), method === 'POST' ? `Secret ${secret} created.` : `Secret ${secret} updated.`);
    value.value = '';
  };
  const remove = (secret: string) => run(() => api(`${base}/${encodeURIComponent(secret)}`, { method: 'DELETE' }), `Secret ${secret} removed.`);

  const renderToken = (view: SecretsView, fresh?: string) => {
    const makeToken = async () => {
      try {
        const made = await api<{ token: string }>(`token/${encodeURIComponent(namespace)}`, { method: 'POST' });
        await refresh(made.token);
      } catch (err) {
        replace(note, errorBox(err));
      }
    };
    const revoke = () => run(() => api(`token/${encodeURIComponent(namespace)}`, { method: 'DELETE' }), 'API token revoked.');
    replace(
      tokenBox,
      h('h2', {}, 'API token'),
      h('p', { id: 'token-status', class: 'muted' }, view.token ? `A token exists: made ${ago(view.token.createdAt)} by ${view.token.createdBy}.` : 'No API token.'),
      fresh
        ? h('div', { class: 'answer' },
            h('p', {}, 'Copy it now: it is shown only once.'),
            h('pre', { id: 'token-value', class: 'mono' }, fresh),
            h('pre', { class: 'mono small' }, `faas-cli login -g ${location.origin} -u ${namespace} --password-stdin\nfaas-cli secret list -g ${location.origin} --namespace ${namespace}`),
          )
        : null,
      h('div', { class: 'row' },
        h('button', { id: 'token-create', onclick: makeToken }, view.token ? 'Replace token' : 'Create token'),
        view.token ? h('button', { id: 'token-revoke', onclick: revoke }, 'Revoke token') : null,
      ),
    );
  };

  const refresh = async (freshToken?: string) => {
    const view = await api<SecretsView>(base);
    replace(
      list,
      view.secrets.length === 0
        ? h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'No secrets yet.'))
        : view.secrets.map((s) => h('tr', { 'data-secret': s }, h('td', { class: 'mono' }, s), h('td', {}, h('button', { class: 'remove', onclick: () => void remove(s) }, 'Remove')))),
    );
    renderToken(view, freshToken);
  };

  replace(
    root,
    h('div', { class: 'bar' }, h('h1', {}, 'Secrets'), h('span', { class: 'muted', id: 'secrets-ns' }, `namespace ${namespace}`)),
    h('p', { class: 'muted' }, 'Functions read them as files at /var/openfaas/secrets/<name> when stack.yml lists them under secrets:. Values are never shown again.'),
    h('form', { id: 'secret-form', class: 'card row', onsubmit: save('POST') },
      h('label', {}, 'Name ', name),
      h('label', {}, 'Value ', value),
      h('button', { type: 'submit', id: 'secret-create' }, 'Create'),
      h('button', { type: 'button', id: 'secret-update', onclick: save('PUT') }, 'Update'),
    ),
    note,
    h('table', { id: 'secrets' }, h('thead', {}, h('tr', {}, h('th', {}, 'Secret'), h('th', {}, ''))), list),
    h('section', { class: 'card' }, tokenBox),
  );
  await refresh();
  return () => undefined;
}
