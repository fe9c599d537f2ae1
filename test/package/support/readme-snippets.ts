// Extracts the marked TypeScript blocks of README.md and docs/*.md, so the package
// tier compiles and runs exactly what the documentation shows. The convention
// (see CONTRIBUTING.md): an HTML comment right before a ```ts fence,
//
//   <!-- snippet: src/app.module.ts -->
//   ```ts
//   …
//   ```
//
// names the file, relative to a consumer app's root, that the block becomes.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface Snippet {
  /** Where the block goes in a consumer app, e.g. `src/app.module.ts`. */
  readonly target: string;
  /** The block's text, verbatim. */
  readonly code: string;
  /** `README.md:53`: the document and the line of the marker. */
  readonly origin: string;
}

const MARKER = /^<!--\s*snippet:\s*(\S+)\s*-->\s*$/;
const OPEN_FENCE = /^```(ts|typescript)\s*$/;

/** The snippets of one Markdown text; throws on a marker without a ```ts block after it. */
export function parseSnippets(markdown: string, document: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const marker = MARKER.exec(lines[index] ?? '');
    if (marker === null) continue;
    const origin = `${document}:${index + 1}`;
    const target = marker[1] as string;
    if (target.startsWith('/') || target.split('/').includes('..')) {
      throw new Error(`${origin}: snippet target "${target}" must be a relative path inside the app`);
    }
    if (!OPEN_FENCE.test(lines[index + 1] ?? '')) {
      throw new Error(`${origin}: "snippet: ${target}" must be followed directly by a \`\`\`ts fence`);
    }
    const close = lines.findIndex((line, at) => at > index + 1 && line.trimEnd() === '```');
    if (close === -1) throw new Error(`${origin}: the \`\`\`ts block after "snippet: ${target}" is never closed`);
    snippets.push({ target, code: `${lines.slice(index + 2, close).join('\n')}\n`, origin });
    index = close;
  }
  return snippets;
}

/** Every snippet of README.md and docs/*.md under `repo`; targets must be unique. */
export async function collectSnippets(repo: string): Promise<Snippet[]> {
  const documents = [join(repo, 'README.md')];
  const docs = await readdir(join(repo, 'docs')).catch(() => [] as string[]);
  documents.push(...docs.filter((file) => file.endsWith('.md')).sort().map((file) => join(repo, 'docs', file)));
  const snippets: Snippet[] = [];
  for (const document of documents) {
    snippets.push(...parseSnippets(await readFile(document, 'utf8'), relative(repo, document)));
  }
  const seen = new Map<string, string>();
  for (const snippet of snippets) {
    const earlier = seen.get(snippet.target);
    if (earlier !== undefined) throw new Error(`${snippet.origin}: snippet target ${snippet.target} is also used at ${earlier}`);
    seen.set(snippet.target, snippet.origin);
  }
  return snippets;
}

/**
 * The one edit a CommonJS app tested with Jest needs, as the README says: relative
 * imports without the `.js` extension (Jest does not map `.js` to `.ts`).
 */
export function forCommonJsJest(code: string): string {
  return code.replace(/(from\s+'\.{1,2}\/[^']*?)\.js'/g, "$1'");
}
