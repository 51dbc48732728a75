import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { booleanVar, ConfigError, parseEnv, portVar, readSecret, redactConfig, withSecrets } from './config.js';

const schema = z.object({ PORT: portVar(8080), DEBUG: booleanVar(false), API_TOKEN: z.string().min(1) });

test('parseEnv applies defaults and coerces', () => {
  assert.deepEqual(parseEnv(schema, { API_TOKEN: 't' }), { PORT: 8080, DEBUG: false, API_TOKEN: 't' });
  assert.deepEqual(parseEnv(schema, { PORT: '9000', DEBUG: 'TRUE', API_TOKEN: 't' }), { PORT: 9000, DEBUG: true, API_TOKEN: 't' });
});

test('"false" is false, not true', () => {
  assert.equal(parseEnv(schema, { DEBUG: 'false', API_TOKEN: 't' }).DEBUG, false);
  assert.equal(parseEnv(schema, { DEBUG: '0', API_TOKEN: 't' }).DEBUG, false);
});

test('every bad variable is named, secrets are not echoed', () => {
  assert.throws(
    () => parseEnv(schema, { PORT: 'eighty', DEBUG: 'maybe', API_TOKEN: '' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /PORT: .*got "eighty"/);
      assert.match(err.message, /DEBUG: expected true or false, got "maybe"/);
      assert.match(err.message, /API_TOKEN:/);
      return true;
    },
  );
  assert.throws(() => parseEnv(schema, { PORT: '70000', API_TOKEN: 'x' }), /PORT: expected a port from 0 to 65535/);
});

test('secrets come from NAME or NAME_FILE, not both', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-config-'));
  try {
    const file = path.join(dir, 'token');
    await writeFile(file, 's3cret\n');
    assert.equal(readSecret({ API_TOKEN_FILE: file }, 'API_TOKEN'), 's3cret');
    assert.equal(readSecret({ API_TOKEN: 'direct' }, 'API_TOKEN'), 'direct');
    assert.equal(readSecret({}, 'API_TOKEN'), undefined);
    assert.throws(() => readSecret({ API_TOKEN: 'a', API_TOKEN_FILE: file }, 'API_TOKEN'), /both set/);
    assert.throws(() => readSecret({ API_TOKEN_FILE: path.join(dir, 'missing') }, 'API_TOKEN'), /API_TOKEN_FILE=.*cannot be read/);
    assert.equal(withSecrets({ API_TOKEN_FILE: file }, ['API_TOKEN']).API_TOKEN, 's3cret');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('redactConfig hides secret-looking keys only', () => {
  const shown = redactConfig({ port: 1, adminPassword: 'pw', github: { token: 't', appId: 3, privateKey: 'k' } });
  assert.deepEqual(shown, { port: 1, adminPassword: '[redacted]', github: { token: '[redacted]', appId: 3, privateKey: '[redacted]' } });
});
