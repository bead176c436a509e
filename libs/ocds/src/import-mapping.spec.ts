import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ocdsEventId } from './event-id';
import { contractIdFor, mapRelease, type MappedRelease } from './import-mapping';
import { OcdsReader, type JsonObject } from './json-reader';

const FIXTURE = path.resolve(__dirname, '../../../tests/fixtures/ocds/release-package.json');

/** Releases as the reader gives them (numbers as JsonNumber). */
function releases(text: string): JsonObject[] {
  const r = new OcdsReader();
  return [...r.push(text), ...r.end()].map((i) => {
    if (i.kind !== 'release') throw new Error(i.message);
    return i.release;
  });
}
const one = (release: unknown): MappedRelease => mapRelease(releases(JSON.stringify(release))[0]);

const BUYER = {
  id: 'b',
  name: '重庆市涪陵区教育委员会',
  identifier: { scheme: 'CN-USCC', id: '11500102MB1234567C' },
  details: { regionCode: '500102' },
  roles: ['buyer'],
};
const SUPPLIER = {
  id: 's',
  name: '重庆某某科技有限公司',
  identifier: { scheme: 'CN-USCC', id: '91500102MA5U7QXX2B' },
  details: { scale: 'micro' },
  roles: ['supplier'],
};
const base = (extra: Record<string, unknown>) => ({
  ocid: 'ocds-abc123-7',
  id: 'rel-1',
  date: '2021-12-01T00:00:00+08:00',
  tag: ['award'],
  initiationType: 'tender',
  parties: [BUYER, SUPPLIER],
  buyer: { id: 'b' },
  ...extra,
});
const AWARD = {
  id: 'A1',
  status: 'active',
  date: '2021-09-13T10:00:00+08:00',
  value: { amount: 1250000.5, currency: 'CNY' },
  suppliers: [{ id: 's' }],
};
const contract = (extra: Record<string, unknown>) =>
  base({ tag: ['contract'], contracts: [{ id: 'C1', awardID: 'A1', ...extra }] });
const events = (m: MappedRelease) =>
  m.events.map((e) => ({
    path: e.path,
    type: e.envelope.type,
    occurredAt: e.envelope.occurredAt,
    data: e.envelope.data,
  }));

