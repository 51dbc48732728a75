// The floor of a proxy in node, for the proxy CPU micro-bench (proxy-cpu.ts): node's http
// server and one undici keep-alive pool, like the gateway, and nothing else: no routing, no
// observers, no X-Forwarded-*/X-Call-Id, response headers copied bar the hop-by-hop ones.
// What the gateway costs per call above this is what its own code can still win; what
// this costs above nginx is node's and undici's.
//   node dist/scripts/bench/floor-proxy.js PORT UPSTREAM_URL
import http from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { HOP_BY_HOP } from '../../shared/hop-by-hop.js';

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error('usage: floor-proxy.js PORT UPSTREAM_URL');
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

const server = http.createServer((req, res) => {
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onHeaders(status, raw) {
      const headers: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i].toString('latin1');
        if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push(name, raw[i + 1].toString('latin1'));
      }
      res.writeHead(status, headers);
      return true;
    },
    onData: (chunk) => res.write(chunk),
    onComplete: () => res.end(),
    onError(err) {
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502).end(String(err));
    },
  };
  pool.dispatch({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: ['x-forwarded-for', req.socket.remoteAddress ?? ''] }, handler);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void pool.close();
});
