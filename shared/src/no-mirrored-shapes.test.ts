import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as shared from './index.js';

/**
 * The protocol and the REST shapes are declared once, as zod schemas in shared/. This test fails when
 * web/ or server/ declares an interface or object type with the same fields as one of them: import the
 * type from `@app/shared` (it is `z.infer` of the schema) instead of writing it again.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['web/src', 'server/src'];
/**
 * Declarations still to be replaced by the shared type (`file name`), each a one-line change in code
 * being reworked now. The list may only shrink: an entry that no longer mirrors fails the test.
 */
const NOT_YET_MOVED = new Set<string>([]);

/** Field names of every object schema shared exports (union members included), by type name. */
function schemaShapes(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, s: unknown) => {
    if (s instanceof z.ZodObject) out.set(name, new Set(Object.keys(s.shape as object)));
    if (s instanceof z.ZodDiscriminatedUnion)
      for (const o of s.options) add(String(z.globalRegistry.get(o)?.id ?? `${name} member`), o);
  };
  for (const [key, value] of Object.entries(shared)) {
    if (!key.endsWith('Schema')) continue;
    const name = key.replace(/Schema$/, '').replace(/^./, (c) => c.toUpperCase());
    add(String(z.globalRegistry.get(value as z.ZodType)?.id ?? name), value);
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(path);
    return /\.(ts|svelte)$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [path] : [];
  });
}

/** TypeScript of a file: a .svelte file's `<script lang="ts">` blocks. */
const sourceOf = (path: string, text: string): string =>
  path.endsWith('.svelte')
    ? [...text.matchAll(/<script[^>]*lang="ts"[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n')
    : text;

interface Declared {
  where: string;
  name: string;
  fields: Set<string>;
}

/** Named object shapes: interfaces (with the fields of shared types they extend) and type literals. */
function declarations(path: string, shapes: Map<string, Set<string>>): Declared[] {
  const file = ts.createSourceFile(
    path,
    sourceOf(path, readFileSync(join(ROOT, path), 'utf8')),
    ts.ScriptTarget.Latest,
  );
  const out: Declared[] = [];
  const fieldsOf = (members: ts.NodeArray<ts.TypeElement>) =>
    members.flatMap((m) =>
      ts.isPropertySignature(m) && m.name && ts.isIdentifier(m.name) ? [m.name.text] : [],
    );
  const where = (n: ts.Node) => `${path}:${file.getLineAndCharacterOfPosition(n.getStart(file)).line + 1}`;
  const literals = (name: string, t: ts.TypeNode) => {
    if (ts.isTypeLiteralNode(t)) out.push({ where: where(t), name, fields: new Set(fieldsOf(t.members)) });
    // Not an intersection's parts: `Known & { extra }` adds to a type, it does not declare one.
    if (ts.isUnionTypeNode(t)) for (const m of t.types) literals(name, m);
  };
  const visit = (n: ts.Node) => {
    if (ts.isInterfaceDeclaration(n)) {
      const inherited = (n.heritageClauses ?? []).flatMap((h) =>
        h.types.flatMap((t) => [...(shapes.get(t.expression.getText(file)) ?? [])]),
      );
      out.push({
        where: where(n),
        name: n.name.text,
        fields: new Set([...fieldsOf(n.members), ...inherited]),
      });
    } else if (ts.isTypeAliasDeclaration(n)) literals(n.name.text, n.type);
    // A database row is a storage shape (JSON in text columns, snake_case), not the wire's.
    if (out.at(-1)?.name.endsWith('Row')) out.pop();
    ts.forEachChild(n, visit);
  };
  visit(file);
  return out;
}

/** Same fields, or nearly (at most one field more or less, of four or more). */
function mirrors(a: Set<string>, b: Set<string>): boolean {
  const common = [...a].filter((k) => b.has(k)).length;
  const differ = a.size + b.size - 2 * common;
  return common >= 2 && (differ === 0 || (common >= 4 && differ <= 1));
}

describe('no REST or protocol shape is declared twice', () => {
  it('web/ and server/ declare no interface or object type mirroring a shared schema', () => {
    const shapes = schemaShapes();
    expect(shapes.size).toBeGreaterThan(30);
    const found: string[] = [];
    const waiting = new Set<string>();
    for (const path of SCANNED.flatMap(filesUnder)) {
      for (const d of declarations(path, shapes)) {
        for (const [schema, fields] of shapes) {
          if (!mirrors(d.fields, fields)) continue;
          if (NOT_YET_MOVED.has(`${path} ${d.name}`)) waiting.add(`${path} ${d.name}`);
          else found.push(`${d.where} ${d.name} mirrors ${schema}`);
        }
      }
    }
    expect(found).toEqual([]);
    expect([...NOT_YET_MOVED].filter((k) => !waiting.has(k))).toEqual([]);
  });

  it('would catch one: an interface with the fields of RunSummary, or of an ack', () => {
    const shapes = schemaShapes();
    const summary = new Set(Object.keys(shared.runSummarySchema.shape));
    expect(mirrors(summary, shapes.get('RunSummary')!)).toBe(true);
    summary.delete('truncated');
    expect(mirrors(summary, shapes.get('RunSummary')!)).toBe(true);
    expect(
      mirrors(new Set(['type', 'op', 'requestId', 'runId', 'lastSeq', 'status']), shapes.get('Ack')!),
    ).toBe(true);
    expect(mirrors(new Set(['type', 'requestId']), shapes.get('Pong')!)).toBe(true);
    expect(mirrors(new Set(['runId', 'userId', 'somethingElse']), shapes.get('StartRunResponse')!)).toBe(
      false,
    );
  });

  it('scans the files it should', () => {
    const files = SCANNED.flatMap(filesUnder).map((f) => relative(ROOT, join(ROOT, f)));
    expect(files).toEqual(expect.arrayContaining(['web/src/lib/api.ts', 'server/src/ws/channel.ts']));
  });
});
