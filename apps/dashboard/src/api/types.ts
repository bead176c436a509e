/**
 * Shapes of the API's answers, as SPEC §4, §6–§9 and the OpenAPI document (/docs) give them.
 * Money is a yuan decimal string, dates are business dates YYYY-MM-DD (Asia/Shanghai).
 */

export const RULES = [
  'signing',
  'announcement',
  'filing',
  'acceptance',
  'payment',
  'prepayment',
  'intention',
  'smePayment',
] as const;
export type Rule = (typeof RULES)[number] | (string & {});

export type Role = 'platform' | 'inspector' | 'supplier' | 'admin';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: Array<{ path: string; message: string }>;
  correlationId?: string;
}

export interface AuthConfigView {
  oidc: { issuer: string; clientId: string; scope: string; resource?: string } | null;
}

/** `GET /v1/me`: the claims of the token's role, and when it expires (never the token). */
export interface MeView {
  role: Role;
  subject: string | null;
  platformId?: string;
  creditCode?: string;
  /** inspector limited to these region-code prefixes */
  regions?: string[];
  exp: number | null;
  expiresAt: string | null;
}

export type StatusCounts = Record<
  'met' | 'late' | 'overdue' | 'pending' | 'exempted' | 'cancelled',
  number
>;

export interface UnitRankingItem {
  rank: number;
  unitCode: string;
  unitName: string | null;
  region: string | null;
  contracts: number;
  onTimeRate: number | null;
  violations: number;
  counts: StatusCounts;
  rules: Record<string, StatusCounts & { onTimeRate: number | null }>;
}

export interface UnitRankingPage {
  asOf: string;
  sort: string;
  page: number;
  pageSize: number;
  total: number;
  items: UnitRankingItem[];
}

export interface RuleCompliance {
  rule: string;
  counts: StatusCounts;
  total: number;
  onTimeRate: number | null;
  meanDelayDays: number | null;
  medianDelayDays: number | null;
  meanDelayWorkingDays: number | null;
  medianDelayWorkingDays: number | null;
}

export interface PrepaymentSplit {
  threshold: string;
  contracts: number;
  met: number;
  below: number;
  pending: number;
  exempted: number;
}

export interface UnitComplianceView {
  unitCode: string;
  unitName: string | null;
  region: string | null;
  asOf: string;
  from: string | null;
  to: string | null;
  contracts: number;
  onTimeRate: number | null;
  rules: RuleCompliance[];
  prepayment: { sme: PrepaymentSplit; nonSme: PrepaymentSplit };
  /** SPEC §7: late interest owed to SMEs, summed over the unit's contracts */
  smeLateInterest?: string;
}

export interface ViolationView {
  contractId: string;
  rule: string;
  key: string;
  unitCode: string | null;
  unitName: string | null;
  region: string | null;
  supplierCreditCode: string | null;
  supplierName: string | null;
  startedOn: string;
  deadline: string;
  fulfilledOn: string | null;
  status: 'late' | 'overdue';
  delayDays: number;
  delayWorkingDays: number | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
  lateInterest?: string | null;
}

export interface ViolationPage {
  asOf: string;
  page: number;
  pageSize: number;
  hasMore: boolean;
  items: ViolationView[];
}

export interface ObligationView {
  rule: string;
  key: string;
  startedOn: string;
  deadline: string;
  fulfilledOn: string | null;
  status: string;
  delayDays: number;
  delayWorkingDays: number | null;
  daysLeft: number | null;
  exemptedOn: string | null;
  cancelledOn: string | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
  lateInterest?: string | null;
}

export interface ContractView {
  contractId: string;
  asOf: string;
  stage: string;
  purchasingUnit: { code: string; name: string; region: string | null } | null;
  supplier: { creditCode: string; name: string; size: string; sme: boolean } | null;
  project: { code: string; name: string | null } | null;
  amount: string | null;
  obligations: ObligationView[];
  prepayment: {
    status: string;
    threshold: string;
    ratio: string;
    prepaid: string;
    required: string;
    contractAmount: string;
    agreedRatio: string | null;
    policy: string;
    source: string;
  } | null;
  /** SPEC §7, SME suppliers only */
  smePayment: {
    paymentCondition: string;
    agreedTermDays: number | null;
    termDays: number;
    lateInterestRate: string | null;
    owed: string;
    paid: string;
    outstanding: string;
    lateInterest: string;
  } | null;
  /** late interest owed as of asOf over the contract's obligations */
  lateInterest: string;
  dataQuality: Array<{ code: string; message: string; eventId?: string }>;
}

