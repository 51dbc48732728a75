// Image references as Docker and BuildKit read them (distribution/reference's grammar and
// its normalisation: `node:20` is docker.io/library/node:20), and the set of images a
// tenant's build may start from or copy out of: the template base images, the operator's
// allowlist (GITFAAS_BUILD_ALLOWED_IMAGES) and the tenant's own namespace in the registry.

export interface ImageRef {
  /** Registry host[:port], docker.io when none is written. */
  domain: string;
  /** Repository path, `library/` added for a single docker.io component. */
  path: string;
  tag?: string;
  digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Parses and normalises a reference; undefined when it does not fit the grammar. */
export function parseImageRef(text: string): ImageRef | undefined {
  const m = REFERENCE.exec(text);
  if (!m || m[1].length > 255) return undefined;
  const name = m[1];
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  // The first component is a registry when it looks like a host: a dot, a port or localhost.
  const hasDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = hasDomain ? first : 'docker.io';
  let path = hasDomain ? name.slice(slash + 1) : name;
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`).test(path)) return undefined;
  return { domain, path, tag: m[2], digest: m[3] };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** One entry of the allowed set: an exact reference, any tag of a repository, or a prefix. */
type Rule = { kind: 'exact'; ref: ImageRef } | { kind: 'repository'; name: string } | { kind: 'prefix'; prefix: string };

export interface ImagePolicy {
  /** Why the reference may not be used, or undefined when it may. */
  problem(reference: string): string | undefined;
  /** The allowed set, for messages and docs. */
  describe(): string;
}

/**
 * The images a build may use. `allowed` entries: `REPO` (any tag or digest of it),
 * `REPO:TAG` / `REPO@DIGEST` (exactly that), `PREFIX/*` (anything under it). The own
 * namespace is `REGISTRY/NAMESPACE/*`. Names are compared after normalisation, so another
 * spelling of an allowed image is allowed and another registry host (localhost:5000 for
 * 127.0.0.1:5000) is not.
 */
export function imagePolicy(opts: { baseImages: string[]; allowed: string[]; registry: string; namespace: string }): ImagePolicy {
  const rules: Rule[] = [];
  const texts: string[] = [];
  const add = (entry: string, exactOnly: boolean) => {
    if (entry.endsWith('/*')) {
      const prefix = parseImageRef(entry.slice(0, -2));
      if (prefix) rules.push({ kind: 'prefix', prefix: `${prefix.domain}/${prefix.path}/` });
    } else {
      const ref = parseImageRef(entry);
      if (!ref) return;
      if (!exactOnly && !ref.tag && !ref.digest) rules.push({ kind: 'repository', name: `${ref.domain}/${ref.path}` });
      else rules.push({ kind: 'exact', ref: { ...ref, tag: ref.tag ?? (ref.digest ? undefined : 'latest') } });
    }
    texts.push(entry);
  };
  for (const image of opts.baseImages) add(image, true);
  for (const image of opts.allowed) add(image, false);
  add(`${opts.registry}/${opts.namespace}/*`, false);
  return {
    describe: () => texts.join(', '),
    problem(reference) {
      if (reference.toLowerCase() === 'scratch') return undefined;
      const ref = parseImageRef(reference);
      if (!ref) return `"${reference}" is not a valid image reference`;
      const name = `${ref.domain}/${ref.path}`;
      const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
      const ok = rules.some((rule) => {
        if (rule.kind === 'prefix') return name.startsWith(rule.prefix);
        if (rule.kind === 'repository') return name === rule.name;
        const want = rule.ref;
        return `${want.domain}/${want.path}` === name && want.tag === tag && (want.digest === undefined || want.digest === ref.digest);
      });
      return ok ? undefined : `image "${reference}" is not one this build may use (allowed: ${texts.join(', ')})`;
    },
  };
}
