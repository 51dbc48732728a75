// The page itself: one HTML shell and the bundle esbuild made from web/ at build time
// (scripts/build-web.sh writes dist/services/dashboard/public/). Read once, served with a
// strict Content-Security-Policy: nothing but this origin's own script and style.
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

const PUBLIC_DIR = new URL('./public/', import.meta.url);

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gitfaas</title>
<link rel="stylesheet" href="/ui/main.css">
<script type="module" src="/ui/main.js"></script>
</head>
<body><div id="app"><noscript>The gitfaas dashboard needs JavaScript.</noscript></div></body>
</html>
`;

function readAsset(name: string): string | undefined {
  try {
    return readFileSync(new URL(name, PUBLIC_DIR), 'utf8');
  } catch {
    return undefined;
  }
}

export function staticRoutes(): Hono {
  const assets = { 'main.js': readAsset('main.js'), 'main.css': readAsset('main.css') };
  const app = new Hono();
  const secure = (c: { header: (k: string, v: string) => void }) => {
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
  };
  app.get('/ui', (c) => c.redirect('/ui/', 301));
  app.get('/ui/', (c) => {
    secure(c);
    c.header('Cache-Control', 'no-cache');
    return c.html(HTML);
  });
  for (const [name, type] of [['main.js', 'text/javascript'], ['main.css', 'text/css']] as const) {
    app.get(`/ui/${name}`, (c) => {
      const body = assets[name];
      if (body === undefined) return c.text(`the dashboard was not built (${name} missing): run npm run build\n`, 503);
      secure(c);
      c.header('Cache-Control', 'no-cache');
      return c.body(body, 200, { 'Content-Type': `${type}; charset=utf-8` });
    });
  }
  return app;
}
