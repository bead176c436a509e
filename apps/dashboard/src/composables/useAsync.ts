import { onBeforeUnmount, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue';
import { ApiError } from '../api/client';

/**
 * Runs `load` now and whenever `source` changes (the route's query, say); an answer that
 * arrives after a newer request started is dropped (its request is aborted).
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  source?: WatchSource,
): {
  data: Ref<T | null>;
  loading: Ref<boolean>;
  error: Ref<ApiError | Error | null>;
  reload: () => Promise<void>;
} {
  const data = shallowRef<T | null>(null) as Ref<T | null>;
  const loading = ref(true);
  const error = shallowRef<ApiError | Error | null>(null);
  let current: AbortController | undefined;

  async function reload(): Promise<void> {
    current?.abort();
    const ctl = new AbortController();
    current = ctl;
    loading.value = true;
    error.value = null;
    try {
      const value = await load(ctl.signal);
      if (current !== ctl) return;
      data.value = value;
    } catch (err) {
      if (current !== ctl || (err as Error)?.name === 'AbortError') return;
      error.value = err as Error;
    } finally {
      if (current === ctl) loading.value = false;
    }
  }

  if (source) watch(source, () => void reload(), { deep: true });
  void reload();
  onBeforeUnmount(() => current?.abort());
  return { data, loading, error, reload };
}
