/** Rough token count when the upstream reports none (cancelled runs): one per CJK char, one per 4 others. */
export function estimateTokens(text: string): number {
  let cjk = 0;
  for (const ch of text) if (ch.charCodeAt(0) > 0x2e7f) cjk++;
  return cjk + Math.ceil((text.length - cjk) / 4);
}
