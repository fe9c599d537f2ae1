// The snippet convention of CONTRIBUTING.md: what the package tier extracts from
// README.md and docs/*.md, and the one documented edit for CommonJS + Jest apps.
import { describe, expect, it } from 'vitest';
import { forCommonJsJest, parseSnippets } from './support/readme-snippets.js';

describe('parseSnippets', () => {
  it('takes the ```ts block right after a marker, verbatim, with its target and origin', () => {
    const markdown = [
      '# Title',
      '',
      '<!-- snippet: src/app.module.ts -->',
      '```ts',
      "import { Module } from '@nestjs/common';",
      '',
      '  @Module({})',
      '```',
      '',
      '```ts',
      'unmarked();',
      '```',
    ].join('\n');
    expect(parseSnippets(markdown, 'README.md')).toEqual([
      {
        target: 'src/app.module.ts',
        code: "import { Module } from '@nestjs/common';\n\n  @Module({})\n",
        origin: 'README.md:3',
      },
    ]);
  });

  it.each([
    ['a marker not followed by a ts fence', '<!-- snippet: src/a.ts -->\n\n```ts\nx\n```', 'must be followed directly by a ```ts fence'],
    ['an unclosed block', '<!-- snippet: src/a.ts -->\n```ts\nx', 'is never closed'],
    ['a target outside the app', '<!-- snippet: ../a.ts -->\n```ts\nx\n```', 'must be a relative path inside the app'],
  ])('rejects %s, naming the document and line', (_, markdown, message) => {
    expect(() => parseSnippets(markdown, 'docs/x.md')).toThrow(`docs/x.md:1: `);
    expect(() => parseSnippets(markdown, 'docs/x.md')).toThrow(message);
  });
});

describe('forCommonJsJest', () => {
  it('drops .js from relative imports only', () => {
    const code = [
      "import { AppModule } from '../src/app.module.js';",
      "import { x } from './x.js';",
      "import { y } from 'some-package/y.js';",
    ].join('\n');
    expect(forCommonJsJest(code)).toBe(
      ["import { AppModule } from '../src/app.module';", "import { x } from './x';", "import { y } from 'some-package/y.js';"].join(
        '\n',
      ),
    );
  });
});
