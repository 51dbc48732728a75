// Scale to zero and back, wired once per gateway: the call activity the proxy reports to,
// the waker it hands calls to a function without a ready replica, and the idler.
import type { Logger } from '../../../shared/logger.js';
import type { Provider } from '../providers/provider.js';
import { CallActivity } from './call-activity.js';
import type { ZeroSettings } from './config.js';
import { Idler } from './idler.js';
import { Waker } from './waker.js';

export interface ScaleToZero {
  activity: CallActivity;
  waker: Waker;
  stop(): Promise<void>;
}

export function startScaleToZero(settings: ZeroSettings, provider: Provider, timeoutMs: number, log: Logger): ScaleToZero {
  const activity = new CallActivity();
  const waker = new Waker({ provider, queueLimit: settings.wakeQueueLimit, timeoutMs, log });
  const idler = new Idler({ provider, activity, isWaking: (fn) => waker.isWaking(fn), tickMs: settings.tickMs, log });
  idler.start();
  return { activity, waker, stop: () => idler.stop() };
}
