import {
  CONTRACT_ID_PATTERN,
  ErrorCodes,
  PROCUREMENT_METHODS,
  SUPPLIER_SIZES,
  isValidCreditCode,
  parseOffsetDateTime,
  type FieldError,
} from '@app/contracts';
import { v5 } from 'uuid';
import { amountToYuan } from './amounts';
import { OCDS_EVENT_ID_NAMESPACE, ocdsEventId } from './event-id';
import { JsonNumber, type JsonObject, type JsonValue } from './json-reader';

/** Codes of a release, or of one of its facts, that the import refuses (SPEC §10). */
export const OcdsCodes = {
  INVALID_JSON: ErrorCodes.OCDS_INVALID_JSON,
  NOT_OCDS: ErrorCodes.OCDS_NOT_OCDS,
  UNSUPPORTED_VERSION: ErrorCodes.OCDS_UNSUPPORTED_VERSION,
  INVALID_RELEASE: ErrorCodes.OCDS_INVALID_RELEASE,
  RELEASE_TOO_LARGE: ErrorCodes.OCDS_RELEASE_TOO_LARGE,
  INVALID_AMOUNT: ErrorCodes.OCDS_INVALID_AMOUNT,
  INVALID_DATE: ErrorCodes.OCDS_INVALID_DATE,
  INVALID_PARTY: ErrorCodes.OCDS_INVALID_PARTY,
} as const;
export type OcdsCode = (typeof OcdsCodes)[keyof typeof OcdsCodes];

/** An event envelope made from a release (validated later by the usual ingestion). */
export interface MappedEvent {
  /** where in the release the fact is */
  path: string;
  envelope: {
    eventId: string;
    type: string;
    contractId: string;
    occurredAt: string;
    schemaVersion: 1;
    correlationId: string;
    data: Record<string, unknown>;
  };
}

/** A fact the release states that cannot become an event as it stands. */
export interface MappingRejection {
  eventId: string;
  contractId: string | null;
  type: string;
  code: OcdsCode;
  message: string;
  errors: FieldError[];
  /** the release fragment, kept for audit */
  fragment: JsonValue;
}

export interface Unmapped {
  path: string;
  reason: string;
}

export interface MappedRelease {
  ocid: string | null;
  releaseId: string | null;
  /** the release refused as a whole (not OCDS) */
  refusal?: { code: OcdsCode; message: string; errors: FieldError[] };
  events: MappedEvent[];
  rejected: MappingRejection[];
  unmapped: Unmapped[];
  contractIds: string[];
}

const SCALE_TO_SIZE: Record<string, string> = {
  micro: 'micro',
  small: 'small',
  medium: 'medium',
  large: 'large',
  sme: 'small',
};

/** OCDS procurementMethod (closed codelist) → our notice method, where one is implied. */
const METHOD_FROM_OCDS: Record<string, string> = {
  open: 'open_tender',
  selective: 'invited_tender',
  direct: 'single_source',
};

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber);

/** An OCDS identifier (string or integer) as text. */
function idText(v: JsonValue | undefined): string | null {
  if (typeof v === 'string' && v.length > 0) return v;
  if (v instanceof JsonNumber && /^-?\d+$/.test(v.text)) return v.text;
  return null;
}

const str = (v: JsonValue | undefined): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The monitor's contract id for the award `awardId` of process `ocid`: `<ocid>/<awardId>`
 * when that is a valid contract id (1–64 of [A-Za-z0-9._:/-]), else `ocds-` and the UUID v5 of
 * `[ocid, awardId]`. One award is one contract here (its stream).
 */
export function contractIdFor(ocid: string, awardId: string): string {
  const plain = `${ocid}/${awardId}`;
  return CONTRACT_ID_PATTERN.test(plain)
    ? plain
    : `ocds-${v5(JSON.stringify([ocid, awardId]), OCDS_EVENT_ID_NAMESPACE)}`;
}

