// Image references checked against the grammar of github.com/distribution/reference (the
// one the Docker engine and registries use) before one reaches an engine: a malformed
// reference is a 400 naming the problem, never a request the engine answers in surprising
// ways (a 301 for "127.0.0.1:5000//x" made docker-modem's redirect follower crash the
// process).
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [domain "/"] path-component ["/" path-component]*
//   domain         := host [":" port]          host := domain-name | IPv4 | "[" IPv6 "]"
//   path-component := [a-z0-9]+ (separator [a-z0-9]+)*     separator := [_.] | "__" | "-"+
//   tag            := [\w][\w.-]{0,127}
//   digest         := algorithm ":" hex        (sha256: 64 hex, sha512: 128 hex)

/** distribution/reference's NameTotalLengthMax. */
export const MAX_NAME_LENGTH = 255;
/** A whole reference (name, tag and digest) longer than this is refused outright. */
const MAX_REFERENCE_LENGTH = MAX_NAME_LENGTH + 1 + 128 + 1 + 7 + 1 + 128;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export interface ImageReference {
  /** The registry host (and port) when the reference names one. */
  domain?: string;
  /** The repository path within the registry. */
  path: string;
  tag?: string;
  digest?: string;
}

/** Why `ref` is not a valid image reference, or undefined when it is. */
export function imageReferenceProblem(ref: string): string | undefined {
  const result = parse(ref);
  return typeof result === 'string' ? result : undefined;
}

/** The parts of a valid reference; throws an Error naming the problem otherwise. */
export function parseImageReference(ref: string): ImageReference {
  const result = parse(ref);
  if (typeof result === 'string') throw new Error(`image "${shown(ref)}" ${result}`);
  return result;
}

/** A reference cut short for an error message (a 10 kB reference must not flood logs). */
export function shown(ref: string): string {
  return ref.length > 80 ? `${ref.slice(0, 80)}…` : ref;
}

function parse(ref: string): ImageReference | string {
  if (ref.length === 0) return 'is empty';
  if (ref.length > MAX_REFERENCE_LENGTH) return `is ${ref.length} characters long; at most ${MAX_REFERENCE_LENGTH} are allowed`;
  if (/\s/.test(ref)) return 'contains whitespace';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return 'is a URL; give a reference such as registry.example.com/team/app:1.0, without a scheme';
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) return problem;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `has an invalid tag "${shown(tag)}": a tag is 1 to 128 of letters, digits, "_", "." and "-", not starting with "." or "-"`;
  }
  if (rest.length === 0) return 'has no repository name';
  if (rest.length > MAX_NAME_LENGTH) return `has a repository name of ${rest.length} characters; at most ${MAX_NAME_LENGTH} are allowed`;
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost' || /[A-Z]/.test(parts[0]))) {
    domain = parts.shift();
    const problem = domainProblem(domain!);
    if (problem) return problem;
  }
  for (const component of parts) {
    if (component === '') return 'has an empty path component ("//" or a leading or trailing "/")';
    if (component === '.' || component === '..') return `has a "${component}" path component`;
    if (/[A-Z]/.test(component)) return `has an uppercase path component "${shown(component)}": repository names must be lowercase`;
    if (!PATH_COMPONENT.test(component)) {
      return `has an invalid path component "${shown(component)}": use lowercase letters and digits separated by ".", "_", "__" or "-"`;
    }
  }
  return { domain, path: parts.join('/'), tag, digest };
}

function domainProblem(domain: string): string | undefined {
  const portAt = domain.startsWith('[') ? domain.indexOf(']:') + 1 : domain.lastIndexOf(':');
  const host = portAt > 0 ? domain.slice(0, portAt) : domain;
  const port = portAt > 0 ? domain.slice(portAt + 1) : undefined;
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) return `has an invalid registry port "${port}"`;
  if (IPV6_HOST.test(host)) return undefined;
  if (host === '' || !host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return `has an invalid registry host "${shown(host)}"`;
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `has an invalid digest "${shown(digest)}": expected algorithm:hex, e.g. sha256: and 64 hex digits`;
  const [algorithm, hex] = digest.split(':');
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (want !== undefined && hex.length !== want) return `has an invalid ${algorithm} digest: expected ${want} hex digits, got ${hex.length}`;
  return undefined;
}
