import { describe, expect, it } from 'vitest';
import { MESSAGE_KEYS, translate } from './i18n';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('zh', 'toast.done', { user: 'user_0001', n: 3 })).toBe('user_0001 抽象完成：3 个事件');
    expect(translate('en', 'toast.done', { user: 'u' })).toBe('u finished: {n} events');
  });

  it('has every key in English with the same placeholders as in Chinese', () => {
    for (const k of MESSAGE_KEYS) {
      expect(translate('en', k), k).not.toBe('');
      expect(placeholders(translate('en', k)), k).toEqual(placeholders(translate('zh', k)));
    }
  });
});