/** The correlation id each imported event carries: where it came from (`ocds:<ocid>#<release id>`). */
export function ocdsCorrelationId(ocid: string, releaseId: string): string {
  return `ocds:${ocid}#${releaseId}`.slice(0, 200);
}

/** The ocid an imported event's correlation id names, if any. */
export function ocidOfCorrelation(correlationId: string | null | undefined): string | null {
  if (!correlationId?.startsWith('ocds:')) return null;
  const hash = correlationId.lastIndexOf('#');
  return hash > 5 ? correlationId.slice(5, hash) : null;
}

/** Release fields the mapping reads (the rest is reported unmapped). */
const RELEASE_FIELDS = new Set([
  'ocid',
  'id',
  'date',
  'tag',
  'initiationType',
  'parties',
  'buyer',
  'planning',
  'tender',
  'awards',
  'contracts',
  'language',
  'compliance',
]);
const AWARD_FIELDS = new Set([
  'id',
  'title',
  'description',
  'status',
  'date',
  'value',
  'suppliers',
  'contractId',
  'eventId',
]);
const CONTRACT_FIELDS = new Set([
  'id',
  'awardID',
  'title',
  'description',
  'status',
  'dateSigned',
  'value',
  'documents',
  'milestones',
  'implementation',
  'contractId',
  'eventId',
  'prepaymentRatio',
  'acceptanceWorkingDays',
  'paymentCondition',
  'paymentTermDays',
  'lateInterestRate',
  'termination',
]);

/**
 * Maps one OCDS release to our events (SPEC §10; the table is docs/ocds.md). Pure: the
 * envelopes are validated and recorded by the usual ingestion afterwards. Facts the release
 * states in a form we cannot record are `rejected` with a code; fields we do not record are
 * listed in `unmapped` with the reason.
 */
export function mapRelease(release: JsonObject): MappedRelease {
  const ocid = str(release.ocid) ?? null;
  const releaseId = idText(release.id);
  const out: MappedRelease = {
    ocid,
    releaseId,
    events: [],
    rejected: [],
    unmapped: [],
    contractIds: [],
  };
  const problems = releaseProblems(release);
  if (problems.length > 0) {
    out.refusal = {
      code: OcdsCodes.INVALID_RELEASE,
      message: 'the release is not OCDS',
      errors: problems,
    };
    return out;
  }
  new ReleaseMapper(release, ocid!, releaseId!, out).run();
  return out;
}

/** What makes a value not an OCDS release: the required fields and the types we walk. */
function releaseProblems(r: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  if (!str(r.ocid)) errors.push({ path: 'ocid', message: 'must be a non-empty string' });
  if (idText(r.id) === null) errors.push({ path: 'id', message: 'must be a non-empty string' });
  if (typeof r.date !== 'string' || Number.isNaN(Date.parse(r.date)))
    errors.push({ path: 'date', message: 'must be a date-time' });
  if (!Array.isArray(r.tag) || r.tag.length === 0 || !r.tag.every((t) => typeof t === 'string'))
    errors.push({ path: 'tag', message: 'must be a non-empty array of strings' });
  const arrays: Array<[string, JsonValue | undefined]> = [
    ['parties', r.parties],
    ['awards', r.awards],
    ['contracts', r.contracts],
  ];
  for (const [path, v] of arrays)
    if (v !== undefined && !(Array.isArray(v) && v.every(isObject)))
      errors.push({ path, message: 'must be an array of objects' });
  for (const [path, v] of [
    ['buyer', r.buyer],
    ['tender', r.tender],
    ['planning', r.planning],
  ] as const)
    if (v !== undefined && v !== null && !isObject(v))
      errors.push({ path, message: 'must be an object' });
  if (Array.isArray(r.awards))
    r.awards.forEach((a, i) => {
      if (isObject(a) && idText(a.id) === null)
        errors.push({ path: `awards[${i}].id`, message: 'is required' });
    });
  if (Array.isArray(r.contracts))
    r.contracts.forEach((c, i) => {
      if (!isObject(c)) return;
      if (idText(c.id) === null)
        errors.push({ path: `contracts[${i}].id`, message: 'is required' });
      if (idText(c.awardID) === null)
        errors.push({ path: `contracts[${i}].awardID`, message: 'is required' });
    });
  return errors;
}

