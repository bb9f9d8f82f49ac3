export type ToastKind = 'success' | 'error' | 'info' | 'warning';

export interface Toast {
  id: number;
  kind: ToastKind;
  /** Read at render time, so a toast already shown follows a language switch. */
  text: () => string;
}

const MAX_VISIBLE = 5;

/** Transient notifications; each disappears after a while or when dismissed. */
class ToastStore {
  items = $state<Toast[]>([]);
  private next = 1;

  push(kind: ToastKind, text: () => string, timeoutMs = kind === 'error' ? 9000 : 5000): number {
    const id = this.next++;
    this.items = [...this.items, { id, kind, text }].slice(-MAX_VISIBLE);
    setTimeout(() => this.dismiss(id), timeoutMs);
    return id;
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new ToastStore();
