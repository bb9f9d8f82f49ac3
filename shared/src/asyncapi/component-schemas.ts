import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/** The id a schema was given with `.meta({ id })`. */
export const schemaId = (schema: z.ZodType): string => {
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id !== 'string') throw new Error('a documented schema needs .meta({ id })');
  return id;
};

/** Every `$ref` target named inside a JSON Schema. */
function refsOf(node: unknown, out: Set<string>, prefix: string): void {
  if (Array.isArray(node)) for (const n of node) refsOf(n, out, prefix);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) out.add(v.slice(prefix.length));
      else refsOf(v, out, prefix);
    }
  }
}

/**
 * JSON Schemas of `roots` and of every schema with an id they use, converted by zod's own
 * `z.toJSONSchema` with references pointing into `components/schemas` of the document.
 */
export function componentSchemas(
  roots: readonly z.ZodType[],
  target: 'draft-7' | 'draft-2020-12',
): Record<string, JsonSchema> {
  const prefix = '#/components/schemas/';
  const { schemas } = z.toJSONSchema(z.globalRegistry, { target, uri: (id) => `${prefix}${id}` }) as {
    schemas: Record<string, JsonSchema>;
  };
  const wanted = new Set(roots.map(schemaId));
  const out: Record<string, JsonSchema> = {};
  const todo = [...wanted];
  while (todo.length > 0) {
    const id = todo.pop()!;
    const { $id: _id, $schema: _schema, ...schema } = schemas[id] ?? {};
    out[id] = schema;
    const refs = new Set<string>();
    refsOf(schema, refs, prefix);
    for (const r of refs) {
      if (wanted.has(r)) continue;
      wanted.add(r);
      todo.push(r);
    }
  }
  return out;
}
