import { createI18n } from 'vue-i18n';
import zhCN from './zh-CN';
import en from './en';

export type Locale = 'zh-CN' | 'en';
const KEY = 'monitor.locale';

function initial(): Locale {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

export function setLocale(l: Locale): void {
  i18n.global.locale.value = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // private mode: the choice lasts for this page only
  }
}
