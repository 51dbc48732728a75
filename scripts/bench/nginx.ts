// nginx (Debian's) as the baseline reverse proxy: one worker, a keep-alive upstream, its own
// config, pid, logs and temp paths in a directory of ours, listening on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface RunningNginx {
  url: string;
  /** The master's; its worker is its child. */
  pid: number;
  stop(): Promise<void>;
}

export function nginxConfig(dir: string, port: number, upstream: URL): string {
  return `# written by scripts/bench/nginx.ts
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fn {
    server ${upstream.host};
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 100000;
    location / {
      proxy_pass http://fn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
}

/** Starts nginx in front of `upstream`; stop() ends it by its pid. */
export async function startNginx(dir: string, port: number, upstream: URL): Promise<RunningNginx> {
  await mkdir(dir, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, nginxConfig(dir, port, upstream));
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => console.error(`nginx: ${err.message}`));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      await exited;
    },
  };
}
