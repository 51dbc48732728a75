// Docker's container events between two times, read to the end (the engine's own record of
// what happened to a container: create, start, pause, die...).
import Docker from 'dockerode';

export interface EngineEvent {
  Action?: string;
  timeNano?: number;
  Actor?: { Attributes?: Record<string, string> };
}

/** Events of containers matching `filters` (Docker's event filters) from `sinceMs` to `untilMs`, in seconds resolution. */
export async function containerEvents(filters: Record<string, string[]>, sinceMs: number, untilMs: number): Promise<EngineEvent[]> {
  const stream = (await new Docker().getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.ceil(untilMs / 1000),
    filters: { type: ['container'], ...filters },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EngineEvent);
}
