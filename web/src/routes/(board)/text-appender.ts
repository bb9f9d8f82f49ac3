/**
 * Splits growing model text into finished lines and the line still being written, reusing the previous
 * split when the text only grew (the usual case while streaming): each update costs the new characters,
 * not the whole text. Lines keep their "\n", so joining them gives the text back exactly.
 */
export class TextLines {
  lines: string[] = [];
  tail = '';
  private text = '';

  update(text: string): boolean {
    if (text === this.text) return false;
    let fresh: string;
    if (text.length > this.text.length && text.startsWith(this.text)) {
      fresh = this.tail + text.slice(this.text.length);
    } else {
      this.lines = [];
      fresh = text;
    }
    this.text = text;
    let start = 0;
    let nl = fresh.indexOf('\n');
    if (nl !== -1) this.lines = this.lines.slice();
    while (nl !== -1) {
      this.lines.push(fresh.slice(start, nl + 1));
      start = nl + 1;
      nl = fresh.indexOf('\n', start);
    }
    this.tail = fresh.slice(start);
    return true;
  }
}
