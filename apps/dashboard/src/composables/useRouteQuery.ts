import { computed } from 'vue';
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router';

/**
 * The view's state lives in the query string, so a link reproduces the view: read with
 * `q.value.x`, change with `set({x})` (undefined or '' removes a parameter; page resets to 1
 * when a filter changes unless given).
 */
export function useRouteQuery() {
  const route = useRoute();
  const router = useRouter();
  const q = computed(() => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(route.query)) {
      const s = Array.isArray(v) ? v[0] : v;
      if (typeof s === 'string' && s !== '') out[k] = s;
    }
    return out;
  });
  function set(patch: Record<string, string | number | null | undefined>): Promise<unknown> {
    const next: LocationQueryRaw = { ...q.value };
    if (!('page' in patch)) delete next.page;
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === null || v === '') delete next[k];
      else next[k] = String(v);
    }
    return router.replace({ query: next });
  }
  return { q, set };
}

/** A positive integer from the query, else the default. */
export function intParam(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : dflt;
}
