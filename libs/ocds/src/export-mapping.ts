import { isValidCreditCode } from '@app/contracts';
import { yuanToFen } from '@app/domain';
import { fenToAmount } from './amounts';
import { ocidOfCorrelation } from './import-mapping';

/** A stored fact of the contract, as the export reads it (retracted facts left out). */
export interface ExportEvent {
  eventId: string;
  type: string;
  /** as received, with its offset */
  occurredAt: string;
  data: Record<string, unknown>;
  correlationId: string | null;
}

/** An obligation with its status as of `asOf` (as GET /v1/contracts/{id} gives it). */
export interface ExportObligation {
  rule: string;
  key: string;
  startedOn: string;
  deadline: string;
  fulfilledOn: string | null;
  status: string;
  delayDays: number;
  delayWorkingDays: number | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
}

export interface ExportContract {
  contractId: string;
  asOf: string;
  stage: string;
  events: ExportEvent[];
  obligations: ExportObligation[];
  dataQuality: Array<{ code: string; message: string; eventId?: string }>;
}

export interface ExportOptions {
  /** the prefix of ocids for contracts that did not come from OCDS (`<prefix>-<contractId>`) */
  ocidPrefix: string;
}

type Obj = Record<string, unknown>;

/** ContractSigned terms that our extension carries on the contract as they are. */
const SIGNING_TERMS = [
  'prepaymentRatio',
  'acceptanceWorkingDays',
  'paymentCondition',
  'paymentTermDays',
  'lateInterestRate',
];

const value = (yuan: unknown): Obj => ({
  amount: fenToAmount(yuanToFen(String(yuan))),
  currency: 'CNY',
});

/** The ocid of a contract: the one its facts were imported from, else `<prefix>-<contractId>`. */
export function ocidOf(c: ExportContract, opts: ExportOptions): string {
  for (const e of c.events) {
    const ocid = ocidOfCorrelation(e.correlationId);
    if (ocid) return ocid;
  }
  return `${opts.ocidPrefix}-${c.contractId}`;
}

/**
 * The compiled release of one contract (OCDS 1.1 with our extension; the table is
 * docs/ocds.md): every stored fact that is not retracted, each carrying its event id, and
 * the compliance results as of `asOf`. Importing it again yields the same event ids: all
 * duplicates.
 */