type Party = JsonObject;

class ReleaseMapper {
  private readonly parties = new Map<string, Party>();
  private readonly correlationId: string;

  constructor(
    private readonly r: JsonObject,
    private readonly ocid: string,
    private readonly releaseId: string,
    private readonly out: MappedRelease,
  ) {
    this.correlationId = ocdsCorrelationId(ocid, releaseId);
  }

  run() {
    for (const k of Object.keys(this.r))
      if (!RELEASE_FIELDS.has(k)) this.unmapped(k, 'not a fact the monitor records');
    const parties = (this.r.parties as JsonObject[] | undefined) ?? [];
    parties.forEach((p) => {
      const id = idText(p.id);
      if (id !== null) this.parties.set(id, p);
    });
    const awards = (this.r.awards as JsonObject[] | undefined) ?? [];
    const contracts = (this.r.contracts as JsonObject[] | undefined) ?? [];
    // the contract each award leads to: our extension's contractId, else derived
    const byAward = new Map<string, string>();
    for (const a of awards) {
      const id = idText(a.id)!;
      byAward.set(id, explicitContractId(a.contractId) ?? contractIdFor(this.ocid, id));
    }
    for (const c of contracts) {
      const awardId = idText(c.awardID)!;
      const explicit = explicitContractId(c.contractId);
      if (explicit) byAward.set(awardId, byAward.get(awardId) ?? explicit);
      else if (!byAward.has(awardId)) byAward.set(awardId, contractIdFor(this.ocid, awardId));
    }
    const used = new Set<string>();
    for (const a of awards) this.award(a, byAward.get(idText(a.id)!)!, used);
    const seenAward = new Set<string>();
    for (const c of contracts) {
      const awardId = idText(c.awardID)!;
      const contractId = explicitContractId(c.contractId) ?? byAward.get(awardId)!;
      const at = `contracts[${idText(c.id)}]`;
      if (seenAward.has(awardId)) {
        this.unmapped(at, `a second contract of award ${awardId}: one award is one contract here`);
        continue;
      }
      seenAward.add(awardId);
      used.add(contractId);
      this.contract(c, contractId, at);
    }
    const ids = [...used];
    this.planningAndTender(ids);
    this.out.contractIds = ids;
    this.reportParties();
  }

  // ------------------------------------------------------------------ helpers
  private unmapped(path: string, reason: string) {
    this.out.unmapped.push({ path, reason });
  }

  private eventId(path: string, explicit: JsonValue | undefined): string {
    return typeof explicit === 'string' && UUID.test(explicit)
      ? explicit.toLowerCase()
      : ocdsEventId(this.ocid, this.releaseId, path);
  }

  private emit(
    path: string,
    type: string,
    contractId: string,
    occurredAt: string,
    data: Record<string, unknown>,
    explicitId: JsonValue | undefined,
  ) {
    this.out.events.push({
      path,
      envelope: {
        eventId: this.eventId(path, explicitId),
        type,
        contractId,
        occurredAt,
        schemaVersion: 1,
        correlationId: this.correlationId,
        data,
      },
    });
  }

  private reject(
    path: string,
    type: string,
    contractId: string | null,
    code: OcdsCode,
    errors: FieldError[],
    fragment: JsonValue,
    explicitId: JsonValue | undefined,
  ) {
    this.out.rejected.push({
      eventId: this.eventId(path, explicitId),
      contractId,
      type,
      code,
      message: errors
        .map((e) => `${e.path} ${e.message}`)
        .join('; ')
        .slice(0, 500),
      errors,
      fragment,
    });
  }

