import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { ApiError, type Role } from './api/client';
import { homeOf, loadMe, me } from './auth/me';
import { getToken } from './auth/session';

declare module 'vue-router' {
  interface RouteMeta {
    /** open without a token (sign-in) */
    public?: boolean;
    /** roles that may open the view; the API decides what data they get */
    roles?: Role[];
    /** the i18n key of the page title */
    title?: string;
  }
}

const INSPECTOR: Role[] = ['inspector'];
const ADMIN: Role[] = ['admin'];

/** Every view is its own chunk, loaded when first opened. */
const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    component: () => import('./views/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/auth/callback',
    component: () => import('./views/OidcCallbackView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  { path: '/', redirect: () => homeOf(me.value?.role) },
  {
    path: '/overview',
    component: () => import('./views/OverviewView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.overview' },
  },
  {
    path: '/units',
    component: () => import('./views/UnitsView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.units' },
  },
  {
    path: '/units/:code',
    component: () => import('./views/UnitDetailView.vue'),
    meta: { roles: INSPECTOR, title: 'unit.title' },
  },
  {
    path: '/violations',
    component: () => import('./views/ViolationsView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.violations' },
  },
  {
    path: '/deadlines',
    component: () => import('./views/DeadlinesView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.deadlines' },
  },
  {
    path: '/platforms/lag',
    component: () => import('./views/LagView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.lag' },
  },
  {
    path: '/reports/sme-overdue',
    component: () => import('./views/SmeReportView.vue'),
    meta: { roles: INSPECTOR, title: 'nav.smeReport' },
  },
  {
    path: '/contracts/:id(.*)',
    component: () => import('./views/ContractView.vue'),
    meta: { roles: ['inspector', 'supplier'], title: 'contract.title' },
  },
  {
    path: '/supplier',
    component: () => import('./views/SupplierView.vue'),
    meta: { roles: ['supplier'], title: 'nav.supplier' },
  },
  {
    path: '/admin/projections',
    component: () => import('./views/admin/ProjectionsView.vue'),
    meta: { roles: ADMIN, title: 'nav.projections' },
  },
  {
    path: '/admin/calendar',
    component: () => import('./views/admin/CalendarView.vue'),
    meta: { roles: ADMIN, title: 'nav.calendar' },
  },
  {
    path: '/admin/webhooks',
    component: () => import('./views/admin/WebhooksView.vue'),
    meta: { roles: ADMIN, title: 'nav.webhooks' },
  },
  {
    path: '/admin/policies',
    component: () => import('./views/admin/PoliciesView.vue'),
    meta: { roles: ['admin', 'inspector'], title: 'nav.policies' },
  },
  {
    path: '/:pathMatch(.*)*',
    component: () => import('./views/NotFoundView.vue'),
    meta: { public: true, title: 'notFound.title' },
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

/** Query parameters picked once (header) and kept across views. */
export const GLOBAL_PARAMS = ['asOf', 'region'] as const;

router.beforeEach(async (to, from) => {
  if (to.meta.public) return true;
  if (!getToken())
    return { path: '/login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } };
  let who;
  try {
    who = await loadMe();
  } catch (err) {
    // the token was refused (the client has cleared it) or the service is unreachable
    const reason = err instanceof ApiError && err.status === 401 ? 'unauthorized' : undefined;
    return { path: '/login', query: { ...(reason ? { reason } : {}), redirect: to.fullPath } };
  }
  if (to.meta.roles && who && !to.meta.roles.includes(who.role)) return homeOf(who.role);
  // carry the as-of date and region into a view that was opened without them
  const carried: Record<string, string> = {};
  for (const k of GLOBAL_PARAMS) {
    const v = from.query[k];
    if (typeof v === 'string' && v && to.query[k] === undefined) carried[k] = v;
  }
  if (Object.keys(carried).length > 0 && !from.meta.public)
    return { ...to, query: { ...to.query, ...carried } };
  return true;
});
