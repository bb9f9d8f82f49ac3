import { statusKey } from '../status';
import { announcer } from './announcer.svelte';
import { board } from './board.svelte';
import { t } from './locale.svelte';
import { toasts } from './toasts.svelte';

/**
 * Turns board happenings into toasts (finished, failed, cancelled, interrupted runs; failed requests)
 * and polite announcements of status changes. Returns the function that unwires it.
 */
export function wireNotifications(): () => void {
  const offStatus = board.onStatus(({ panel, to, notify }) => {
    if (!notify) return;
    const user = panel.label;
    if (to === 'streaming' || to === 'done' || to === 'cancelled' || to === 'error' || to === 'interrupted') {
      announcer.say(t('announce.status', { user, status: t(statusKey(to)) }));
    }
    // Values are taken now; the wording is looked up when shown, in the language of the moment.
    if (to === 'done') {
      const n = panel.events.length;
      toasts.push('success', () => t('toast.done', { user, n }));
    } else if (to === 'cancelled') toasts.push('info', () => t('toast.cancelled', { user }));
    else if (to === 'interrupted') toasts.push('warning', () => t('toast.interrupted', { user }));
    else if (to === 'error') {
      const message = panel.error?.message ?? '';
      toasts.push('error', () => t('toast.error', { user, message }));
    }
  });
  const offFailure = board.onFailure(({ panel, action, message }) => {
    const user = panel?.label ?? '';
    toasts.push('error', () =>
      action === 'start' ? t('toast.startFailed', { user, message }) : t('toast.actionFailed', { message }),
    );
  });
  return () => {
    offStatus();
    offFailure();
  };
}