  /** A date-time with its offset, or the problem. */
  private date(v: JsonValue | undefined, path: string): string | FieldError {
    if (typeof v !== 'string') return { path, message: 'is missing' };
    if (parseOffsetDateTime(v) === null)
      return { path, message: 'must be an ISO-8601 date-time with an offset' };
    return v;
  }

  private amount(value: JsonValue | undefined, path: string): string | FieldError {
    if (!isObject(value)) return { path, message: 'is missing' };
    const cur = value.currency;
    if (cur !== undefined && cur !== null && cur !== 'CNY')
      return { path: `${path}.currency`, message: 'must be CNY' };
    const a = amountToYuan(value.amount);
    return 'yuan' in a ? a.yuan : { path: `${path}.amount`, message: a.problem };
  }

  private party(ref: JsonValue | undefined): Party | undefined {
    if (!isObject(ref)) return undefined;
    const id = idText(ref.id);
    return (id !== null ? this.parties.get(id) : undefined) ?? ref;
  }

  private readonly referenced = new Set<Party>();

  private buyer(): { unit?: Record<string, unknown>; error?: FieldError } {
    let p = this.party(this.r.buyer);
    if (!p) {
      const parties = (this.r.parties as JsonObject[] | undefined) ?? [];
      p = parties.find((x) => Array.isArray(x.roles) && x.roles.includes('buyer'));
    }
    if (!p)
      return { error: { path: 'buyer', message: 'no buyer: the purchasing unit is unknown' } };
    this.referenced.add(p);
    const identifier = isObject(p.identifier) ? p.identifier : undefined;
    const code = idText(identifier?.id);
    if (code === null)
      return {
        error: {
          path: 'parties[buyer].identifier.id',
          message: 'is required: it is the unit code',
        },
      };
    const name = str(p.name) ?? str(identifier?.legalName);
    if (!name) return { error: { path: 'parties[buyer].name', message: 'is required' } };
    const unit: Record<string, unknown> = { code, name };
    const details = isObject(p.details) ? p.details : undefined;
    const address = isObject(p.address) ? p.address : undefined;
    const region = str(details?.regionCode) ?? str(address?.region);
    if (region !== undefined) {
      if (/^[0-9A-Za-z-]{1,32}$/.test(region)) unit.region = region;
      else
        this.unmapped(
          'parties[buyer].address.region',
          'not an administrative division code (give details.regionCode, e.g. 500102)',
        );
    }
    return { unit };
  }

  private supplier(
    a: JsonObject,
    at: string,
  ): { supplier?: Record<string, unknown>; error?: FieldError } {
    const refs = Array.isArray(a.suppliers) ? a.suppliers : [];
    if (refs.length === 0) return { error: { path: `${at}.suppliers`, message: 'is required' } };
    for (let i = 1; i < refs.length; i++)
      this.unmapped(
        `${at}.suppliers[${i}]`,
        'a contract has one supplier here: the first is recorded',
      );
    const p = this.party(refs[0]);
    if (!p)
      return {
        error: { path: `${at}.suppliers[0]`, message: 'must be an organization reference' },
      };
    this.referenced.add(p);
    const where = `parties[${idText(p.id) ?? 'supplier'}]`;
    const identifier = isObject(p.identifier) ? p.identifier : undefined;
    const id = idText(identifier?.id);
    if (identifier?.scheme !== 'CN-USCC' || id === null)
      return {
        error: {
          path: `${where}.identifier`,
          message: 'must be a CN-USCC identifier (unified social credit code)',
        },
      };
    if (!isValidCreditCode(id))
      return {
        error: {
          path: `${where}.identifier.id`,
          message: 'is not a valid unified social credit code (GB 32100-2015 check character)',
        },
      };
    const name = str(p.name) ?? str(identifier?.legalName);
    if (!name) return { error: { path: `${where}.name`, message: 'is required' } };
    const details = isObject(p.details) ? p.details : undefined;
    const scale = str(details?.scale);
    const size = scale !== undefined ? SCALE_TO_SIZE[scale] : undefined;
    if (!size || !(SUPPLIER_SIZES as readonly string[]).includes(size))
      return {
        error: {
          path: `${where}.details.scale`,
          message: 'must be micro, small, medium, large or sme: the SME rules depend on it',
        },
      };
    if (scale === 'sme')
      this.unmapped(
        `${where}.details.scale`,
        'sme does not say medium, small or micro: recorded as small (an SME either way)',
      );
    return { supplier: { creditCode: id, name, size } };
  }

