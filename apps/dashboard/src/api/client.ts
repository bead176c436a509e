/**
 * The one typed client of the API: every call the dashboard makes goes through here, with the
 * signed-in user's own token in the Authorization header (never in a URL).
 */
import { clearToken, getToken } from '../auth/session';
import type {
  AuthConfigView,
  CalendarYearsView,
  ContractEventsView,
  ContractView,
  ErrorBody,
  ExemptionResult,
  MeView,
  OverviewView,
  PlatformLagView,
  SmeOverdueReport,
  RegionsView,
  TrendsView,
  DeadlinePage,
  PoliciesView,
  ProjectionsView,
  SupplierPaymentsView,
  UnitComplianceView,
  UnitRankingPage,
  ViolationPage,
  PaymentPerformanceView,
  WebhookView,
  CreatedWebhookView,
  NewWebhook,
  WebhookDeliveryPage,
} from './types';

export * from './types';

/** An answer other than 2xx, with the API's stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
    /** seconds, from Retry-After (429, 503) */
    readonly retryAfter?: number,
    readonly details?: ErrorBody['details'],
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

interface Options {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Query;
  body?: unknown;
  accept?: string;
  /** no token (the sign-in configuration) */
  anonymous?: boolean;
  signal?: AbortSignal;
}

async function send(path: string, opts: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  const token = opts.anonymous ? null : getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${path}${queryString(opts.query)}`, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      credentials: 'omit',
    });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the service could not be reached');
  }
  if (res.ok) return res;
  let body: Partial<ErrorBody> = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    // not the API's error shape (a proxy, say)
  }
  const retry = Number(res.headers.get('retry-after'));
  const error = new ApiError(
    res.status,
    body.code ?? `HTTP.${res.status}`,
    body.message ?? res.statusText,
    body.correlationId ?? res.headers.get('x-correlation-id') ?? undefined,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
    body.details,
  );
  // an expired or refused token: back to sign-in
  if (res.status === 401 && token) clearToken('unauthorized');
  throw error;
}

async function json<T>(path: string, opts: Options = {}): Promise<T> {
  return (await (await send(path, opts)).json()) as T;
}

/** A call answered 204 No Content. */
async function none(path: string, opts: Options = {}): Promise<void> {
  await send(path, opts);
}

/** A file the API exports (CSV, Excel), fetched with the token header, and its file name. */
export interface Download {
  blob: Blob;
  filename: string;
}

async function download(
  path: string,
  query: Query,
  accept: string,
  fallback: string,
): Promise<Download> {
  const res = await send(path, { query, accept });
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith(accept))
    throw new ApiError(
      406,
      'EXPORT.UNSUPPORTED',
      `the service did not answer ${accept} (got ${type || 'nothing'})`,
    );
  const cd = res.headers.get('content-disposition') ?? '';
  const m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(cd);
  const filename = m ? decodeURIComponent(m[1] ?? m[2]) : fallback;
  return { blob: await res.blob(), filename };
}

export const CSV = 'text/csv';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const enc = encodeURIComponent;

export const api = {
  authConfig: () => json<AuthConfigView>('/v1/auth/config', { anonymous: true }),
  me: () => json<MeView>('/v1/me'),

  overview: (q: Query, signal?: AbortSignal) =>
    json<OverviewView>('/v1/overview', { query: q, signal }),
  trends: (q: Query, signal?: AbortSignal) => json<TrendsView>('/v1/trends', { query: q, signal }),
  regions: (q: Query, signal?: AbortSignal) =>
    json<RegionsView>('/v1/regions', { query: q, signal }),
  platformLag: (q: Query, signal?: AbortSignal) =>
    json<PlatformLagView>('/v1/platforms/lag', { query: q, signal }),
  smeOverdue: (q: Query, signal?: AbortSignal) =>
    json<SmeOverdueReport>('/v1/reports/sme-overdue', { query: q, signal }),
  exportSmeOverdue: (q: Query, format: 'csv' | 'xlsx') =>
    download('/v1/reports/sme-overdue', q, format === 'csv' ? CSV : XLSX, `sme-overdue.${format}`),
  deadlines: (q: Query, signal?: AbortSignal) =>
    json<DeadlinePage>('/v1/deadlines', { query: q, signal }),
  units: (q: Query, signal?: AbortSignal) =>
    json<UnitRankingPage>('/v1/units', { query: q, signal }),
  unitCompliance: (code: string, q: Query, signal?: AbortSignal) =>
    json<UnitComplianceView>(`/v1/units/${enc(code)}/compliance`, { query: q, signal }),
  paymentPerformance: (code: string, q: { from: string; to: string }, signal?: AbortSignal) =>
    json<PaymentPerformanceView>(`/v1/units/${enc(code)}/payment-performance`, {
      query: q,
      signal,
    }),
  violations: (q: Query, signal?: AbortSignal) =>
    json<ViolationPage>('/v1/violations', { query: q, signal }),
  exportViolations: (q: Query, format: 'csv' | 'xlsx') =>
    download('/v1/violations', q, format === 'csv' ? CSV : XLSX, `violations.${format}`),

  contract: (id: string, q: Query, signal?: AbortSignal) =>
    json<ContractView>(`/v1/contracts/${enc(id)}`, { query: q, signal }),
  contractEvents: (id: string, signal?: AbortSignal) =>
    json<ContractEventsView>(`/v1/contracts/${enc(id)}/events`, { signal }),
  exempt: (id: string, body: { rule: string; key?: string; reason: string }) =>
    json<ExemptionResult>(`/v1/contracts/${enc(id)}/exemptions`, { method: 'POST', body }),
  supplierPayments: (creditCode: string, q: Query, signal?: AbortSignal) =>
    json<SupplierPaymentsView>(`/v1/suppliers/${enc(creditCode)}/payments`, { query: q, signal }),

  policies: (signal?: AbortSignal) => json<PoliciesView>('/v1/policies', { signal }),
  putPolicy: (id: string, body: unknown) =>
    json<Record<string, unknown>>(`/v1/admin/policies/${enc(id)}`, { method: 'PUT', body }),
  projections: (signal?: AbortSignal) => json<ProjectionsView>('/v1/admin/projections', { signal }),
  rebuild: (name: string) =>
    json<Record<string, unknown>>(`/v1/admin/projections/${enc(name)}/rebuild`, { method: 'POST' }),
  webhooks: (signal?: AbortSignal) => json<WebhookView[]>('/v1/admin/webhooks', { signal }),
  createWebhook: (body: NewWebhook) =>
    json<CreatedWebhookView>('/v1/admin/webhooks', { method: 'POST', body }),
  deleteWebhook: (id: string) => none(`/v1/admin/webhooks/${enc(id)}`, { method: 'DELETE' }),
  resumeWebhook: (id: string) =>
    json<WebhookView>(`/v1/admin/webhooks/${enc(id)}/resume`, { method: 'POST' }),
  webhookDeliveries: (id: string, q: Query, signal?: AbortSignal) =>
    json<WebhookDeliveryPage>(`/v1/admin/webhooks/${enc(id)}/deliveries`, { query: q, signal }),
  calendar: (signal?: AbortSignal) => json<CalendarYearsView>('/v1/admin/calendar', { signal }),
  putCalendarYear: (
    year: number,
    body: { restDays: string[]; workingDays: string[]; source?: string },
  ) => json<Record<string, unknown>>(`/v1/admin/calendar/${year}`, { method: 'PUT', body }),
};

/** Saves a downloaded file through a temporary object URL (the token never leaves the header). */
export function saveDownload(d: Download): void {
  const url = URL.createObjectURL(d.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = d.filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
