import { api, ApiError, onUnauthorized, type Health } from '../api';

/** What /api/v1/health says (model in use), and whether the server wants a token from us. */
class ServerInfo {
  health = $state.raw<Health | null>(null);
  needsToken = $state(false);
  private started = false;

  load(): void {
    if (this.started) return;
    this.started = true;
    onUnauthorized(() => (this.needsToken = true));
    const fetchHealth = () =>
      api.health().then(
        (h) => (this.health = h),
        (err: unknown) => {
          if (!(err instanceof ApiError && err.status === 401)) setTimeout(fetchHealth, 5000);
        },
      );
    void fetchHealth();
  }

  /** Trades the token for the session cookie; the page reloads so every connection carries it. */
  async submitToken(token: string): Promise<boolean> {
    try {
      await api.session(token);
    } catch {
      return false;
    }
    location.reload();
    return true;
  }
}

export const serverInfo = new ServerInfo();
