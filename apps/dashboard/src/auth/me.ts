import { ref } from 'vue';
import { api, type MeView, type Role } from '../api/client';
import { getToken } from './session';

/** Who is signed in, as GET /v1/me says (role and data scope); null when signed out. */
export const me = ref<MeView | null>(null);
let loadedFor: string | null = null;

/** Loads /v1/me once per token. Throws the ApiError of a refused token. */
export async function loadMe(): Promise<MeView | null> {
  const token = getToken();
  if (!token) {
    me.value = null;
    loadedFor = null;
    return null;
  }
  if (me.value && loadedFor === token) return me.value;
  const view = await api.me();
  me.value = view;
  loadedFor = token;
  return view;
}

export function forgetMe(): void {
  me.value = null;
  loadedFor = null;
}

/** The first page of a role. */
export function homeOf(role: Role | undefined): string {
  switch (role) {
    case 'supplier':
      return '/supplier';
    case 'admin':
      return '/admin/projections';
    default:
      return '/overview';
  }
}
