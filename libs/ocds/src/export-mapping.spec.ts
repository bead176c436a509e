import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ocdsValidators } from '@app/testing';
import { compileRelease, stageTag, type ExportContract } from './export-mapping';
import { mapRelease } from './import-mapping';
import { OcdsReader, type JsonObject } from './json-reader';

const FIXTURE = path.resolve(__dirname, '../../../tests/fixtures/ocds/release-package.json');

function releases(text: string): JsonObject[] {
  const r = new OcdsReader();
  return [...r.push(text), ...r.end()].flatMap((i) => (i.kind === 'release' ? [i.release] : []));
}

/** The facts of the fixture's first process, as the store would give them back. */
function storedContract(): ExportContract {
  const mapped = releases(readFileSync(FIXTURE, 'utf8'))
    .slice(0, 2)
    .map((r) => mapRelease(r));
  const events = mapped.flatMap((m) =>
    m.events.map((e) => ({
      eventId: e.envelope.eventId,
      type: e.envelope.type,
      occurredAt: e.envelope.occurredAt,
      data: e.envelope.data,
      correlationId: e.envelope.correlationId,
    })),
  );
  return {
    contractId: 'ocds-cqfl01-2021-0456/A1',
    asOf: '2021-12-31',
    stage: 'paid',
    events,
    obligations: [
      {
        rule: 'signing',
        key: 'signing',
        startedOn: '2021-09-13',
        deadline: '2021-10-08',
        fulfilledOn: '2021-09-27',
        status: 'met',
        delayDays: 0,
        delayWorkingDays: null,
        provisional: false,
        policy: 'chongqing-2021',
        source: '涪陵区2021年优化营商环境实施方案 item 13',
      },
    ],
    dataQuality: [],
  };
}

describe('compileRelease: contract → OCDS compiled release', () => {
  const validators = ocdsValidators();

  it('is valid against the OCDS 1.1.5 release schema merged with our extension', () => {
    const release = compileRelease(storedContract(), { ocidPrefix: 'ocds-cpcm00' });
    expect(validators.release(release)).toEqual([]);
    expect(release.ocid).toBe('ocds-cqfl01-2021-0456');
    expect(release.date).toBe('2021-12-10T16:00:00+08:00');
    expect(release.tag).toEqual(['compiled']);
    expect(stageTag(release)).toBe('implementation');
    const pkg = {
      uri: 'http://127.0.0.1/v1/ocds/contracts/x',
      version: '1.1',
      extensions: ['http://127.0.0.1/ocds/extension/extension.json'],
      publisher: { name: 'test' },
      publishedDate: '2021-12-31T00:00:00Z',
      records: [
        {
          ocid: release.ocid,
          releases: [{ ...release, tag: ['implementation'] }],
          compiledRelease: release,
        },
      ],
    };
    expect(validators.recordPackage(pkg)).toEqual([]);
  });

  it('the schema check can fail: a wrong amount type, an unknown obligation status, a closed codelist', () => {
    const release = compileRelease(storedContract(), { ocidPrefix: 'ocds-cpcm00' });
    const broken = JSON.parse(JSON.stringify(release)) as {
      awards: Array<{ value: { amount: unknown } }>;
      compliance: { obligations: Array<{ status: string }> };
      tag: string[];
    };
    broken.awards[0].value.amount = '1250000.00';
    broken.compliance.obligations[0].status = 'fine';
    broken.tag = ['whatever'];
    const errors = validators.release(broken);
    expect(errors).toEqual(
      expect.arrayContaining([
        '/awards/0/value/amount must be number,null',
        '/compliance/obligations/0/status must be equal to one of the allowed values',
        '/tag/0 must be equal to one of the allowed values',
      ]),
    );
  });

  it('round-trips: importing the export gives the same event ids, contract and data', () => {
    const stored = storedContract();
    const release = compileRelease(stored, { ocidPrefix: 'ocds-cpcm00' });
    const back = mapRelease(releases(JSON.stringify(release))[0]);
    expect(back.rejected).toEqual([]);
    expect(back.unmapped).toEqual([]);
    expect(back.contractIds).toEqual([stored.contractId]);
    const key = (e: { eventId: string; type: string; occurredAt: string; data: unknown }) =>
      JSON.stringify([e.eventId, e.type, e.occurredAt, e.data]);
    expect(back.events.map((e) => key({ ...e.envelope })).sort()).toEqual(
      stored.events.map(key).sort(),
    );
    expect(back.events.every((e) => e.envelope.contractId === stored.contractId)).toBe(true);
  });

  it('a contract that did not come from OCDS gets <prefix>-<contractId> and round-trips too', () => {
    const stored = storedContract();
    stored.contractId = 'CQ-FL-2021-000123';
    stored.events = stored.events.map((e) => ({ ...e, correlationId: null }));
    const release = compileRelease(stored, { ocidPrefix: 'ocds-cpcm00' });
    expect(release.ocid).toBe('ocds-cpcm00-CQ-FL-2021-000123');
    expect(validators.release(release)).toEqual([]);
    const back = mapRelease(releases(JSON.stringify(release))[0]);
    expect(back.contractIds).toEqual(['CQ-FL-2021-000123']);
    expect(back.events.map((e) => e.envelope.eventId).sort()).toEqual(
      stored.events.map((e) => e.eventId).sort(),
    );
  });
});
