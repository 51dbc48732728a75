// One gateway process under the primary (cluster/primary.ts): a whole gateway that tells
// the primary its port once it listens.
import type { AddressInfo } from 'node:net';
import { runService } from '../../../shared/run-service.js';
import { loadGatewayConfig } from '../config.js';
import { startGateway } from '../service.js';
import type { PeerMessage } from './peers.js';

await runService('gateway', () => loadGatewayConfig(), async (config, log) => {
  const gateway = await startGateway(config, log.child({ process: process.pid }));
  process.send!({ gitfaas: 'listening', port: (gateway.server.address() as AddressInfo).port } satisfies PeerMessage);
  return gateway;
});
