// The engine's floor under a wake, timed in the same rounds as the gateway's wakes: the
// static function's image run by dockerode directly, no gateway, with the port published as
// the Docker provider publishes it (127.0.0.1, a port the engine picks, read back by
// inspect), from the start (or create) call to the first 200 on that port.
//   docker start         a stopped container started again (what `stopped` asks of the engine)
//   docker create+start  a new container (what `removed` asks of it)
// What a gateway wake costs beyond this is the gateway's (waker, provider, probe, proxy).
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { WakeWindow } from './wake-events.js';

export interface FloorSeries {
  fn: string;
  mode: string;
  /** Makes it ready to be timed (not timed): the container stopped, or gone. */
  prepare(): Promise<void>;
  /** One timed start; runningAt is when the engine answered the start call. */
  wake(): Promise<WakeWindow & { runningAt: number }>;
}

const PORT = '8080/tcp';

async function firstAnswer(url: string, deadline: number): Promise<void> {
  for (;;) {
    const res = await fetch(url).catch(() => undefined);
    if (res) {
      await res.text();
      if (res.status === 200) return;
    }
    if (Date.now() > deadline) throw new Error(`engine floor: ${url} did not answer 200 within the deadline`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The two floors, and close() to remove every container they made. */
export function engineFloors(image: string): { series: FloorSeries[]; close(): Promise<void> } {
  const docker = new Docker();
  const made = new Set<string>();
  const options = (): Docker.ContainerCreateOptions => ({
    name: `gitfaas-bench-floor-${process.pid}-${randomBytes(3).toString('hex')}`,
    Image: image,
    Labels: { 'com.gitfaas.bench': 'wake-floor' },
    ExposedPorts: { [PORT]: {} },
    HostConfig: { PortBindings: { [PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  const create = async () => {
    const c = await docker.createContainer(options());
    made.add(c.id);
    return c;
  };
  const remove = async (id: string) => {
    await docker.getContainer(id).remove({ force: true });
    made.delete(id);
  };
  /** Starts (after creating, when asked) and times until the published port answers. */
  const timed = async (get: () => Promise<Docker.Container>): Promise<WakeWindow & { runningAt: number }> => {
    const sent = performance.now();
    const container = await get();
    await container.start();
    const running = performance.now();
    const info = await container.inspect();
    const port = info.NetworkSettings.Ports[PORT]?.find((b) => b.HostIp === '127.0.0.1')?.HostPort;
    if (!port) throw new Error(`engine floor: ${container.id.slice(0, 12)} has no port published on 127.0.0.1`);
    await firstAnswer(`http://127.0.0.1:${port}/`, Date.now() + 60_000);
    const t0 = performance.timeOrigin;
    return { sentAt: t0 + sent, runningAt: t0 + running, answeredAt: t0 + performance.now() };
  };
  let kept: Docker.Container | undefined;
  let fresh: string | undefined;
  const series: FloorSeries[] = [
    {
      fn: 'static, no gateway',
      mode: 'docker start',
      async prepare() {
        kept ??= await create();
        const state = (await kept.inspect()).State;
        if (state.Running) await kept.stop({ t: 0 });
      },
      wake: () => timed(async () => kept!),
    },
    {
      fn: 'static, no gateway',
      mode: 'docker create+start',
      async prepare() {
        if (fresh) await remove(fresh);
        fresh = undefined;
      },
      wake: () =>
        timed(async () => {
          const c = await create();
          fresh = c.id;
          return c;
        }),
    },
  ];
  return {
    series,
    async close() {
      for (const id of [...made]) await remove(id).catch(() => undefined);
    },
  };
}
