// GitLab's merge request notes, for the GitLab API stand-in (gitlab-api.ts):
// GET /api/v4/projects/:id/merge_requests/:iid/notes (paged as GitLab pages: per_page up
// to 100, default 20, Link rel="next"/"last" and the X-Page/X-Next-Page/X-Total headers),
// POST the same to create, PUT .../notes/:note_id to edit. A merge request the test did
// not open is 404 "404 Not found", as is a note of another merge request; an empty body is 400.
import type { ServerResponse } from 'node:http';

export interface MergeRequestNote {
  id: number;
  projectId: number;
  iid: number;
  body: string;
  author: string;
  /** Every body the note had, in order. */
  edits: string[];
}

export interface GitLabNotes {
  addMergeRequest(projectId: number, iid: number): void;
  on(projectId: number, iid: number): MergeRequestNote[];
  addNote(projectId: number, iid: number, body: string, author?: string): MergeRequestNote;
  route(method: string, url: URL, body: Record<string, unknown>, res: ServerResponse, origin: string): boolean;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function createGitLabNotes(botUser = 'gitfaas-bot'): GitLabNotes {
  const mrs = new Set<string>();
  const notes: MergeRequestNote[] = [];
  let nextId = 70_001;
  const key = (p: number, iid: number) => `${p}!${iid}`;
  const add = (projectId: number, iid: number, body: string, author: string) => {
    const note = { id: nextId++, projectId, iid, body, author, edits: [body] };
    notes.push(note);
    return note;
  };
  const wire = (n: MergeRequestNote) => ({ id: n.id, body: n.body, author: { username: n.author }, noteable_type: 'MergeRequest', noteable_iid: n.iid, system: false });
  return {
    addMergeRequest: (p, iid) => void mrs.add(key(p, iid)),
    on: (p, iid) => notes.filter((n) => n.projectId === p && n.iid === iid),
    addNote: (p, iid, body, author = 'someone') => add(p, iid, body, author),
    route(method, url, body, res, origin) {
      const m = /^\/api\/v4\/projects\/(\d+)\/merge_requests\/(\d+)\/notes(?:\/(\d+))?$/.exec(url.pathname);
      if (!m) return false;
      const [projectId, iid] = [Number(m[1]), Number(m[2])];
      if (!mrs.has(key(projectId, iid))) return send(res, 404, { message: '404 Not found' }), true;
      const text = typeof body.body === 'string' ? body.body : '';
      if (m[3] === undefined && method === 'GET') {
        const all = notes.filter((n) => n.projectId === projectId && n.iid === iid);
        const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 20) || 20));
        const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const link = (p: number, rel: string) => `<${origin}${url.pathname}?page=${p}&per_page=${perPage}>; rel="${rel}"`;
        const links = [...(page < last ? [link(page + 1, 'next')] : []), link(1, 'first'), link(last, 'last')];
        send(res, 200, all.slice((page - 1) * perPage, page * perPage).map(wire), {
          link: links.join(', '),
          'x-page': String(page),
          'x-per-page': String(perPage),
          'x-total': String(all.length),
          'x-total-pages': String(last),
          'x-next-page': page < last ? String(page + 1) : '',
          'x-prev-page': page > 1 ? String(page - 1) : '',
        });
        return true;
      }
      if (m[3] === undefined && method === 'POST') {
        if (!text) return send(res, 400, { message: { body: ["can't be blank"] } }), true;
        send(res, 201, wire(add(projectId, iid, text, botUser)));
        return true;
      }
      if (m[3] !== undefined && method === 'PUT') {
        const note = notes.find((n) => n.id === Number(m[3]) && n.projectId === projectId && n.iid === iid);
        if (!note) return send(res, 404, { message: '404 Note Not Found' }), true;
        if (!text) return send(res, 400, { message: { body: ["can't be blank"] } }), true;
        note.body = text;
        note.edits.push(text);
        send(res, 200, wire(note));
        return true;
      }
      send(res, 405, { message: '405 Method Not Allowed' });
      return true;
    },
  };
}
