// A function's deploy history: git sha, image digest, time and build, newest first, from
// what the deployer recorded for the function's repository.
import { ago, api, errorBox, h, replace, shortSha } from './dom.js';
import type { DeployEntry } from '../deploy-routes.js';

export function deployHistory(namespace: string, name: string): HTMLElement {
  const body = h('div', {}, h('p', { class: 'muted' }, 'loading…'));
  const el = h('section', { class: 'card', id: 'deploy-history' }, h('h2', {}, 'Deploy history'), body);
  api<{ repository: string | null; deploys: DeployEntry[] }>(`functions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/deploys`)
    .then(({ repository, deploys }) => {
      if (deploys.length === 0) {
        replace(body, h('p', { class: 'muted' }, repository ? 'No deploys recorded for this function.' : 'Not deployed from a repository: no history.'));
        return;
      }
      replace(
        body,
        h('p', { class: 'muted small' }, repository),
        h(
          'table',
          { id: 'deploys' },
          h('thead', {}, h('tr', {}, ['Git sha', 'Image digest', 'When', 'Build', ''].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            deploys.map((d) =>
              h(
                'tr',
                { 'data-sha': d.sha },
                h('td', { class: 'mono', title: d.sha }, shortSha(d.sha)),
                h('td', { class: 'mono small', title: d.image }, d.imageDigest),
                h('td', { title: d.at }, `${new Date(d.at).toLocaleString()} (${ago(d.at)})`),
                h('td', {}, d.buildId ? h('a', { href: `#/build/${encodeURIComponent(d.buildId)}` }, d.buildId.slice(0, 12)) : '—'),
                h('td', {}, d.live ? h('span', { class: 'badge state-live' }, 'live') : null, d.rollbackFrom ? h('span', { class: 'badge' }, `rollback from ${shortSha(d.rollbackFrom)}`) : null),
              ),
            ),
          ),
        ),
      );
    })
    .catch((err) => replace(body, errorBox(err)));
  return el;
}
