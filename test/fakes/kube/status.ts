// The API server's Status objects: every error the stand-in answers has the shape the real
// one sends, so the client raises the same ApiException with the same code and reason.
import type { ResourceType } from './resources.js';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** An error carrying the Status object to answer with. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** "deployments.apps" / "pods": how the API server names a resource in messages. */
export function qualified(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

export function notFound(type: ResourceType, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(type)} "${name}" not found`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.plural,
  });
}

export function alreadyExists(type: ResourceType, name: string): KubeError {
  return new KubeError(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.plural,
  });
}

export function conflict(type: ResourceType, name: string): KubeError {
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(type.group ? { group: type.group } : {}), kind: type.plural },
  );
}

/** 422 Invalid: `Deployment.apps "x" is invalid: [cause, cause]`, with every cause listed. */
export function invalid(type: ResourceType, name: string, causes: StatusCause[]): KubeError {
  const qualifiedKind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const listed = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = listed.length === 1 ? listed[0] : `[${listed.join(', ')}]`;
  return new KubeError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.kind,
    causes,
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, 'BadRequest', message);
}

export function methodNotAllowed(): KubeError {
  return new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedMediaType(contentType: string): KubeError {
  return new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`);
}

/** 410 Expired: a watch or list asked for a resourceVersion older than the history kept. */
export function expired(asked: string, oldest: number): KubeError {
  return new KubeError(410, 'Expired', `too old resource version: ${asked} (${oldest})`);
}
