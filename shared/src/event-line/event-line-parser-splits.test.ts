import { describe, expect, it } from 'vitest';
import { EventLineParser } from './event-line-parser.js';
import { CTX, SAMPLE, seededRandom } from './test-fixtures.js';
import type { ParsedLine } from './validate-event-line.js';

interface Outcome {
  results: ParsedLine[];
  covered: string[];
  lineNo: number;
}

/** Feeds the chunks in order, then ends the stream. */
function feed(chunks: string[]): Outcome {
  const p = new EventLineParser(CTX);
  const results = [...chunks.flatMap((c) => p.push(c)), ...p.end()];
  return { results, covered: [...p.covered].sort(), lineNo: p.lineNo };
}

/** Decodes byte chunks the way a fetch body reader would, one streaming decoder for the whole body. */
function decodeChunks(byteChunks: Uint8Array[]): string[] {
  const decoder = new TextDecoder('utf-8');
  return [...byteChunks.map((b) => decoder.decode(b, { stream: true })), decoder.decode()];
}

const WHOLE = feed([SAMPLE]);
const BYTES = new TextEncoder().encode(SAMPLE);

describe('EventLineParser split-point independence', () => {
  it('has a sample that exercises the interesting split points', () => {
    expect(WHOLE.results.map((r) => r.kind)).toContain('event');
    expect(WHOLE.results.map((r) => r.kind)).toContain('rejected');
    expect(WHOLE.results.map((r) => r.kind)).toContain('blank');
    expect(WHOLE.lineNo).toBe(8);
    expect(SAMPLE).toContain('\r\n');
    expect(SAMPLE).toMatch(/[\uD800-\uDBFF]/); // a surrogate pair can be split in UTF-16
    expect(BYTES.some((b) => b >= 0x80 && b < 0xc0)).toBe(true); // UTF-8 continuation bytes exist
  });

  it('gives the same results for every 2-way split of the string', () => {
    for (let i = 0; i <= SAMPLE.length; i++) {
      expect(feed([SAMPLE.slice(0, i), SAMPLE.slice(i)]), `split at ${i}`).toEqual(WHOLE);
    }
  });

  it('gives the same results for seeded random 3-way splits', () => {
    const random = seededRandom(20260115);
    for (let n = 0; n < 500; n++) {
      const [a, b] = [random(), random()]
        .map((x) => Math.floor(x * (SAMPLE.length + 1)))
        .sort((x, y) => x - y);
      const chunks = [SAMPLE.slice(0, a), SAMPLE.slice(a, b), SAMPLE.slice(b)];
      expect(feed(chunks), `split at ${a}, ${b}`).toEqual(WHOLE);
    }
  });

  it('gives the same results one character at a time', () => {
    expect(feed([...SAMPLE.split('')])).toEqual(WHOLE);
  });

  it('gives the same results for UTF-8 bytes split at every offset, without U+FFFD', () => {
    let insideChar = 0;
    for (let i = 0; i <= BYTES.length; i++) {
      if ((BYTES[i] ?? 0) >= 0x80 && (BYTES[i] ?? 0) < 0xc0) insideChar++;
      const chunks = decodeChunks([BYTES.subarray(0, i), BYTES.subarray(i)]);
      expect(chunks.join(''), `byte split at ${i}`).not.toContain('\uFFFD');
      const outcome = feed(chunks);
      expect(JSON.stringify(outcome)).not.toContain('\uFFFD');
      expect(outcome, `byte split at ${i}`).toEqual(WHOLE);
    }
    expect(insideChar).toBeGreaterThan(50);
  });

  it('gives the same results one UTF-8 byte at a time', () => {
    const chunks = decodeChunks([...BYTES].map((b) => Uint8Array.of(b)));
    expect(chunks.join('')).toBe(SAMPLE);
    expect(feed(chunks)).toEqual(WHOLE);
  });

  it('rebuilds the same state from any stored prefix', () => {
    for (let i = 0; i <= SAMPLE.length; i++) {
      const { parser, results } = EventLineParser.fromText(CTX, SAMPLE.slice(0, i));
      const rest = [...parser.push(SAMPLE.slice(i)), ...parser.end()];
      expect([...results, ...rest], `prefix ${i}`).toEqual(WHOLE.results);
    }
  });
});
