// The worker thread of stack-read.ts: reads and checks stack.yml off the shared event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { readStackHere, type StackReadInput } from './stack-read.js';

readStackHere(workerData as StackReadInput).then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (err: Error) => parentPort!.postMessage({ ok: false, error: err.message ?? String(err) }),
);