  // ------------------------------------------------------------------ awards
  private award(a: JsonObject, contractId: string, used: Set<string>) {
    const at = `awards[${idText(a.id)}]`;
    for (const k of Object.keys(a))
      if (!AWARD_FIELDS.has(k)) this.unmapped(`${at}.${k}`, 'not a fact the monitor records');
    const status = a.status ?? null;
    if (status !== null && status !== 'active') {
      this.unmapped(at, `award status ${show(status)}: only an active award is an award notice`);
      return;
    }
    used.add(contractId);
    const type = 'AwardNoticeIssued';
    const errors: FieldError[] = [];
    const date = this.date(a.date, `${at}.date`);
    if (typeof date !== 'string') errors.push(date);
    const amount = this.amount(a.value, `${at}.value`);
    if (typeof amount !== 'string') errors.push(amount);
    const buyer = this.buyer();
    const supplier = this.supplier(a, at);
    const partyErrors = [buyer.error, supplier.error].filter((e): e is FieldError => !!e);
    if (errors.length > 0 || partyErrors.length > 0) {
      const code =
        typeof amount !== 'string'
          ? OcdsCodes.INVALID_AMOUNT
          : typeof date !== 'string'
            ? OcdsCodes.INVALID_DATE
            : OcdsCodes.INVALID_PARTY;
      this.reject(at, type, contractId, code, [...errors, ...partyErrors], a, a.eventId);
      return;
    }
    const tender = isObject(this.r.tender) ? this.r.tender : undefined;
    const project: Record<string, unknown> = { code: idText(tender?.id) ?? this.ocid };
    const title = str(tender?.title);
    if (title) project.name = title;
    const method = str(tender?.procurementMethodDetails) ?? str(tender?.procurementMethod);
    if (method) project.method = method;
    this.emit(
      at,
      type,
      contractId,
      date as string,
      {
        purchasingUnit: buyer.unit,
        supplier: supplier.supplier,
        project,
        awardAmount: amount,
      },
      a.eventId,
    );
  }

  // ------------------------------------------------------------------ contracts
  private contract(c: JsonObject, contractId: string, at: string) {
    for (const k of Object.keys(c))
      if (!CONTRACT_FIELDS.has(k)) this.unmapped(`${at}.${k}`, 'not a fact the monitor records');
    if (c.dateSigned !== undefined && c.dateSigned !== null) this.signing(c, contractId, at);
    else if (c.status === 'active')
      this.unmapped(`${at}.status`, 'an active contract without dateSigned: no signing recorded');
    const docs = arrayOfObjects(c.documents, `${at}.documents`, this.out.unmapped);
    for (const d of docs) this.document(d, contractId, `${at}.documents`);
    const ms = arrayOfObjects(c.milestones, `${at}.milestones`, this.out.unmapped);
    for (const m of ms) this.milestone(m, contractId, `${at}.milestones`);
    const impl = isObject(c.implementation) ? c.implementation : undefined;
    if (impl) {
      for (const k of Object.keys(impl))
        if (!['transactions', 'milestones', 'documents'].includes(k))
          this.unmapped(`${at}.implementation.${k}`, 'not a fact the monitor records');
      const base = `${at}.implementation`;
      for (const d of arrayOfObjects(impl.documents, `${base}.documents`, this.out.unmapped))
        this.document(d, contractId, `${base}.documents`);
      for (const m of arrayOfObjects(impl.milestones, `${base}.milestones`, this.out.unmapped))
        this.milestone(m, contractId, `${base}.milestones`);
      for (const t of arrayOfObjects(impl.transactions, `${base}.transactions`, this.out.unmapped))
        this.transaction(t, contractId, `${base}.transactions`);
    }
    if (isObject(c.termination)) this.termination(c.termination, contractId, `${at}.termination`);
    else if (c.status === 'terminated')
      this.unmapped(
        `${at}.status`,
        'terminated without termination.date and termination.reason: no termination recorded',
      );
  }

