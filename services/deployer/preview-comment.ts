// The sticky comment's text: one per pull request, found again by its hidden marker and
// rewritten on every push and when the previews go.
import type { PreviewFunction } from './preview-store.js';

export const PREVIEW_MARKER = '<!-- gitfaas:preview -->';

const STATE_TEXT: Record<PreviewFunction['state'], string> = {
  deploying: 'deploying',
  live: 'live',
  failed: 'failed',
  removed: 'removed',
};

export interface CommentContent {
  sha: string;
  functions: PreviewFunction[];
  /** A line above the table: why there are no previews, or that they were removed. */
  note?: string;
  at?: Date;
}

export function previewComment(content: CommentContent): string {
  const when = (content.at ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [PREVIEW_MARKER, '### gitfaas preview', ''];
  if (content.note) lines.push(content.note, '');
  if (content.functions.length) {
    lines.push('| Function | Preview | State |', '| --- | --- | --- |');
    for (const fn of content.functions) {
      const link = fn.state === 'removed' || !fn.url ? `\`${fn.preview}\`` : `[${fn.preview}](${fn.url})`;
      const detail = fn.detail ? `: ${fn.detail.replace(/\|/g, '\\|').replace(/\s+/g, ' ')}` : '';
      lines.push(`| ${fn.name} | ${link} | ${STATE_TEXT[fn.state]}${detail} |`);
    }
    lines.push('');
  }
  lines.push(`Commit ${content.sha.slice(0, 7)}, updated ${when}. This comment is edited in place on every push.`);
  return `${lines.join('\n')}\n`;
}
