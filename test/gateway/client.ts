// Small HTTP helpers for the gateway tests (127.0.0.1 only).
import type { TestGateway } from '../helpers/gateway.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

export async function call(gw: TestGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: gw.authHeader, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export async function invoke(gw: TestGateway, fnPath: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}/function/${fnPath}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export function deployment(gw: TestGateway, service: string, image: string, extra: Record<string, unknown> = {}) {
  return { service, image, namespace: gw.namespace, ...extra };
}