  private signing(c: JsonObject, contractId: string, at: string) {
    const path = `${at}.dateSigned`;
    const errors: FieldError[] = [];
    const date = this.date(c.dateSigned, path);
    if (typeof date !== 'string') errors.push(date);
    const amount = this.amount(c.value, `${at}.value`);
    if (typeof amount !== 'string') errors.push(amount);
    if (errors.length > 0) {
      const code = typeof amount !== 'string' ? OcdsCodes.INVALID_AMOUNT : OcdsCodes.INVALID_DATE;
      this.reject(path, 'ContractSigned', contractId, code, errors, c, c.eventId);
      return;
    }
    const data: Record<string, unknown> = { amount };
    // our extension's fields; a value of the wrong type reaches ingestion, which says so
    for (const k of SIGNING_TERMS) if (c[k] !== undefined && c[k] !== null) data[k] = plain(c[k]);
    this.emit(path, 'ContractSigned', contractId, date as string, data, c.eventId);
  }

  private document(d: JsonObject, contractId: string, list: string) {
    const path = `${list}[${idText(d.id) ?? '?'}]`;
    const kind = d.documentType;
    if (kind !== 'contractNotice' && kind !== 'completionCertificate') {
      this.unmapped(path, `documentType ${show(kind)} is not a fact the monitor records`);
      return;
    }
    const type = kind === 'contractNotice' ? 'ContractAnnounced' : 'AcceptanceCompleted';
    const date = this.date(d.datePublished, `${path}.datePublished`);
    if (typeof date !== 'string') {
      this.reject(path, type, contractId, OcdsCodes.INVALID_DATE, [date], d, d.eventId);
      return;
    }
    const url = str(d.url);
    const data: Record<string, unknown> =
      type === 'ContractAnnounced' ? (url ? { url } : {}) : { passed: true };
    this.emit(path, type, contractId, date, data, d.eventId);
  }

  private milestone(m: JsonObject, contractId: string, list: string) {
    const path = `${list}[${idText(m.id) ?? '?'}]`;
    const code = str(m.code);
    const status = m.status ?? null;
    let type: string;
    let data: Record<string, unknown> = {};
    let dateField: 'dateMet' | 'dateModified' = 'dateMet';
    if (code === 'filing') type = 'ContractFiled';
    else if (code === 'acceptance') {
      type = 'AcceptanceCompleted';
      if (status === 'notMet') {
        data = { passed: false };
        dateField =
          m.dateModified !== undefined && m.dateModified !== null ? 'dateModified' : 'dateMet';
      } else data = { passed: true };
    } else if (code?.startsWith('invoice:')) {
      type = 'InvoiceReceived';
    } else if (m.type === 'delivery') type = 'PerformanceCompleted';
    else {
      this.unmapped(
        path,
        m.type === 'payment'
          ? 'a payment milestone is a plan: payments are implementation.transactions'
          : `milestone type ${show(m.type)} is not a fact the monitor records`,
      );
      return;
    }
    const passedFalse = type === 'AcceptanceCompleted' && data.passed === false;
    if (status !== 'met' && !passedFalse) {
      this.unmapped(path, `status ${show(status)}: only a met milestone is a fact`);
      return;
    }
    const date = this.date(m[dateField], `${path}.${dateField}`);
    const errors: FieldError[] = typeof date === 'string' ? [] : [date];
    if (type === 'InvoiceReceived') {
      const amount = this.amount(m.value, `${path}.value`);
      if (typeof amount !== 'string') errors.push(amount);
      else
        data = {
          invoiceNo: code!.slice('invoice:'.length),
          amount,
          stage: str(m.invoiceStage) ?? 'progress',
        };
      if (errors.length > 0) {
        const c = typeof amount !== 'string' ? OcdsCodes.INVALID_AMOUNT : OcdsCodes.INVALID_DATE;
        this.reject(path, type, contractId, c, errors, m, m.eventId);
        return;
      }
    }
    if (typeof date !== 'string') {
      this.reject(path, type, contractId, OcdsCodes.INVALID_DATE, errors, m, m.eventId);
      return;
    }
    this.emit(path, type, contractId, date, data, m.eventId);
  }

