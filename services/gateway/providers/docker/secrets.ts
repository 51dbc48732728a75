// Secrets are files under <stateDir>/secrets/<namespace>/<name>, bind-mounted read-only at
// /var/openfaas/secrets/<name> (OpenFaaS's path). Files are written in place so a running
// replica's mount sees the new value.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dnsLabelProblem } from '../../../../shared/names.js';
import { ProviderError, type Secret } from '../provider.js';

export class SecretStore {
  constructor(readonly dir: string) {}

  file(name: string, namespace: string): string {
    const problem = dnsLabelProblem(name) ?? dnsLabelProblem(namespace);
    if (problem) throw new ProviderError('invalid', `secret "${name}" in namespace "${namespace}": the name ${problem}`);
    return path.join(this.dir, namespace, name);
  }

  async exists(name: string, namespace: string): Promise<boolean> {
    return stat(this.file(name, namespace)).then(
      () => true,
      () => false,
    );
  }

  async list(namespace: string): Promise<Secret[]> {
    const names = await readdir(path.join(this.dir, namespace)).catch(() => [] as string[]);
    return names.sort().map((name) => ({ name, namespace }));
  }

  async write(secret: Secret, mustExist: boolean): Promise<void> {
    const file = this.file(secret.name, secret.namespace);
    const exists = await this.exists(secret.name, secret.namespace);
    if (mustExist && !exists) throw new ProviderError('not_found', `secret "${secret.name}" not found in namespace "${secret.namespace}"`);
    if (!mustExist && exists) throw new ProviderError('conflict', `secret "${secret.name}" already exists in namespace "${secret.namespace}"`);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Readable by the function's user inside the container; the directory keeps others out.
    await writeFile(file, secret.value ?? '', { mode: 0o644 });
  }

  async remove(name: string, namespace: string): Promise<void> {
    if (!(await this.exists(name, namespace))) throw new ProviderError('not_found', `secret "${name}" not found in namespace "${namespace}"`);
    await rm(this.file(name, namespace));
  }
}
