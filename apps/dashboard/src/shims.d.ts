// For tools that read the .ts files without Vue's language service (ESLint's type-aware
// rules); vue-tsc resolves the .vue files themselves and ignores this.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