export function compileRelease(c: ExportContract, opts: ExportOptions): Obj {
  const ocid = ocidOf(c, opts);
  let latest = c.events[0]?.occurredAt;
  for (const e of c.events)
    if (Date.parse(e.occurredAt) > Date.parse(latest)) latest = e.occurredAt;
  const date = latest ?? `${c.asOf}T00:00:00+08:00`;
  const parties: Obj[] = [];
  const release: Obj = {
    ocid,
    id: `${ocid}-${date}`,
    date,
    tag: ['compiled'],
    initiationType: 'tender',
    parties,
  };
  const award: Obj = { id: c.contractId, contractId: c.contractId };
  const contract: Obj = { id: c.contractId, awardID: c.contractId, contractId: c.contractId };
  const cdocs: Obj[] = [];
  const cmilestones: Obj[] = [];
  const imilestones: Obj[] = [];
  const transactions: Obj[] = [];
  const tender: Obj = {};
  const tenderDocs: Obj[] = [];
  const planningDocs: Obj[] = [];
  let budget: Obj | undefined;
  let buyerRef: Obj | undefined;
  let supplierRef: Obj | undefined;
  let signed = false;
  let terminated = false;
  let hasAward = false;
  let hasContract = false;

  for (const e of c.events) {
    const d = e.data;
    switch (e.type) {
      case 'AwardNoticeIssued': {
        hasAward = true;
        const unit = d.purchasingUnit as Obj;
        const sup = d.supplier as Obj;
        const project = d.project as Obj;
        const unitCode = String(unit.code);
        const buyer: Obj = {
          id: `buyer-${unitCode}`,
          name: unit.name,
          identifier: isValidCreditCode(unitCode)
            ? { scheme: 'CN-USCC', id: unitCode }
            : { id: unitCode },
          roles: ['buyer', 'payer'],
        };
        if (unit.region) buyer.details = { regionCode: unit.region };
        const supplier: Obj = {
          id: `CN-USCC-${String(sup.creditCode)}`,
          name: sup.name,
          identifier: { scheme: 'CN-USCC', id: sup.creditCode, legalName: sup.name },
          details: { scale: sup.size },
          roles: ['supplier', 'payee'],
        };
        parties.push(buyer, supplier);
        buyerRef = { id: buyer.id, name: buyer.name };
        supplierRef = { id: supplier.id, name: supplier.name };
        release.buyer = buyerRef;
        tender.id = project.code;
        if (project.name) tender.title = project.name;
        if (project.method) tender.procurementMethodDetails = project.method;
        Object.assign(award, {
          eventId: e.eventId,
          status: 'active',
          date: e.occurredAt,
          value: value(d.awardAmount),
          suppliers: [supplierRef],
        });
        break;
      }
      case 'ContractSigned':
        signed = hasContract = true;
        Object.assign(contract, {
          eventId: e.eventId,
          dateSigned: e.occurredAt,
          value: value(d.amount),
          ...Object.fromEntries(
            SIGNING_TERMS.filter((k) => d[k] !== undefined).map((k) => [k, d[k]]),
          ),
        });
        break;
      case 'ContractAnnounced':
        hasContract = true;
        cdocs.push({
          id: `announcement-${e.eventId}`,
          eventId: e.eventId,
          documentType: 'contractNotice',
          datePublished: e.occurredAt,
          ...(d.url !== undefined && { url: d.url }),
        });
        break;
      case 'ContractFiled':
        hasContract = true;
        cmilestones.push({
          id: `filing-${e.eventId}`,
          eventId: e.eventId,
          code: 'filing',
          type: 'approval',
          title: '合同备案',
          status: 'met',
          dateMet: e.occurredAt,
        });
        break;
      case 'PerformanceCompleted':
        hasContract = true;
        imilestones.push({
          id: `delivery-${e.eventId}`,
          eventId: e.eventId,
          type: 'delivery',
          title: '合同执行完毕',
          status: 'met',
          dateMet: e.occurredAt,
        });
        break;
      case 'AcceptanceCompleted':
        hasContract = true;
        imilestones.push({
          id: `acceptance-${e.eventId}`,
          eventId: e.eventId,
          code: 'acceptance',
          type: 'assessment',
          title: '履约验收',
          ...(d.passed === true
            ? { status: 'met', dateMet: e.occurredAt }
            : { status: 'notMet', dateModified: e.occurredAt }),
        });
        break;
      case 'InvoiceReceived':
        hasContract = true;
        imilestones.push({
          id: `invoice-${e.eventId}`,
          eventId: e.eventId,
          code: `invoice:${String(d.invoiceNo)}`,
          type: 'payment',
          title: `发票 ${String(d.invoiceNo)}`,
          status: 'met',
          dateMet: e.occurredAt,
          value: value(d.amount),
          invoiceStage: d.stage,
        });
        break;
      case 'PaymentMade':
        hasContract = true;
        transactions.push({
          id: d.paymentId,
          eventId: e.eventId,
          date: e.occurredAt,
          value: value(d.amount),
          paymentKind: d.kind,
          ...(d.invoiceNo !== undefined && { invoiceNo: d.invoiceNo }),
          ...(buyerRef && { payer: buyerRef }),
          ...(supplierRef && { payee: supplierRef }),
        });
        break;
      case 'ContractTerminated':
        terminated = hasContract = true;
        contract.termination = { date: e.occurredAt, reason: d.reason, eventId: e.eventId };
        break;
      case 'ProcurementIntentionPublished':
        planningDocs.push({
          id: `intention-${e.eventId}`,
          eventId: e.eventId,
          documentType: 'procurementPlan',
          datePublished: e.occurredAt,
          ...(d.url !== undefined && { url: d.url }),
        });
        if (d.budgetAmount !== undefined) budget = { amount: value(d.budgetAmount) };
        break;
      case 'ProcurementNoticePublished':
        tenderDocs.push({
          id: `notice-${e.eventId}`,
          eventId: e.eventId,
          documentType: 'tenderNotice',
          datePublished: e.occurredAt,
        });
        if (d.method !== undefined) tender.noticeMethod = d.method;
        break;
      default:
        break; // retractions and exemptions are not facts of the process (see compliance)
    }
  }

  if (tenderDocs.length > 0 || tender.id !== undefined) {
    tender.id ??= c.contractId;
    if (tenderDocs.length > 0) tender.documents = tenderDocs;
    release.tender = tender;
  }
  if (planningDocs.length > 0 || budget) {
    release.planning = {
      ...(budget && { budget }),
      ...(planningDocs.length > 0 && { documents: planningDocs }),
    };
  }
  if (hasAward) release.awards = [award];
  if (hasContract) {
    contract.status = terminated ? 'terminated' : signed ? 'active' : 'pending';
    if (cdocs.length > 0) contract.documents = cdocs;
    if (cmilestones.length > 0) contract.milestones = cmilestones;
    if (imilestones.length > 0 || transactions.length > 0)
      contract.implementation = {
        ...(transactions.length > 0 && { transactions }),
        ...(imilestones.length > 0 && { milestones: imilestones }),
      };
    release.contracts = [contract];
  }
  if (parties.length === 0) delete release.parties;
  release.compliance = {
    contractId: c.contractId,
    asOf: c.asOf,
    stage: c.stage,
    obligations: c.obligations.map((o) => ({
      rule: o.rule,
      key: o.key,
      startedOn: o.startedOn,
      deadline: o.deadline,
      fulfilledOn: o.fulfilledOn,
      status: o.status,
      delayDays: o.delayDays,
      delayWorkingDays: o.delayWorkingDays,
      provisional: o.provisional,
      policy: o.policy,
      source: o.source,
    })),
    dataQuality: c.dataQuality.map((f) => ({
      code: f.code,
      message: f.message,
      ...(f.eventId !== undefined && { eventId: f.eventId }),
    })),
  };
  return release;
}

/** The OCDS release tag of a contract's stage, for the one release a record embeds. */
export function stageTag(release: Obj): string {
  const contracts = release.contracts as Obj[] | undefined;
  const c = contracts?.[0];
  if (c?.status === 'terminated') return 'contractTermination';
  if (c?.implementation) return 'implementation';
  if (c) return 'contract';
  if (release.awards) return 'award';
  return release.tender ? 'tender' : 'planning';
}
