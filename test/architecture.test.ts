// No service imports another service's files (docs/architecture.md, "Layering"): checked on
// this repository's source, and the checker itself on a small tree that breaks the rule in
// every way an import can be written.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers/repo-root.js';
import { serviceImportViolations } from './helpers/service-imports.js';

test('no file under services/<a>/ imports services/<b>/, and shared/ imports no service (only the wiring in services/*.ts imports several)', () => {
  const { violations, importsSeen } = serviceImportViolations(repoRoot());
  // The walk reached the source: a repository this size has thousands of imports.
  assert.ok(importsSeen > 1000, `only ${importsSeen} imports seen: is the walk looking in the right place?`);
  assert.deepEqual(
    violations.map((v) => `${v.file} imports ${v.specifier}`),
    [],
    'declare what a service needs from another as its own interface and let the wiring (services/*.ts) hand it in; put shared helpers in shared/',
  );
});

test('the checker catches every form of import across services and lets the allowed ones through', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-layering-'));
  try {
    const files: Record<string, string> = {
      'services/a/x.ts': [
        "import { b } from '../b/b.js';",
        "import type { B } from '../b/deep/t.js';",
        "export { c } from '../../services/c/c.js';",
        "import '../b/side.js';",
        "const lazy = await import('../c/lazy.js');",
        // allowed: the same service, shared/, packages, and a string that only looks like an import
        "import { y } from './y.js';",
        "import { s } from '../../shared/s.js';",
        "import { Hono } from 'hono';",
        "const text = 'not an import: from \"../b/b.js\"';",
      ].join('\n'),
      'services/a/sub/z.test.ts': "import { t } from '../../b/b.js';\nimport { h } from '../../../test/helpers/h.js';",
      'shared/s.ts': "import { a } from '../services/a/x.js';",
      'services/main.ts': "import { a } from './a/x.js';\nimport { b } from './b/b.js';",
      'services/b/b.ts': "export const b = 1;",
      'services/builder/templates/node/index.ts': "import { a } from '../../../a/x.js';",
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    }
    const found = serviceImportViolations(root).violations.map((v) => `${v.file} -> ${v.target}`).sort();
    assert.deepEqual(found, [
      'services/a/sub/z.test.ts -> services/b/b.js',
      'services/a/x.ts -> services/b/b.js',
      'services/a/x.ts -> services/b/deep/t.js',
      'services/a/x.ts -> services/b/side.js',
      'services/a/x.ts -> services/c/c.js',
      'services/a/x.ts -> services/c/lazy.js',
      'shared/s.ts -> services/a/x.js',
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
