// A replica gets traffic only once it answers HTTP: any status below 500 on /_/health (the
// OpenFaaS watchdog's health path; other servers usually answer it too, with 200 or 404).
import { Agent, request } from 'undici';

const probeAgent = new Agent({ keepAliveTimeout: 1, pipelining: 0, connect: { timeout: 1000 } });

/** One probe: true when the replica answers with a status below 500. */
export async function answers(baseUrl: string): Promise<boolean> {
  try {
    const res = await request(`${baseUrl}/_/health`, { dispatcher: probeAgent, headersTimeout: 2000, bodyTimeout: 2000 });
    await res.body.dump();
    return res.statusCode < 500;
  } catch {
    return false;
  }
}

export interface ProbeOptions {
  /** Checked before each probe; probing stops (false) once it says the replica is gone. */
  alive: () => boolean;
  deadline?: number;
}

/** Probes until the replica answers (true), it is gone or the deadline passes (false). */
export async function waitUntilAnswers(baseUrl: string, opts: ProbeOptions): Promise<boolean> {
  let interval = 20;
  for (;;) {
    if (!opts.alive()) return false;
    if (await answers(baseUrl)) return true;
    if (opts.deadline !== undefined && Date.now() >= opts.deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 2, 500);
  }
}