  private transaction(t: JsonObject, contractId: string, list: string) {
    const path = `${list}[${idText(t.id) ?? '?'}]`;
    const type = 'PaymentMade';
    const errors: FieldError[] = [];
    const date = this.date(t.date, `${path}.date`);
    if (typeof date !== 'string') errors.push(date);
    // `amount` is the 1.0 name of `value` (deprecated in 1.1)
    const amount = this.amount(t.value ?? t.amount, `${path}.value`);
    if (typeof amount !== 'string') errors.push(amount);
    if (errors.length > 0) {
      const code = typeof amount !== 'string' ? OcdsCodes.INVALID_AMOUNT : OcdsCodes.INVALID_DATE;
      this.reject(path, type, contractId, code, errors, t, t.eventId);
      return;
    }
    const data: Record<string, unknown> = {
      paymentId: idText(t.id),
      amount,
      kind: str(t.paymentKind) ?? 'progress',
    };
    const invoiceNo = str(t.invoiceNo);
    if (invoiceNo) data.invoiceNo = invoiceNo;
    this.emit(path, type, contractId, date as string, data, t.eventId);
  }

  private termination(t: JsonObject, contractId: string, path: string) {
    const date = this.date(t.date, `${path}.date`);
    if (typeof date !== 'string') {
      this.reject(
        path,
        'ContractTerminated',
        contractId,
        OcdsCodes.INVALID_DATE,
        [date],
        t,
        t.eventId,
      );
      return;
    }
    this.emit(
      path,
      'ContractTerminated',
      contractId,
      date,
      { reason: plain(t.reason ?? null) },
      t.eventId,
    );
  }

