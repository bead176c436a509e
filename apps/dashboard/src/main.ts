// first of all (imports run in order): a #token= fragment leaves the address bar before the
// router reads the location
import './auth/take-fragment';
import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import './styles.css';
import App from './App.vue';
import { i18n } from './i18n';
import { router } from './router';
import { forgetMe } from './auth/me';
import { onSessionEnd, resumeSession } from './auth/session';

resumeSession();
onSessionEnd((reason) => {
  forgetMe();
  const current = router.currentRoute.value;
  if (current.meta.public) return;
  void router.replace({ path: '/login', query: { reason, redirect: current.fullPath } });
});

document.documentElement.lang = i18n.global.locale.value;
createApp(App).use(i18n).use(router).mount('#app');
