// Real git repositories on disk for builder tests: a bare repository (the "remote", served
// over HTTP by git-http-server.ts, or cloned through its file:// URL by clone.test.ts) and
// a working copy that commits and pushes to it.
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

export type FileTree = Record<string, string | { symlink: string } | null>;

export class TestRepo {
  readonly bare: string;
  readonly work: string;
  private gitClient: SimpleGit | undefined;

  private constructor(readonly root: string, bare?: string) {
    this.bare = bare ?? path.join(root, 'remote.git');
    this.work = path.join(root, 'work');
  }

  private get git(): SimpleGit {
    this.gitClient ??= simpleGit({ baseDir: this.work });
    return this.gitClient;
  }

  /** A repository under `root`; the bare one at `bare` when given (e.g. SERVED/<owner>/<name>.git). */
  static async create(root: string, bare?: string): Promise<TestRepo> {
    const repo = new TestRepo(root, bare);
    await mkdir(repo.bare, { recursive: true });
    await mkdir(repo.work, { recursive: true });
    await simpleGit({ baseDir: repo.bare }).init(true, ['--initial-branch=main']);
    await repo.git.init(['--initial-branch=main']);
    await repo.git.addConfig('user.name', 'gitfaas test');
    await repo.git.addConfig('user.email', 'test@gitfaas.invalid');
    await repo.git.addRemote('origin', repo.bare);
    return repo;
  }

  get url(): string {
    return `file://${this.bare}`;
  }

  /** Writes (or, with null, deletes) files, commits, pushes; returns the commit's sha. */
  async commit(files: FileTree, message = 'change'): Promise<string> {
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(this.work, rel);
      await rm(file, { recursive: true, force: true });
      if (content === null) continue;
      await mkdir(path.dirname(file), { recursive: true });
      if (typeof content === 'string') await writeFile(file, content);
      else await symlink(content.symlink, file);
    }
    await this.git.raw(['add', '-A']);
    await this.git.commit(message, { '--allow-empty': null });
    await this.git.push('origin', 'main');
    return (await this.git.revparse(['HEAD'])).trim();
  }
}