describe('mapRelease: OCDS release → events (SPEC §10)', () => {
  it('the hand-made package: every fact mapped, in order, with deterministic ids', () => {
    const [r0, r1, r2, r3] = releases(readFileSync(FIXTURE, 'utf8')).map((r) => mapRelease(r));
    const contractId = 'ocds-cqfl01-2021-0456/A1';
    expect(r0.contractIds).toEqual([contractId]);
    expect(r0.events.map((e) => e.envelope.type)).toEqual([
      'AwardNoticeIssued',
      'ProcurementIntentionPublished',
      'ProcurementNoticePublished',
    ]);
    expect(r1.contractIds).toEqual([contractId]);
    expect(r1.events.map((e) => [e.path, e.envelope.type])).toEqual([
      ['contracts[C1].dateSigned', 'ContractSigned'],
      ['contracts[C1].documents[announcement-1]', 'ContractAnnounced'],
      ['contracts[C1].milestones[filing-1]', 'ContractFiled'],
      ['contracts[C1].implementation.milestones[delivery-1]', 'PerformanceCompleted'],
      ['contracts[C1].implementation.milestones[acceptance-1]', 'AcceptanceCompleted'],
      ['contracts[C1].implementation.milestones[invoice-1]', 'InvoiceReceived'],
      ['contracts[C1].implementation.transactions[PAY-PRE-1]', 'PaymentMade'],
      ['contracts[C1].implementation.transactions[PAY-FIN-1]', 'PaymentMade'],
    ]);
    for (const e of r1.events) {
      expect(e.envelope.contractId).toBe(contractId);
      expect(e.envelope.eventId).toBe(
        ocdsEventId('ocds-cqfl01-2021-0456', 'ocds-cqfl01-2021-0456-contract-1', e.path),
      );
      expect(e.envelope.correlationId).toBe(
        'ocds:ocds-cqfl01-2021-0456#ocds-cqfl01-2021-0456-contract-1',
      );
    }
    expect(r1.unmapped).toEqual([
      { path: 'contracts[C1].period', reason: 'not a fact the monitor records' },
      {
        path: 'contracts[C1].documents[contract-text]',
        reason: 'documentType "contractSigned" is not a fact the monitor records',
      },
      {
        path: 'contracts[C1].implementation.milestones[pay-plan-1]',
        reason: 'a payment milestone is a plan: payments are implementation.transactions',
      },
    ]);
    // the third process: an amount with 3 decimals, a signing date without offset
    expect(r2.events).toEqual([]);
    expect(r2.rejected.map((r) => [r.type, r.code, r.errors])).toEqual([
      [
        'AwardNoticeIssued',
        'OCDS.INVALID_AMOUNT',
        [
          {
            path: 'awards[A1].value.amount',
            message: 'has more than 2 decimals: fen cannot hold it exactly',
          },
        ],
      ],
      [
        'ContractSigned',
        'OCDS.INVALID_DATE',
        [
          {
            path: 'contracts[C1].dateSigned',
            message: 'must be an ISO-8601 date-time with an offset',
          },
        ],
      ],
    ]);
    // the fourth: not OCDS
    expect(r3.refusal).toEqual({
      code: 'OCDS.INVALID_RELEASE',
      message: 'the release is not OCDS',
      errors: [
        { path: 'ocid', message: 'must be a non-empty string' },
        { path: 'tag', message: 'must be a non-empty array of strings' },
      ],
    });
    // the same release twice: the same ids
    const again = releases(readFileSync(FIXTURE, 'utf8')).map((r) => mapRelease(r));
    expect(again[1].events.map((e) => e.envelope.eventId)).toEqual(
      r1.events.map((e) => e.envelope.eventId),
    );
  });

  it('award → AwardNoticeIssued: buyer identifier and region, CN-USCC supplier and scale, tender as project, exact amount, offset kept', () => {
    const m = one(
      base({
        tender: { id: 'P-1', title: '项目', procurementMethodDetails: '公开招标' },
        awards: [AWARD],
      }),
    );
    expect(events(m)).toEqual([
      {
        path: 'awards[A1]',
        type: 'AwardNoticeIssued',
        occurredAt: '2021-09-13T10:00:00+08:00',
        data: {
          purchasingUnit: {
            code: '11500102MB1234567C',
            name: '重庆市涪陵区教育委员会',
            region: '500102',
          },
          supplier: {
            creditCode: '91500102MA5U7QXX2B',
            name: '重庆某某科技有限公司',
            size: 'micro',
          },
          project: { code: 'P-1', name: '项目', method: '公开招标' },
          awardAmount: '1250000.50',
        },
      },
    ]);
    expect(m.contractIds).toEqual(['ocds-abc123-7/A1']);
  });

  it('scale sme is recorded as small and said so; a missing scale or a non-USCC supplier is refused', () => {
    const sme = one(
      base({ parties: [BUYER, { ...SUPPLIER, details: { scale: 'sme' } }], awards: [AWARD] }),
    );
    expect((sme.events[0].envelope.data.supplier as { size: string }).size).toBe('small');
    expect(sme.unmapped).toEqual([
      {
        path: 'parties[s].details.scale',
        reason: 'sme does not say medium, small or micro: recorded as small (an SME either way)',
      },
    ]);
    const noScale = one(base({ parties: [BUYER, { ...SUPPLIER, details: {} }], awards: [AWARD] }));
    expect(noScale.rejected.map((r) => [r.code, r.errors[0].path])).toEqual([
      ['OCDS.INVALID_PARTY', 'parties[s].details.scale'],
    ]);
    const orgId = one(
      base({
        parties: [
          BUYER,
          { ...SUPPLIER, identifier: { scheme: 'XI-LEI', id: '5493001KJTIIGC8Y1R12' } },
        ],
        awards: [AWARD],
      }),
    );
    expect(orgId.rejected.map((r) => [r.code, r.errors[0].path])).toEqual([
      ['OCDS.INVALID_PARTY', 'parties[s].identifier'],
    ]);
    const badCode = one(
      base({
        parties: [
          BUYER,
          { ...SUPPLIER, identifier: { scheme: 'CN-USCC', id: '91500102MA5U7QXX2C' } },
        ],
        awards: [AWARD],
      }),
    );
    expect(badCode.rejected[0].errors[0].path).toBe('parties[s].identifier.id');
  });

  it('a region that is a name, not a code, is reported unmapped; an address.region code is used', () => {
    const named = one(
      base({
        parties: [{ ...BUYER, details: undefined, address: { region: '重庆市涪陵区' } }, SUPPLIER],
        awards: [AWARD],
      }),
    );
    expect(named.events[0].envelope.data.purchasingUnit).toEqual({
      code: '11500102MB1234567C',
      name: '重庆市涪陵区教育委员会',
    });
    expect(named.unmapped.map((u) => u.path)).toEqual(['parties[buyer].address.region']);
    const coded = one(
      base({
        parties: [{ ...BUYER, details: undefined, address: { region: '500103' } }, SUPPLIER],
        awards: [AWARD],
      }),
    );
    expect((coded.events[0].envelope.data.purchasingUnit as { region: string }).region).toBe(
      '500103',
    );
  });

  it('only an active award is an award notice; other suppliers and fields are reported', () => {
    const m = one(
      base({
        awards: [
          { ...AWARD, id: 'A0', status: 'pending' },
          { ...AWARD, suppliers: [{ id: 's' }, { id: 'other' }], items: [{ id: 'i' }] },
        ],
      }),
    );
    expect(m.events.map((e) => e.path)).toEqual(['awards[A1]']);
    expect(m.unmapped).toEqual([
      {
        path: 'awards[A0]',
        reason: 'award status "pending": only an active award is an award notice',
      },
      { path: 'awards[A1].items', reason: 'not a fact the monitor records' },
      {
        path: 'awards[A1].suppliers[1]',
        reason: 'a contract has one supplier here: the first is recorded',
      },
    ]);
  });

  it('contracts: dateSigned → ContractSigned with our terms; contractNotice → announcement; milestones and transactions', () => {
    const m = one(
      contract({
        dateSigned: '2021-09-27T15:20:00+08:00',
        value: { amount: 1250000, currency: 'CNY' },
        prepaymentRatio: '0.30',
        acceptanceWorkingDays: 10,
        paymentCondition: 'delivery',
        paymentTermDays: 45,
        lateInterestRate: '0.0365',
        documents: [
          {
            id: 'n',
            documentType: 'contractNotice',
            datePublished: '2021-09-28T09:00:00+08:00',
            url: 'https://x.example/n',
          },
        ],
        milestones: [
          { id: 'f', code: 'filing', status: 'met', dateMet: '2021-10-08T11:00:00+08:00' },
        ],
        implementation: {
          documents: [
            {
              id: 'cc',
              documentType: 'completionCertificate',
              datePublished: '2021-12-02T10:00:00+08:00',
            },
          ],
          milestones: [
            { id: 'd', type: 'delivery', status: 'met', dateMet: '2021-11-30T17:00:00+08:00' },
            {
              id: 'a0',
              code: 'acceptance',
              status: 'notMet',
              dateModified: '2021-12-01T10:00:00+08:00',
            },
            {
              id: 'i',
              code: 'invoice:INV-9',
              status: 'met',
              dateMet: '2021-12-06T10:00:00+08:00',
              value: { amount: 100.1 },
            },
          ],
          transactions: [
            {
              id: 'T1',
              date: '2021-12-07T10:00:00Z',
              value: { amount: 100.1, currency: 'CNY' },
              invoiceNo: 'INV-9',
            },
            {
              id: 'T2',
              date: '2021-12-08T10:00:00+08:00',
              amount: { amount: 5, currency: 'CNY' },
              paymentKind: 'final',
            },
          ],
        },
      }),
    );
    expect(events(m)).toEqual([
      {
        path: 'contracts[C1].dateSigned',
        type: 'ContractSigned',
        occurredAt: '2021-09-27T15:20:00+08:00',
        data: {
          amount: '1250000.00',
          prepaymentRatio: '0.30',
          acceptanceWorkingDays: 10,
          paymentCondition: 'delivery',
          paymentTermDays: 45,
          lateInterestRate: '0.0365',
        },
      },
      {
        path: 'contracts[C1].documents[n]',
        type: 'ContractAnnounced',
        occurredAt: '2021-09-28T09:00:00+08:00',
        data: { url: 'https://x.example/n' },
      },
      {
        path: 'contracts[C1].milestones[f]',
        type: 'ContractFiled',
        occurredAt: '2021-10-08T11:00:00+08:00',
        data: {},
      },
      {
        path: 'contracts[C1].implementation.documents[cc]',
        type: 'AcceptanceCompleted',
        occurredAt: '2021-12-02T10:00:00+08:00',
        data: { passed: true },
      },
      {
        path: 'contracts[C1].implementation.milestones[d]',
        type: 'PerformanceCompleted',
        occurredAt: '2021-11-30T17:00:00+08:00',
        data: {},
      },
      {
        path: 'contracts[C1].implementation.milestones[a0]',
        type: 'AcceptanceCompleted',
        occurredAt: '2021-12-01T10:00:00+08:00',
        data: { passed: false },
      },
      {
        path: 'contracts[C1].implementation.milestones[i]',
        type: 'InvoiceReceived',
        occurredAt: '2021-12-06T10:00:00+08:00',
        data: { invoiceNo: 'INV-9', amount: '100.10', stage: 'progress' },
      },
      {
        path: 'contracts[C1].implementation.transactions[T1]',
        type: 'PaymentMade',
        occurredAt: '2021-12-07T10:00:00Z',
        data: { paymentId: 'T1', amount: '100.10', kind: 'progress', invoiceNo: 'INV-9' },
      },
      {
        path: 'contracts[C1].implementation.transactions[T2]',
        type: 'PaymentMade',
        occurredAt: '2021-12-08T10:00:00+08:00',
        data: { paymentId: 'T2', amount: '5.00', kind: 'final' },
      },
    ]);
    expect(m.unmapped).toEqual([]);
    expect(m.contractIds).toEqual(['ocds-abc123-7/A1']);
  });

  it('termination of our extension → ContractTerminated; a bare terminated status is reported', () => {
    const t = one(
      contract({
        status: 'terminated',
        termination: { date: '2021-12-20T10:00:00+08:00', reason: '供应商违约' },
      }),
    );
    expect(events(t)).toEqual([
      {
        path: 'contracts[C1].termination',
        type: 'ContractTerminated',
        occurredAt: '2021-12-20T10:00:00+08:00',
        data: { reason: '供应商违约' },
      },
    ]);
    const bare = one(contract({ status: 'terminated' }));
    expect(bare.events).toEqual([]);
    expect(bare.unmapped.map((u) => u.path)).toEqual(['contracts[C1].status']);
  });

  it('milestones not met and of other types are reported, not recorded', () => {
    const m = one(
      contract({
        milestones: [
          { id: 'f', code: 'filing', status: 'scheduled', dueDate: '2021-10-08T00:00:00+08:00' },
          { id: 'e', type: 'engagement', status: 'met', dateMet: '2021-10-08T00:00:00+08:00' },
          {
            id: 'd',
            type: 'delivery',
            status: 'partiallyMet',
            dateMet: '2021-10-08T00:00:00+08:00',
          },
        ],
      }),
    );
    expect(m.events).toEqual([]);
    expect(m.unmapped).toEqual([
      {
        path: 'contracts[C1].milestones[f]',
        reason: 'status "scheduled": only a met milestone is a fact',
      },
      {
        path: 'contracts[C1].milestones[e]',
        reason: 'milestone type "engagement" is not a fact the monitor records',
      },
      {
        path: 'contracts[C1].milestones[d]',
        reason: 'status "partiallyMet": only a met milestone is a fact',
      },
    ]);
  });

  it('amounts: not CNY, a string, missing → OCDS.INVALID_AMOUNT with the path', () => {
    const m = one(
      contract({
        dateSigned: '2021-09-27T15:20:00+08:00',
        value: { amount: 10, currency: 'USD' },
        implementation: {
          transactions: [
            { id: 'T1', date: '2021-12-07T10:00:00Z', value: { amount: '100.10' } },
            { id: 'T2', date: '2021-12-07T10:00:00Z' },
          ],
        },
      }),
    );
    expect(m.rejected.map((r) => [r.code, r.errors[0]])).toEqual([
      ['OCDS.INVALID_AMOUNT', { path: 'contracts[C1].value.currency', message: 'must be CNY' }],
      [
        'OCDS.INVALID_AMOUNT',
        {
          path: 'contracts[C1].implementation.transactions[T1].value.amount',
          message: 'must be a JSON number of yuan',
        },
      ],
      [
        'OCDS.INVALID_AMOUNT',
        { path: 'contracts[C1].implementation.transactions[T2].value', message: 'is missing' },
      ],
    ]);
  });

  it('contract ids: our extension wins; else <ocid>/<award id>, or a UUID v5 when that is not a valid id', () => {
    expect(contractIdFor('ocds-abc123-7', 'A1')).toBe('ocds-abc123-7/A1');
    const hashed = contractIdFor('ocds-abc123-7', 'award with spaces');
    expect(hashed).toMatch(
      /^ocds-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(contractIdFor('ocds-abc123-7', 'award with spaces')).toBe(hashed);
    const ours = one(
      base({
        awards: [
          {
            ...AWARD,
            contractId: 'CQ-FL-2021-000123',
            eventId: '0B6F2C1E-7A43-4D8E-9A55-3E2F1C9D8B10',
          },
        ],
      }),
    );
    expect(ours.contractIds).toEqual(['CQ-FL-2021-000123']);
    expect(ours.events[0].envelope.eventId).toBe('0b6f2c1e-7a43-4d8e-9a55-3e2f1c9d8b10');
  });

  it("intention and notice belong to the release's contract; without an award they are reported", () => {
    const none = one({
      ...base({}),
      planning: {
        documents: [
          { id: 'p', documentType: 'procurementPlan', datePublished: '2021-06-20T09:00:00+08:00' },
        ],
      },
      tender: {
        id: 'T',
        procurementMethod: 'selective',
        documents: [
          { id: 'n', documentType: 'tenderNotice', datePublished: '2021-08-01T09:00:00+08:00' },
        ],
      },
    });
    expect(none.events).toEqual([]);
    expect(none.unmapped.map((u) => u.reason)).toEqual([
      'no award in this release names the contract it belongs to',
      'no award in this release names the contract it belongs to',
    ]);
    const withAward = one({
      ...base({ awards: [AWARD] }),
      tender: {
        id: 'T',
        procurementMethod: 'selective',
        documents: [
          { id: 'n', documentType: 'tenderNotice', datePublished: '2021-08-01T09:00:00+08:00' },
        ],
      },
    });
    expect(events(withAward)[1]).toEqual({
      path: 'tender.documents[n]',
      type: 'ProcurementNoticePublished',
      occurredAt: '2021-08-01T09:00:00+08:00',
      data: { method: 'invited_tender' },
    });
  });

  it('what is not OCDS is refused as a whole with the paths', () => {
    const m = one({
      ocid: 'x',
      id: 'r',
      date: 'yesterday',
      tag: 'award',
      awards: {},
      contracts: [{ id: 'C1' }],
    });
    expect(m.refusal?.errors).toEqual([
      { path: 'date', message: 'must be a date-time' },
      { path: 'tag', message: 'must be a non-empty array of strings' },
      { path: 'awards', message: 'must be an array of objects' },
      { path: 'contracts[0].awardID', message: 'is required' },
    ]);
  });
});
