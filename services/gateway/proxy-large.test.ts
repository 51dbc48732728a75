// A response of several gigabytes streams through the proxy with flat memory: the replica,
// the gateway and the reading client all run here, so this process's RSS bounds the gateway's.
// On both data planes.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { listenProxy, PLANES } from '../../test/helpers/proxy-planes.js';
import type { Provider } from './providers/provider.js';
import { Upstreams } from './upstreams.js';

const TOTAL = 2 * 1024 ** 3;

async function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

for (const plane of PLANES) {
  test(`${plane}: 2 GB through the proxy: every byte arrives and RSS stays flat`, { timeout: 240_000 }, async () => {
    const chunk = Buffer.alloc(1 << 20, 42);
    const replica = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': TOTAL });
      let written = 0;
      const pump = () => {
        while (written < TOTAL) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const url = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
    const provider = { endpoints: () => [{ id: 'big', url }], onChange: () => () => undefined } as unknown as Provider;
    const upstreams = new Upstreams(60_000);
    const gateway = await listenProxy(plane, { provider, upstreams, observers: [], defaultNamespace: 'fn', timeoutMs: 60_000, log: silentLogger() });
    try {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const started = Date.now();
      let received = 0;
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get(`${gateway.base}/function/big`, (res) => {
            res.on('data', (c: Buffer) => (received += c.length));
            res.on('end', () => resolve(res.statusCode!));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      const grewMb = (peak - before) / 2 ** 20;
      console.log(`# ${plane}: 2 GB in ${seconds.toFixed(1)} s (${(TOTAL / 2 ** 20 / seconds).toFixed(0)} MB/s); RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak +${grewMb.toFixed(0)} MB`);
      assert.equal(status, 200);
      assert.equal(received, TOTAL);
      assert.ok(grewMb < 150, `RSS grew by ${grewMb.toFixed(0)} MB while streaming 2 GB`);
    } finally {
      gateway.close();
      replica.closeAllConnections();
      replica.close();
      await upstreams.close();
    }
  });
}
