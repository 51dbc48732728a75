// The dashboard's entry point: signs in, then routes by the URL's hash
// (#/functions, #/function/NS/NAME, #/builds, #/build/ID, #/async, #/secrets).
import { api, ApiError, errorBox, h, replace, setCsrf, whenSignedOut } from './dom.js';
import { asyncPage } from './async-page.js';
import { buildPage, buildsPage } from './builds-page.js';
import { functionPage } from './function-page.js';
import { functionsPage } from './functions-page.js';
import { secretsPage } from './secrets-page.js';

export interface Me {
  user: string;
  role: 'admin' | 'owner';
  namespace: string | null;
  csrf: string;
}

const app = document.getElementById('app')!;
let leave: () => void = () => undefined;

const LABELS: Record<string, string> = { github: 'GitHub', gitlab: 'GitLab' };

function signInPage(message?: string): void {
  leave();
  leave = () => undefined;
  const owners = h('div', { id: 'owner-signin' });
  api<{ providers: string[] }>('login-options')
    .then(({ providers }) => {
      if (providers.length === 0) return;
      replace(
        owners,
        h('h2', {}, 'Repository owners'),
        providers.map((p) => h('p', {}, h('a', { class: 'button', id: `signin-${p}`, href: `/ui/oauth/${p}/start` }, `Sign in with ${LABELS[p] ?? p}`))),
      );
    })
    .catch(() => undefined);
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', value: 'admin', 'aria-label': 'user' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', 'aria-label': 'password' });
  const note = h('div', {}, message ? h('p', { class: 'error', role: 'alert' }, message) : null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const me = await api<Me>('login', { method: 'POST', body: { user: user.value, password: password.value } });
      setCsrf(me.csrf);
      if (!location.hash || location.hash === '#/') location.hash = '#/functions';
      void start();
    } catch (err) {
      replace(note, errorBox(err));
    }
  };
  replace(
    app,
    h(
      'main',
      { class: 'signin' },
      h('h1', {}, 'gitfaas'),
      h('form', { id: 'login-form', class: 'card', onsubmit: submit },
        h('h2', {}, 'Admin sign-in'),
        h('label', {}, 'User', user),
        h('label', {}, 'Password', password),
        h('button', { type: 'submit', id: 'login-submit' }, 'Sign in'),
        note,
      ),
      h('section', { class: 'card' }, owners),
    ),
  );
  password.focus();
}

function shell(me: Me): HTMLElement {
  const logout = async () => {
    await api('logout', { method: 'POST' }).catch(() => undefined);
    signInPage('Signed out.');
  };
  const content = h('main', { id: 'content' });
  replace(
    app,
    h(
      'header',
      {},
      h('a', { href: '#/functions', class: 'brand' }, 'gitfaas'),
      h('nav', {}, h('a', { href: '#/functions' }, 'Functions'), h('a', { href: '#/builds' }, 'Builds'), h('a', { href: '#/async' }, 'Async'), h('a', { href: '#/secrets' }, 'Secrets')),
      h('span', { class: 'who', id: 'who' }, me.role === 'admin' ? `${me.user} (admin)` : `${me.user} · ${me.namespace}`),
      h('button', { id: 'logout', class: 'link', onclick: logout }, 'Sign out'),
    ),
    content,
  );
  return content;
}

async function route(me: Me, content: HTMLElement): Promise<void> {
  leave();
  leave = () => undefined;
  const [path, query] = (location.hash.slice(1) || '/functions').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  replace(content, h('p', { class: 'muted' }, 'loading…'));
  try {
    if (parts[0] === 'function' && parts.length === 3) leave = await functionPage(content, parts[1], parts[2]);
    else if (parts[0] === 'builds') leave = await buildsPage(content, params);
    else if (parts[0] === 'build' && parts[1]) leave = await buildPage(content, parts[1]);
    else if (parts[0] === 'async') leave = await asyncPage(content);
    else if (parts[0] === 'secrets') leave = await secretsPage(content, me, params);
    else leave = await functionsPage(content, me, params);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) replace(content, errorBox(err));
  }
}

async function start(): Promise<void> {
  // A failed OAuth sign-in comes back as ?signin_error=<reason>.
  const signinError = new URLSearchParams(location.search).get('signin_error');
  if (signinError) {
    history.replaceState(null, '', '/ui/');
    signInPage(signinError);
    return;
  }
  let me: Me;
  try {
    me = await api<Me>('session');
  } catch (err) {
    signInPage(err instanceof ApiError && err.status === 401 && err.message !== 'not signed in' ? err.message : undefined);
    return;
  }
  setCsrf(me.csrf);
  const content = shell(me);
  window.onhashchange = () => void route(me, content);
  await route(me, content);
}

whenSignedOut(() => {
  window.onhashchange = null;
  signInPage('Your session has ended: sign in again.');
});
void start();
