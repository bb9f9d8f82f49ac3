import { htmlLang, isLocale, translate, type Locale, type MessageKey, type MessageVars } from '../i18n';
import { loadJson, saveJson } from '../persist';

const KEY = 'es.locale';

let current = $state<Locale>(loadJson<Locale>(KEY, 'zh', isLocale));

/** The UI language; reading `t()` in markup re-renders when it changes. */
export const locale = {
  get value(): Locale {
    return current;
  },
  set value(next: Locale) {
    current = next;
    saveJson(KEY, next);
    document.documentElement.lang = htmlLang(next);
  },
  toggle(): void {
    this.value = current === 'zh' ? 'en' : 'zh';
  },
};

export const t = (key: MessageKey, vars?: MessageVars): string => translate(current, key, vars);
