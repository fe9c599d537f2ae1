// "Every TypeScript block in README and docs is type-checked": the package tier
// compiles the blocks marked `<!-- snippet: path -->`; this keeps any unmarked
// ```ts block from slipping past it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectSnippets } from '../package/support/readme-snippets.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function documents(): Promise<string[]> {
  const docs = await readdir(join(REPO, 'docs'));
  return ['README.md', ...docs.filter((file) => file.endsWith('.md')).map((file) => join('docs', file))];
}

describe('documentation snippets', () => {
  it('every ```ts block of README.md and docs/*.md is marked as a snippet, so the package tier compiles it', async () => {
    const unmarked: string[] = [];
    for (const document of await documents()) {
      const lines = (await readFile(join(REPO, document), 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (/^```(ts|typescript)\s*$/.test(line) && !/^<!--\s*snippet:/.test(lines[index - 1] ?? '')) {
          unmarked.push(`${document}:${index + 1}`);
        }
      });
    }
    expect(unmarked).toEqual([]);
  });

  it('the snippets have unique targets and include the quick start and its test', async () => {
    const targets = (await collectSnippets(REPO)).map((snippet) => snippet.target);
    expect(new Set(targets).size).toBe(targets.length);
    expect(targets).toEqual(expect.arrayContaining(['src/app.module.ts', 'test/app.e2e-spec.ts']));
  });
});