export interface ContractEventView {
  eventId: string;
  type: string;
  streamVersion: number;
  globalPosition: string;
  occurredAt: string;
  businessDate: string;
  recordedAt: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  source: { kind?: string | null; platformId?: string; principal?: string; topic?: string } | null;
  correlationId: string | null;
  retracted: boolean;
}

export interface ContractEventsView {
  contractId: string;
  version: number;
  events: ContractEventView[];
}

export interface SupplierInvoiceView {
  contractId: string;
  unitCode: string | null;
  unitName: string | null;
  invoiceNo: string;
  stage: string;
  amount: string;
  receivedOn: string;
  startedOn: string | null;
  dueOn: string | null;
  paid: string;
  outstanding: string;
  paidOn: string | null;
  status: string;
  delayDays: number;
  delayWorkingDays: number | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
}

export interface SupplierPaymentsView {
  creditCode: string;
  supplierName: string | null;
  asOf: string;
  invoices: SupplierInvoiceView[];
  prepayments: Array<{
    contractId: string;
    contractAmount: string;
    threshold: string;
    entitled: string;
    received: string;
    ratio: string;
    status: string;
    policy: string;
    source: string;
  }>;
  /** one per SME contract (SPEC §7) */
  smePayments: Array<{
    contractId: string;
    unitCode: string | null;
    unitName: string | null;
    startedOn: string | null;
    dueOn: string | null;
    status: string;
    delayDays: number;
    owed: string;
    paid: string;
    outstanding: string;
    lateInterest: string;
    provisional: boolean;
    policy: string | null;
    source: string | null;
  }>;
  /** late interest owed to the supplier as of asOf, over all its contracts */
  lateInterest: string;
}

export interface ExemptionResult {
  eventId: string;
  status: 'accepted' | 'duplicate';
  contractId: string;
  rule: string;
  key: string;
}

export interface ProjectionsView {
  projections: Array<{
    name: string;
    state: string;
    lastError: string | null;
    checkpoint: string | number;
    headPosition: string | number;
    behind: number;
    rebuild: unknown;
  }>;
}

export interface CalendarYearsView {
  officialYears: number[];
  uploaded: Array<{ year: number; source: string; loaded_at: string }>;
  pending: boolean;
}

export type RuleSetting =
  | { period: { unit: 'calendarDays' | 'workingDays'; n: number }; from?: string; source?: string }
  | { thresholdPercent: { sme: number; other: number }; from?: string; source?: string }
  | { off: true; from?: string; source?: string }
  | Record<string, unknown>;

export interface PolicyLayerView {
  id: string;
  name: string;
  regions: string[];
  from: string | null;
  to: string | null;
  rules: Record<string, RuleSetting>;
  source: string;
  version: number;
  builtIn: boolean;
  changedBy: string | null;
  changedAt: string | null;
  history: Array<{ version: number; changedBy: string; changedAt: string }>;
}

export interface PoliciesView {
  pending: boolean;
  layers: PolicyLayerView[];
}

export interface OverviewRule {
  rule: string;
  counts: StatusCounts;
  total: number;
  onTimeRate: number | null;
  open: number;
  overdue: number;
  violations: number;
}

/** `GET /v1/overview?asOf=&region=` (docs/dashboard-api.md). */
export interface OverviewView {
  asOf: string;
  region: string | null;
  totals: Omit<OverviewRule, 'rule'> & { units: number };
  rules: OverviewRule[];
  worstUnits: Array<{
    unitCode: string;
    unitName: string | null;
    region: string | null;
    onTimeRate: number | null;
    violations: number;
    counts: StatusCounts;
  }>;
  smeLateInterest: string | null;
}

/** `GET /v1/deadlines` (SPEC §8). */
export interface DeadlineView {
  contractId: string;
  rule: string;
  key: string;
  policy: string | null;
  source: string | null;
  startedOn: string;
  deadline: string;
  daysLeft: number;
  workingDaysLeft: number;
  unit: { code: string; name: string | null; region: string | null } | null;
  supplier: { creditCode: string; name: string | null; sme: boolean | null } | null;
  provisional: boolean;
}

