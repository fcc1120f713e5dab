import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ReadmeExample {
  /** The shell statement as the README writes it (continuation lines joined). */
  command: string;
  /** The `# → {...}` line after it, when the README shows the answer. */
  expected?: string;
}

/**
 * The curl examples of the README's *Quick start*, read from README.md itself so that the contract test runs what a
 * new user copies (and fails when the README drifts from the API). A statement ends where its quotes are balanced
 * and it does not continue with `|` or `\`; variable assignments (`KEY`, `B`) are left to the caller.
 */
export function readmeExamples(readme = readFileSync(join(root, 'README.md'), 'utf8')): ReadmeExample[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  const block = section && /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no bash block under "## Quick start"');
  const examples: ReadmeExample[] = [];
  let pending = '';
  for (const line of block.split('\n')) {
    if (!pending) {
      const arrow = /^#\s*→\s*(.*)$/.exec(line.trim());
      if (arrow && examples.length) examples[examples.length - 1]!.expected = arrow[1];
      if (!line.trim() || line.trim().startsWith('#') || /^(export\s+)?[A-Z_]+=/.test(line.trim())) continue;
    }
    pending = pending ? `${pending}\n${line}` : line;
    const quotes = (pending.match(/'/g) ?? []).length;
    if (quotes % 2 === 0 && !/[|\\]\s*$/.test(line)) {
      examples.push({ command: pending });
      pending = '';
    }
  }
  if (pending) throw new Error(`README.md: unterminated statement in Quick start: ${pending}`);
  return examples;
}
