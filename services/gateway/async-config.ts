// The gateway's async settings: the streams it publishes to (shared with the
// queue-worker, shared/async-config.ts) and its own request limits. Spread into the
// gateway's schema by config.ts; checked for overlaps when the async routes start.
import { durationMsVar, positiveIntVar } from '../../shared/config.js';
import { asyncStreamEnv, asyncStreamSettings, type AsyncStreamSettings } from '../../shared/async-config.js';
import { callbackPolicy, callbackPolicyEnv, type CallbackPolicy } from '../../shared/callback-policy.js';
import { z } from 'zod';

export const asyncGatewayEnv = {
  ...asyncStreamEnv,
  ...callbackPolicyEnv,
  GITFAAS_ASYNC_MAX_BODY_BYTES: positiveIntVar(1024 * 1024),
  GITFAAS_ASYNC_PUBLISH_TIMEOUT_MS: durationMsVar(5_000),
};

type Env = { [K in keyof typeof asyncGatewayEnv]: z.output<(typeof asyncGatewayEnv)[K]> };

export interface AsyncGatewaySettings {
  streams: AsyncStreamSettings;
  maxBodyBytes: number;
  publishTimeoutMs: number;
  /** X-Callback-Url targets refused at enqueue time; its gateway endpoint is set once the port is known. */
  callbackPolicy: CallbackPolicy;
}

export function asyncGatewaySettings(env: Env): AsyncGatewaySettings {
  return {
    streams: asyncStreamSettings(env),
    maxBodyBytes: env.GITFAAS_ASYNC_MAX_BODY_BYTES,
    publishTimeoutMs: env.GITFAAS_ASYNC_PUBLISH_TIMEOUT_MS,
    callbackPolicy: callbackPolicy(env, undefined, asyncStreamSettings(env).natsServers),
  };
}
