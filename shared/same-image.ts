// Whether a function reports the image a deploy asked for: the same reference, or (for a
// deploy pinned by digest) any reference the backend reports with that digest.
export function sameImage(reported: string | undefined, deployed: string): boolean {
  if (!reported) return false;
  if (reported === deployed) return true;
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(deployed)?.[1];
  return digest !== undefined && reported.endsWith(digest);
}