  // ------------------------------------------------------------------ planning, tender
  /**
   * The intention (planning documents of type procurementPlan) and the procurement notice
   * (tender documents of type tenderNotice) are facts of each contract of the release: a
   * release without an award names no contract, and they are reported unmapped there.
   */
  private planningAndTender(contractIds: string[]) {
    const planning = isObject(this.r.planning) ? this.r.planning : undefined;
    const tender = isObject(this.r.tender) ? this.r.tender : undefined;
    if (planning)
      for (const k of Object.keys(planning))
        if (k !== 'documents' && k !== 'budget')
          this.unmapped(`planning.${k}`, 'not a fact the monitor records');
    const budget = isObject(planning?.budget) ? planning.budget : undefined;
    const facts: Array<{ d: JsonObject; path: string; type: string }> = [];
    for (const d of arrayOfObjects(planning?.documents, 'planning.documents', this.out.unmapped)) {
      const path = `planning.documents[${idText(d.id) ?? '?'}]`;
      if (d.documentType === 'procurementPlan')
        facts.push({ d, path, type: 'ProcurementIntentionPublished' });
      else
        this.unmapped(
          path,
          `documentType ${show(d.documentType)} is not a fact the monitor records`,
        );
    }
    for (const d of arrayOfObjects(tender?.documents, 'tender.documents', this.out.unmapped)) {
      const path = `tender.documents[${idText(d.id) ?? '?'}]`;
      if (d.documentType === 'tenderNotice')
        facts.push({ d, path, type: 'ProcurementNoticePublished' });
      else
        this.unmapped(
          path,
          `documentType ${show(d.documentType)} is not a fact the monitor records`,
        );
    }
    if (tender)
      for (const k of Object.keys(tender))
        if (
          ![
            'id',
            'title',
            'procurementMethod',
            'procurementMethodDetails',
            'documents',
            'noticeMethod',
          ].includes(k)
        )
          this.unmapped(`tender.${k}`, 'not a fact the monitor records');
    for (const f of facts) {
      if (contractIds.length === 0) {
        this.unmapped(f.path, 'no award in this release names the contract it belongs to');
        continue;
      }
      for (const contractId of contractIds) {
        // one fact per contract: the contract is part of the path
        const path = contractIds.length === 1 ? f.path : `${f.path}@${contractId}`;
        const date = this.date(f.d.datePublished, `${f.path}.datePublished`);
        if (typeof date !== 'string') {
          this.reject(path, f.type, contractId, OcdsCodes.INVALID_DATE, [date], f.d, undefined);
          continue;
        }
        const data: Record<string, unknown> = {};
        if (f.type === 'ProcurementIntentionPublished') {
          const url = str(f.d.url);
          if (url) data.url = url;
          if (budget?.amount !== undefined) {
            const amount = this.amount(budget.amount, 'planning.budget.amount');
            if (typeof amount === 'string') data.budgetAmount = amount;
            else
              this.unmapped(
                'planning.budget.amount',
                `not recorded: ${amount.path} ${amount.message}`,
              );
          }
        } else {
          const method =
            str(tender?.noticeMethod) ?? METHOD_FROM_OCDS[str(tender?.procurementMethod) ?? ''];
          if (method && (PROCUREMENT_METHODS as readonly string[]).includes(method))
            data.method = method;
        }
        this.emit(
          path,
          f.type,
          contractId,
          date,
          data,
          contractIds.length === 1 ? f.d.eventId : undefined,
        );
      }
    }
  }

  /** Parties that are neither the buyer nor a supplier (of an award of this release or another). */
  private reportParties() {
    const ours = (p: JsonObject) =>
      Array.isArray(p.roles) &&
      p.roles.some((r) => r === 'buyer' || r === 'supplier' || r === 'payer' || r === 'payee');
    for (const p of (this.r.parties as JsonObject[] | undefined) ?? [])
      if (!this.referenced.has(p) && !ours(p))
        this.unmapped(
          `parties[${idText(p.id) ?? '?'}]`,
          'neither the buyer nor an awarded supplier: not recorded',
        );
  }
}

/** Contract terms of our extension that go into ContractSigned.data as they are. */
const SIGNING_TERMS = [
  'prepaymentRatio',
  'acceptanceWorkingDays',
  'paymentCondition',
  'paymentTermDays',
  'lateInterestRate',
] as const;

function explicitContractId(v: JsonValue | undefined): string | null {
  return typeof v === 'string' && CONTRACT_ID_PATTERN.test(v) ? v : null;
}

function arrayOfObjects(
  v: JsonValue | undefined,
  path: string,
  unmapped: Unmapped[],
): JsonObject[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    unmapped.push({ path, reason: 'not an array: ignored' });
    return [];
  }
  return v.filter((x, i) => {
    if (isObject(x)) return true;
    unmapped.push({ path: `${path}[${i}]`, reason: 'not an object: ignored' });
    return false;
  }) as JsonObject[];
}

/** A reader value as plain JSON (numbers as numbers) for our envelope fields. */
function plain(v: JsonValue): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

/** A codelist value for a message: its JSON text (a string quoted, a missing one null). */
function show(v: JsonValue | undefined): string {
  return JSON.stringify(v ?? null).slice(0, 80);
}
