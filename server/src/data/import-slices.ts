import type { Slice } from '../db/import-staging.js';
import { parseImportWithLines, type ImportError, type ImportFormat } from './import-parser.js';

/** Rows per slice: one write transaction each, a few ms, so other work runs between them. */
export const SLICE_ROWS = 250;

/**
 * A parsed import as slices of at most {@link SLICE_ROWS} rows: the thread that writes them builds no
 * object per row, so its heap and its garbage collector barely notice 100,000 of them.
 */
export interface ImportSlices {
  /** The first bad rows, by line; `errorCount` says how many there were in all. */
  errors: ImportError[];
  errorCount: number;
  /** User rows of the file. */
  users: Slice[];
  /** Ids of users that behaviours name and the file has no row for. */
  mentioned: Slice[];
  /** Behaviour rows. */
  behaviours: Slice[];
  /** The line of each behaviour, in order across the slices. */
  behaviourLines: ArrayLike<number>;
  userCount: number;
  behaviourCount: number;
}

/**
 * Parses and validates an import (see {@link parseImportWithLines}) into {@link ImportSlices}, keeping
 * the first `keepErrors` errors.
 */
export function parseToSlices(text: string, format: ImportFormat, keepErrors = Infinity): ImportSlices {
  const parsed = parseImportWithLines(text, format);
  const inFile = new Set(parsed.users.map((u) => u.id));
  const mentioned = [...new Set(parsed.behaviours.map((b) => b.userId))].filter((id) => !inFile.has(id));
  return {
    errors: parsed.errors.slice(0, keepErrors),
    errorCount: parsed.errors.length,
    users: slices(parsed.users),
    mentioned: slices(mentioned),
    behaviours: slices(parsed.behaviours),
    behaviourLines: parsed.behaviourLines,
    userCount: parsed.users.length,
    behaviourCount: parsed.behaviours.length,
  };
}

function slices(items: unknown[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += SLICE_ROWS) out.push(JSON.stringify(items.slice(i, i + SLICE_ROWS)));
  return out;
}

const KINDS = ['users', 'mentioned', 'behaviours'] as const;

/** {@link ImportSlices} with every slice in one buffer, to be moved to another thread, not copied. */
export interface PackedSlices extends Omit<ImportSlices, (typeof KINDS)[number] | 'behaviourLines'> {
  bytes: ArrayBuffer;
  /** Where each slice of each kind ends in `bytes`. */
  ends: Record<(typeof KINDS)[number], number[]>;
  behaviourLines: Int32Array;
}

/**
 * Packs slices for `postMessage(packed, transfer)`. Copying them as strings instead cost the receiving
 * thread ~200 ms at 100,000 rows; a moved buffer costs it nothing.
 */
export function packSlices(s: ImportSlices): { packed: PackedSlices; transfer: ArrayBuffer[] } {
  const encoder = new TextEncoder();
  const parts = KINDS.map((k) =>
    s[k].map((slice) => (typeof slice === 'string' ? encoder.encode(slice) : slice)),
  );
  const bytes = new Uint8Array(parts.flat().reduce((n, p) => n + p.length, 0));
  let at = 0;
  const ends = parts.map((list) =>
    list.map((p) => {
      bytes.set(p, at);
      return (at += p.length);
    }),
  );
  const lines = Int32Array.from(s.behaviourLines);
  const packed: PackedSlices = {
    errors: s.errors,
    errorCount: s.errorCount,
    userCount: s.userCount,
    behaviourCount: s.behaviourCount,
    bytes: bytes.buffer,
    ends: { users: ends[0]!, mentioned: ends[1]!, behaviours: ends[2]! },
    behaviourLines: lines,
  };
  return { packed, transfer: [bytes.buffer, lines.buffer] };
}

/** The slices of {@link packSlices}, as views into the moved buffer. */
export function unpackSlices(p: PackedSlices): ImportSlices {
  let at = 0;
  const views = (ends: number[]) =>
    ends.map((end) => {
      const view = new Uint8Array(p.bytes, at, end - at);
      at = end;
      return view;
    });
  return {
    errors: p.errors,
    errorCount: p.errorCount,
    userCount: p.userCount,
    behaviourCount: p.behaviourCount,
    users: views(p.ends.users),
    mentioned: views(p.ends.mentioned),
    behaviours: views(p.ends.behaviours),
    behaviourLines: p.behaviourLines,
  };
}
