// The one way services open the Docker engine API. docker-modem follows HTTP redirects
// with a vendored follower whose follow-up request has no 'error' listener: the engine
// answers some malformed paths with a 301 whose target cannot be resolved, and the
// unhandled 'error' event took the whole process down. The engine API never needs a
// redirect, so following none turns every redirect into an error on the original request,
// which dockerode reports to its caller like any other failure.
import Docker from 'dockerode';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
(require('docker-modem/lib/http.js') as { maxRedirects: number }).maxRedirects = 0;

export function dockerEngine(socketPath = '/var/run/docker.sock'): Docker {
  return new Docker({ socketPath });
}