export interface DeadlinePage {
  asOf: string;
  within: number;
  until: string;
  page: number;
  pageSize: number;
  hasMore: boolean;
  items: DeadlineView[];
}

export interface OverviewCounts {
  counts: StatusCounts;
  total: number;
  onTimeRate: number | null;
  open: number;
  overdue: number;
  violations: number;
}

/** `GET /v1/trends?from=&to=&region=&unit=&rule=`: months are YYYY-MM of the deadline. */
export interface TrendsView {
  asOf: string;
  from: string;
  to: string;
  region: string | null;
  unit: string | null;
  rule: string | null;
  months: Array<{
    month: string;
    counts: StatusCounts;
    total: number;
    onTimeRate: number | null;
    violations: number;
  }>;
}

/** `GET /v1/regions?asOf=&rule=`: per region code, and per rule (the heat map's cells). */
export interface RegionsView {
  asOf: string;
  rule: string | null;
  items: Array<
    OverviewCounts & {
      region: string | null;
      units: number;
      rules: Array<OverviewCounts & { rule: string }>;
    }
  >;
}

/** `GET /v1/platforms/lag?from=&to=`: recordedAt − occurredAt per platform and event type. */
export interface PlatformLagView {
  from: string;
  to: string;
  items: Array<{
    platformId: string | null;
    type: string;
    events: number;
    medianSeconds: number;
    p95Seconds: number;
    maxSeconds: number;
    medianHours: number;
    p95Hours: number;
  }>;
}

/** `GET /v1/reports/sme-overdue?year=&region=&unit=` (SPEC §7, art. 18). */
export interface SmeOverdueReport {
  year: number;
  asOf: string;
  items: Array<{
    unitCode: string;
    unitName: string | null;
    region: string | null;
    contracts: number;
    unpaid: string;
  }>;
  total: { units: number; contracts: number; unpaid: string };
}

/** `GET /v1/units/{code}/payment-performance?from=&to=` (SPEC §7): invoices paid in full in the period. */
export interface PaymentPerformanceView {
  unitCode: string;
  unitName: string | null;
  from: string;
  to: string;
  invoicesPaid: number;
  /** yuan, decimal string */
  amountPaid: string;
  meanDaysToPay: number | null;
  /** shares 0..1 (4 decimals) */
  paidWithin30Days: number | null;
  paidIn31To60Days: number | null;
  paidAfter60Days: number | null;
  withDeadline: number;
  paidLateShare: number | null;
  weightedMeanDelayDays: number | null;
  timelinessIndexDays: number | null;
}

/** The early-warning kinds a webhook subscription may take (SPEC §8). */
export const WEBHOOK_EVENTS = [
  'obligation.due_soon',
  'obligation.overdue',
  'obligation.fulfilled_late',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** `GET /v1/admin/webhooks` items (no secret). */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  region: string | null;
  unit: string | null;
  rule: string | null;
  dueSoonWorkingDays: number;
  since: string;
  state: 'active' | 'paused';
  createdAt: string;
  createdBy: string;
  /** the first failed attempt since the last acknowledged one */
  failingSince: string | null;
  pausedAt: string | null;
  deliveries: { pending: number; delivered: number; cancelled: number };
}

/** `POST /v1/admin/webhooks` answer: the secret is in it only. */
export type CreatedWebhookView = WebhookView & { secret: string };

export interface NewWebhook {
  url: string;
  events: string[];
  region?: string;
  unit?: string;
  rule?: string;
  dueSoonWorkingDays?: number;
}

/** `GET /v1/admin/webhooks/{id}/deliveries`: newest decision first. */
export interface WebhookDeliveryPage {
  page: number;
  pageSize: number;
  hasMore: boolean;
  items: Array<{
    deliveryId: string;
    kind: string;
    contractId: string;
    obligationKey: string;
    status: 'pending' | 'delivered' | 'cancelled';
    attempts: number;
    decidedAt: string;
    lastAttemptAt: string | null;
    lastStatusCode: number | null;
    lastError: string | null;
    nextAttemptAt: string | null;
    deliveredAt: string | null;
  }>;
}
