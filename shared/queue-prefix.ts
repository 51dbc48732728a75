// GITFAAS_QUEUE_PREFIX: the prefix of every BullMQ queue and Redis key of one installation
// (tests set their own), read by every service that touches that Redis.
import { z } from 'zod';

export const queuePrefixVar = z
  .string()
  .default('gitfaas')
  .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), { message: 'expected letters, digits, "_" or "-"' });
