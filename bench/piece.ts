/**
 * The bench's piece format. A piece's text is `<index>@<send time>;` (send time on the shared clock,
 * ms) and every LINE_EVERY-th piece also ends its line with `\n`, so a relay's event-line parser sees
 * lines of realistic length (rejected as prose: real work too). Clients read the send time back.
 */
export const LINE_EVERY = 10;

/** The text of piece `i` sent at `sentAt`. */
export function pieceText(i: number, sentAt: number): string {
  return `${i}@${sentAt.toFixed(3)};${(i + 1) % LINE_EVERY === 0 ? '\n' : ''}`;
}

/** Reads a piece back: its index and send time, or null when the text is not a bench piece. */
export function readPiece(text: string): { index: number; sentAt: number } | null {
  const at = text.indexOf('@');
  const end = text.indexOf(';', at);
  if (at < 1 || end < 0) return null;
  return { index: Number(text.slice(0, at)), sentAt: Number(text.slice(at + 1, end)) };
}
