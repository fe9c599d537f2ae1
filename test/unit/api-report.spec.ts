import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The public surface, compared with the checked-in report so it cannot grow (or
 * shrink) by accident. After an intended change, regenerate and commit the report:
 *
 *   UPDATE_API_REPORT=1 npx vitest run test/unit/api-report.spec.ts
 */
const REPORT_FILE = fileURLToPath(new URL('../../etc/nestjs-tenancy.api.txt', import.meta.url));
const UPDATE_HINT =
  'The public API changed. If intended, regenerate the report with ' +
  '`UPDATE_API_REPORT=1 npx vitest run test/unit/api-report.spec.ts` and commit etc/nestjs-tenancy.api.txt';

const ENTRIES = [
  { name: 'nestjs-tenancy', source: '../../src/index.ts', load: () => import('nestjs-tenancy') },
  { name: 'nestjs-tenancy/testing', source: '../../src/testing/index.ts', load: () => import('nestjs-tenancy/testing') },
  { name: 'nestjs-tenancy/terminus', source: '../../src/terminus/index.ts', load: () => import('nestjs-tenancy/terminus') },
] as const;

const POLLER_SOURCE = '../../src/tenancy.poller.ts';

function parse(relative: string): ts.SourceFile {
  const file = fileURLToPath(new URL(relative, import.meta.url));
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** Names an entry file exports, split by kind, read from its export statements. */
function declaredExports(source: ts.SourceFile): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      // `export * from` would let anything a file exports leak into the API.
      if (!clause || !ts.isNamedExports(clause)) throw new Error(`${source.fileName}: use named exports, not export *`);
      for (const element of clause.elements) {
        (statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
      }
      continue;
    }
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) types.push(statement.name.text);
    else if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) {
      values.push(statement.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) values.push(declaration.name.text);
      }
    }
  }
  return { values, types };
}

/** Members of TenancyPoller a user can call: neither private nor protected. */
function publicPollerMembers(): string[] {
  const source = parse(POLLER_SOURCE);
  const poller = source.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'TenancyPoller',
  );
  if (!poller) throw new Error('class TenancyPoller not found in src/tenancy.poller.ts');
  const hidden = (node: ts.Node) =>
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some(
      (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
    );
  const names = new Set<string>();
  for (const member of poller.members) {
    if (ts.isConstructorDeclaration(member)) {
      // Constructor parameter properties without `private` are public fields.
      for (const parameter of member.parameters) {
        const isProperty = (ts.getModifiers(parameter) ?? []).some((m) =>
          [ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.ReadonlyKeyword].includes(m.kind),
        );
        if (isProperty && !hidden(parameter) && ts.isIdentifier(parameter.name)) names.add(parameter.name.text);
      }
      continue;
    }
    if (hidden(member) || !member.name) continue;
    if (ts.isPrivateIdentifier(member.name)) continue;
    names.add(member.name.getText(source));
  }
  return [...names].sort();
}

async function currentReport(): Promise<string> {
  const lines = [
    '# Public API of nestjs-tenancy: exported names per entry point and the members of TenancyPoller.',
    '# Checked by test/unit/api-report.spec.ts. After an intended change, regenerate with',
    '#   UPDATE_API_REPORT=1 npx vitest run test/unit/api-report.spec.ts',
  ];
  for (const entry of ENTRIES) {
    const runtime = Object.keys(await entry.load()).sort();
    const { values, types } = declaredExports(parse(entry.source));
    // The parsed value exports and the module's runtime keys must agree, or the parser missed something.
    expect(values.sort(), `value exports of ${entry.name}: parsed vs runtime`).toEqual(runtime);
    lines.push('', `## ${entry.name}`, ...runtime, ...types.sort().map((t) => `type ${t}`));
  }
  const members = publicPollerMembers();
  // Each public method or accessor must exist at runtime (guards the parser, too).
  const { TenancyPoller } = await import('nestjs-tenancy');
  const onPrototype = new Set(Object.getOwnPropertyNames(TenancyPoller.prototype));
  for (const member of members) expect(onPrototype.has(member), `TenancyPoller.prototype.${member}`).toBe(true);
  lines.push('', '## TenancyPoller members', ...members);
  return `${lines.join('\n')}\n`;
}

describe('API report', () => {
  it('matches etc/nestjs-tenancy.api.txt', async () => {
    const current = await currentReport();
    if (process.env.UPDATE_API_REPORT === '1') writeFileSync(REPORT_FILE, current);
    const checkedIn = readFileSync(REPORT_FILE, 'utf8');
    expect(current, UPDATE_HINT).toBe(checkedIn);
  });

  it('keeps the options token internal', async () => {
    const root = await import('nestjs-tenancy');
    expect(Object.keys(root)).not.toContain('TENANCY_MODULE_OPTIONS');
    expect(Object.keys(root)).toContain('TenancyModule');
  });
});
