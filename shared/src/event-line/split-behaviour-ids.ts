/**
 * Splits a `source_behavior_ids` field on `,` or the full-width `，`, trimming each id,
 * dropping empty ones and collapsing duplicates (first occurrence wins).
 */
export function splitBehaviourIds(field: string): string[] {
  const ids = field
    .split(/[,，]/)
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return [...new Set(ids)];
}
