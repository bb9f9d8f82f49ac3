/** FNV-1a 32-bit hash: a stable seed from request content. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Splits text into pieces of 1–4 code points, cutting anywhere (mid-word, mid-line) like real tokens. */
export function splitPieces(text: string, random: () => number): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length;) {
    const n = 1 + Math.floor(random() * 4);
    pieces.push(chars.slice(i, i + n).join(''));
    i += n;
  }
  return pieces;
}

/** Rough, deterministic token estimate: one per non-ASCII char, one per 4 ASCII chars. */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let wide = 0;
  for (const ch of text) {
    if (ch.codePointAt(0)! < 128) ascii++;
    else wide++;
  }
  return wide + Math.ceil(ascii / 4);
}

/** Prompt tokens the way chat APIs count them: content plus a small per-message overhead. */
export function estimatePromptTokens(messages: { content: string }[]): number {
  return messages.reduce((n, m) => n + 4 + estimateTokens(m.content), 3);
}
