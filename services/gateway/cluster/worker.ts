// One gateway process under the primary (cluster/primary.ts): a whole gateway that tells
// the primary its port once it listens, with the dashboard mounted like a lone gateway's.
import type { AddressInfo } from 'node:net';
import { runService } from '../../../shared/run-service.js';
import { loadGatewayWithDashboardConfig, startGatewayWithDashboard } from '../../gateway-with-dashboard.js';
import type { PeerMessage } from './peers.js';

await runService('gateway', () => loadGatewayWithDashboardConfig(), async (config, log) => {
  const gateway = await startGatewayWithDashboard(config, log.child({ process: process.pid }));
  process.send!({ gitfaas: 'listening', port: (gateway.server.address() as AddressInfo).port } satisfies PeerMessage);
  return gateway;
});
