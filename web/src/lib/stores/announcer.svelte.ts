/**
 * Text for the polite live region: status changes only (never tokens), so a screen reader hears
 * "user_0001：已完成" and not a stream of characters.
 */
class Announcer {
  message = $state('');
  private flip = false;

  say(text: string): void {
    // The same sentence twice in a row must still be read: alternate an invisible suffix.
    this.flip = !this.flip;
    this.message = this.flip ? text : `${text}\u200b`;
  }
}

export const announcer = new Announcer();
