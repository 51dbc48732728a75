// Maps a request path onto a resource the way the API server's router does:
//   /api/v1/namespaces/{ns}/{plural}/{name}/{subresource}
//   /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/{subresource}
//   /api/v1/{plural} and /apis/{group}/{version}/{plural} across all namespaces
import { findResource, type ResourceType } from './resources.js';

export interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function route(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    [group, version, rest] = ['', parts[1], parts.slice(2)];
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  } else return undefined;

  // /api/v1/namespaces/{ns}/{plural}... unless the path is about a namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = findResource(group, version, rest[2]);
    if (!type || !type.namespaced) return undefined;
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const type = findResource(group, version, rest[0]);
  if (!type) return undefined;
  if (type.namespaced) return rest.length === 1 ? { type } : undefined;
  return { type, name: rest[1], subresource: rest[2] };
}
