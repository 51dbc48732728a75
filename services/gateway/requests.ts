// Request bodies of the OpenFaaS REST API, validated; an invalid body is a 400 that says
// which field is wrong.
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { imageReferenceProblem, shown } from '../../shared/image-ref.js';
import { dnsLabelProblem } from '../../shared/names.js';
import type { FunctionDeployment } from './providers/provider.js';

const record = z.record(z.string(), z.string()).nullish();
const list = z.array(z.string()).nullish();
const resources = z.object({ memory: z.string().optional(), cpu: z.string().optional() }).nullish();

export const DeploymentBody = z.object({
  service: z.string({ message: 'service (the function name) is required' }),
  image: z
    .string({ message: 'image is required' })
    .min(1, 'image is required')
    .superRefine((image, ctx) => {
      // Checked here so a malformed reference never reaches the engine (see shared/image-ref.ts).
      const problem = imageReferenceProblem(image);
      if (problem) ctx.addIssue({ code: 'custom', message: `"${shown(image)}" ${problem}` });
    }),
  namespace: z.string().optional(),
  envProcess: z.string().optional(),
  envVars: record,
  constraints: list,
  secrets: list,
  labels: record,
  annotations: record,
  limits: resources,
  requests: resources,
  readOnlyRootFilesystem: z.boolean().optional(),
});

export const DeleteBody = z.object({
  functionName: z.string({ message: 'functionName is required' }),
  namespace: z.string().optional(),
});

export const ScaleBody = z.object({
  serviceName: z.string().optional(),
  namespace: z.string().optional(),
  replicas: z.number({ message: 'replicas must be a number' }),
});

export const SecretBody = z.object({
  name: z.string({ message: 'name is required' }),
  namespace: z.string().optional(),
  value: z.string().optional(),
  rawValue: z.string().optional(),
});

/** Parses a JSON body against a schema; 400 with the reasons otherwise. */
export async function parseBody<T extends z.ZodType>(req: { text(): Promise<string> }, schema: T): Promise<z.output<T>> {
  const text = await req.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: 'the request body is not valid JSON' });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const reasons = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new HTTPException(400, { message: `invalid request body: ${reasons.join('; ')}` });
  }
  return result.data;
}

/** 400 unless value is a DNS-1123 label. */
export function requireLabel(what: string, value: string): string {
  const problem = dnsLabelProblem(value);
  if (problem) throw new HTTPException(400, { message: `${what} "${value}" ${problem}` });
  return value;
}

/** The neutral deployment from a validated body (nulls dropped). */
export function toDeployment(body: z.output<typeof DeploymentBody>, namespace: string): FunctionDeployment & { namespace: string } {
  return {
    service: body.service,
    image: body.image,
    namespace,
    envProcess: body.envProcess || undefined,
    envVars: body.envVars ?? undefined,
    constraints: body.constraints ?? undefined,
    secrets: body.secrets ?? undefined,
    labels: body.labels ?? undefined,
    annotations: body.annotations ?? undefined,
    limits: body.limits ?? undefined,
    requests: body.requests ?? undefined,
    readOnlyRootFilesystem: body.readOnlyRootFilesystem,
  };
}
