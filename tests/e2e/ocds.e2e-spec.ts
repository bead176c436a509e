import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { creditCode, ev, ocdsValidators } from '@app/testing';
import { Client } from 'pg';
import { catchUpToHead } from '../support/catch-up';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth, bearer, TEST_JWT_SECRET, TEST_PLATFORM_ID, tokenFor } from '../support/auth';

/**
 * SPEC §10 over HTTP (and the CLI): OCDS import through the ingestion of POST /v1/events,
 * export as a record package and as JSON Lines, valid against the OCDS 1.1.5 schema with our
 * extension, round trips with no new events, codes for malformed input, and scoping.
 */
const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(ROOT, 'tests/fixtures/ocds/release-package.json');
const HAND_MADE = 'ocds-cqfl01-2021-0456/A1';

interface ReleaseAnswer {
  at: string;
  ocid: string | null;
  releaseId: string | null;
  contractIds: string[];
  code?: string;
  errors?: Array<{ path: string; message: string }>;
  results: Array<{ eventId: string; status: string; code?: string }>;
  unmapped: Array<{ path: string; reason: string }>;
}
interface ImportAnswer {
  releases: ReleaseAnswer[];
  complete: boolean;
  summary: {
    releases: number;
    refusedReleases: number;
    events: { accepted: number; duplicate: number; rejected: number };
    unmapped: number;
  };
  error?: { code: string; message: string };
}

describe('OCDS in and out (e2e)', () => {
  let t: TestApp;
  let db: Client;
  const validators = ocdsValidators();

  beforeAll(async () => {
    t = await startTestApp();
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const importOcds = async (
    body: string | Buffer,
    contentType = 'application/json',
    headers: Record<string, string> = auth('platform'),
  ) => {
    const res = await fetch(`${t.url}/v1/ocds/releases`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as ImportAnswer & { code?: string } };
  };
  const get = async (p: string, headers: Record<string, string> = auth('inspector')) => {
    const res = await fetch(`${t.url}${p}`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const eventCount = async () =>
    Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0].n);
  const catchUp = () => catchUpToHead(t.app);
  const statuses = (a: ImportAnswer) => a.releases.flatMap((r) => r.results.map((x) => x.status));

  describe('the hand-made package', () => {
    let first: ImportAnswer;

    beforeAll(async () => {
      const res = await importOcds(readFileSync(FIXTURE));
      expect(res.status).toBe(200);
      first = res.body;
      await catchUp();
    });

    it('answers per release: results as POST /v1/events, unmapped paths, refusals with codes', () => {
      expect(first.complete).toBe(true);
      expect(
        first.releases.map((r) => [
          r.at,
          r.ocid,
          r.contractIds,
          r.code ?? null,
          statuses({ releases: [r] } as ImportAnswer),
        ]),
      ).toEqual([
        [
          'releases[0]',
          'ocds-cqfl01-2021-0456',
          [HAND_MADE],
          null,
          ['accepted', 'accepted', 'accepted'],
        ],
        ['releases[1]', 'ocds-cqfl01-2021-0456', [HAND_MADE], null, Array(8).fill('accepted')],
        [
          'releases[2]',
          'ocds-cqfl01-2021-0789',
          ['ocds-cqfl01-2021-0789/A1'],
          null,
          ['rejected', 'rejected'],
        ],
        ['releases[3]', null, [], 'OCDS.INVALID_RELEASE', []],
      ]);
      expect(first.releases[2].results.map((r) => r.code)).toEqual([
        'OCDS.INVALID_AMOUNT',
        'OCDS.INVALID_DATE',
      ]);
      expect(first.releases[0].unmapped).toEqual([
        { path: 'tender.items', reason: 'not a fact the monitor records' },
        {
          path: 'parties[agency-1]',
          reason: 'neither the buyer nor an awarded supplier: not recorded',
        },
      ]);
      expect(first.releases[1].unmapped.map((u) => u.path)).toEqual([
        'contracts[C1].period',
        'contracts[C1].documents[contract-text]',
        'contracts[C1].implementation.milestones[pay-plan-1]',
      ]);
      expect(first.summary).toEqual({
        releases: 4,
        refusedReleases: 1,
        events: { accepted: 11, duplicate: 0, rejected: 2 },
        unmapped: 5,
      });
    });

    it('stores the facts under the platform, with the ocid as correlation id; refusals are kept for audit', async () => {
      const { rows } = await db.query<{
        type: string;
        occurred: string;
        source: { platformId: string };
        corr: string;
      }>(
        `SELECT type, metadata->>'occurredAt' AS occurred, metadata->'source' AS source,
                metadata->>'correlationId' AS corr
           FROM events WHERE stream_id = $1 ORDER BY stream_version`,
        [HAND_MADE],
      );
      expect(rows.map((r) => r.type)).toEqual([
        'AwardNoticeIssued',
        'ProcurementIntentionPublished',
        'ProcurementNoticePublished',
        'ContractSigned',
        'ContractAnnounced',
        'ContractFiled',
        'PerformanceCompleted',
        'AcceptanceCompleted',
        'InvoiceReceived',
        'PaymentMade',
        'PaymentMade',
      ]);
      expect(rows[3].occurred).toBe('2021-09-27T15:20:00+08:00');
      expect(rows.every((r) => r.source.platformId === TEST_PLATFORM_ID)).toBe(true);
      expect(rows[0].corr).toBe('ocds:ocds-cqfl01-2021-0456#ocds-cqfl01-2021-0456-award-1');
      const kept = await db.query<{ code: string }>(
        `SELECT code FROM rejected_events WHERE code LIKE 'OCDS.%' ORDER BY code`,
      );
      expect(kept.rows.map((r) => r.code)).toEqual([
        'OCDS.INVALID_AMOUNT',
        'OCDS.INVALID_DATE',
        'OCDS.INVALID_RELEASE',
      ]);
    });

    it('the compliance of the imported contract is computed as for POST /v1/events', async () => {
      const c = await get(`/v1/contracts/${encodeURIComponent(HAND_MADE)}?asOf=2021-12-31`);
      expect(c.status).toBe(200);
      const body = JSON.parse(c.text) as {
        purchasingUnit: { region: string };
        supplier: { size: string; sme: boolean };
        amount: string;
        obligations: Array<{ key: string; status: string }>;
      };
      expect(body.purchasingUnit.region).toBe('500102');
      expect(body.supplier).toEqual(expect.objectContaining({ size: 'small', sme: true }));
      expect(body.amount).toBe('1250000.00');
      const status = Object.fromEntries(body.obligations.map((o) => [o.key, o.status]));
      expect(status).toEqual(
        expect.objectContaining({
          signing: 'met',
          announcement: 'met',
          filing: 'met',
          acceptance: 'met',
        }),
      );
    });

    it('a re-import is all duplicates: nothing new is stored', async () => {
      const before = await eventCount();
      const again = await importOcds(readFileSync(FIXTURE));
      expect(again.status).toBe(200);
      expect(again.body.summary.events).toEqual({ accepted: 0, duplicate: 11, rejected: 2 });
      expect(await eventCount()).toBe(before);
    });

    it('exports a record package valid against OCDS 1.1.5 + our extension, with the compliance results', async () => {
      const res = await get(`/v1/ocds/contracts/${encodeURIComponent(HAND_MADE)}`);
      expect(res.status).toBe(200);
      const pkg = JSON.parse(res.text) as {
        version: string;
        extensions: string[];
        records: Array<{ ocid: string; compiledRelease: Record<string, any> }>;
      };
      expect(validators.recordPackage(pkg)).toEqual([]);
      const rel = pkg.records[0].compiledRelease;
      expect(validators.release(rel)).toEqual([]);
      expect(pkg.version).toBe('1.1');
      expect(rel.ocid).toBe('ocds-cqfl01-2021-0456');
      expect(rel.awards[0].value).toEqual({ amount: 1250000, currency: 'CNY' });
      expect(rel.parties[1].details).toEqual({ scale: 'small' });
      expect(rel.contracts[0].implementation.transactions.map((x: { id: string }) => x.id)).toEqual(
        ['PAY-PRE-1', 'PAY-FIN-1'],
      );
      const signing = rel.compliance.obligations.find((o: { key: string }) => o.key === 'signing');
      expect(signing).toEqual(
        expect.objectContaining({
          status: 'met',
          deadline: '2021-10-08',
          policy: 'chongqing-2021',
        }),
      );
      expect(typeof signing.source).toBe('string');
      // the extension it names is served, open like /docs
      const ext = await fetch(pkg.extensions[0]);
      expect(ext.status).toBe(200);
      expect(((await ext.json()) as { schemas: string[] }).schemas).toEqual([
        'release-schema.json',
      ]);
    });

    it('importing the export (record package, then JSON Lines) stores nothing new', async () => {
      const before = await eventCount();
      const record = await get(`/v1/ocds/contracts/${encodeURIComponent(HAND_MADE)}`);
      const back = await importOcds(record.text);
      expect(back.status).toBe(200);
      expect(back.body.releases.map((r) => r.at)).toEqual(['records[0].releases[0]']);
      expect(back.body.summary.events).toEqual({ accepted: 0, duplicate: 11, rejected: 0 });
      expect(back.body.releases[0].unmapped).toEqual([]);
      const lines = await get('/v1/ocds/releases');
      expect(lines.status).toBe(200);
      expect(lines.type).toMatch(/^application\/x-ndjson/);
      const releases = lines.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(releases.map((r) => r.ocid)).toEqual(['ocds-cqfl01-2021-0456']);
      for (const r of releases) expect(validators.release(r)).toEqual([]);
      const again = await importOcds(lines.text, 'application/x-ndjson');
      expect(again.body.summary.events).toEqual({ accepted: 0, duplicate: 11, rejected: 0 });
      expect(await eventCount()).toBe(before);
    });
  });

  describe('malformed input is refused with codes, kept for audit, nothing stored', () => {
    it.each([
      [
        'not JSON',
        '{"version":"1.1","releases":[{"ocid":',
        'application/json',
        400,
        'OCDS.INVALID_JSON',
      ],
      ['an array', '[{"ocid":"x"}]', 'application/json', 400, 'OCDS.NOT_OCDS'],
      ['empty', '', 'application/json', 400, 'OCDS.NOT_OCDS'],
      [
        'version 1.0',
        '{"version":"1.0","releases":[]}',
        'application/json',
        400,
        'OCDS.UNSUPPORTED_VERSION',
      ],
      [
        'a bad line of JSON Lines',
        '{"ocid":"a","id":"1","date":"2021-01-01T00:00:00Z","tag":["award"]}\n{oops}\n',
        'application/x-ndjson',
        400,
        'OCDS.INVALID_JSON',
      ],
      ['text/plain', '{}', 'text/plain', 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE'],
    ])('%s → %s %s', async (_name, body, type, status, code) => {
      const before = await eventCount();
      const res = await importOcds(body, type);
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
      expect(await eventCount()).toBe(before);
      const kept = await db.query(`SELECT 1 FROM rejected_events WHERE code = $1`, [code]);
      expect(kept.rowCount).toBeGreaterThan(0);
    });

    it('a body that is not UTF-8 → 400 REQUEST.INVALID_ENCODING', async () => {
      const res = await importOcds(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'REQUEST.INVALID_ENCODING',
      });
    });

    it('a gzipped body is read (Content-Encoding); a corrupt one is 400 REQUEST.INVALID_ENCODING', async () => {
      const zipped = gzipSync(readFileSync(FIXTURE));
      const ok = await importOcds(zipped, 'application/json', {
        ...auth('platform'),
        'content-encoding': 'gzip',
      });
      expect(ok.status).toBe(200);
      expect(ok.body.summary.events).toEqual({ accepted: 0, duplicate: 11, rejected: 2 });
      const corrupt = await importOcds(zipped.subarray(0, 40), 'application/json', {
        ...auth('platform'),
        'content-encoding': 'gzip',
      });
      expect({ status: corrupt.status, code: corrupt.body.code }).toEqual({
        status: 400,
        code: 'REQUEST.INVALID_ENCODING',
      });
      const other = await importOcds('{}', 'application/json', {
        ...auth('platform'),
        'content-encoding': 'compress',
      });
      expect(other.status).toBe(415);
    });

    it('a problem found after a batch was recorded ends the answer with complete: false and the code', async () => {
      const before = await eventCount();
      // 200 releases of 4 events: the first batch (500 events) is recorded before the bad line
      const body = `${generated(200, 0, 'ocds-late00').join('\n')}\n{"ocid": oops}\n`;
      const res = await importOcds(body, 'application/x-ndjson');
      expect(res.status).toBe(200);
      expect(res.body.complete).toBe(false);
      expect(res.body.error?.code).toBe('OCDS.INVALID_JSON');
      const answered = res.body.releases.length;
      expect(answered).toBeGreaterThanOrEqual(125);
      expect(answered).toBeLessThan(200);
      expect(res.body.summary.events.accepted).toBe(4 * answered);
      expect(await eventCount()).toBe(before + 4 * answered);
      // the corrected input imported again: what was recorded is duplicate, the rest accepted
      const fixed = await importOcds(
        generated(200, 0, 'ocds-late00').join('\n'),
        'application/x-ndjson',
      );
      expect(fixed.body.summary.events).toEqual({
        accepted: 4 * (200 - answered),
        duplicate: 4 * answered,
        rejected: 0,
      });
    });

    it('only a platform imports; nobody else', async () => {
      for (const role of ['inspector', 'supplier', 'admin'] as const)
        expect((await importOcds('{}', 'application/json', auth(role))).status).toBe(403);
      expect((await importOcds('{}', 'application/json', {})).status).toBe(401);
    });
  });

  describe('scoped as the other reads', () => {
    const OTHER = 'CQ-OCDS-SCOPE-1';
    beforeAll(async () => {
      const res = await fetch(`${t.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth('platform') },
        body: JSON.stringify([
          ev.award(OTHER, '2021-09-13', {
            unit: { code: 'U-500103-1', name: '重庆市涪陵区卫生健康委员会', region: '500103' },
            supplierCode: creditCode(77),
          }),
          ev.signed(OTHER, '2021-09-20', '1000.00'),
        ]),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { results: Array<{ status: string }> };
      expect(answer.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      await catchUp();
    });

    it('an inspector limited to regions exports only those contracts; another region is 404', async () => {
      const limited = bearer(await tokenFor('inspector', { regions: ['500103'] }));
      const lines = await get('/v1/ocds/releases', limited);
      const ocids = lines.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { ocid: string }).ocid);
      expect(ocids).toEqual([`ocds-cpcm00-${OTHER}`]);
      expect(
        (await get(`/v1/ocds/contracts/${encodeURIComponent(HAND_MADE)}`, limited)).status,
      ).toBe(404);
      expect((await get(`/v1/ocds/contracts/${OTHER}`, limited)).status).toBe(200);
      const all = await get('/v1/ocds/releases?unit=U-500103-1&from=2021-09-01&to=2021-09-30');
      expect(all.text.trim().split('\n')).toHaveLength(1);
      const none = await get('/v1/ocds/releases?from=2022-01-01');
      expect(none.text).toBe('');
      expect((await get('/v1/ocds/releases?from=2021-10-01&to=2021-09-01')).status).toBe(400);
    });

    it("a supplier exports its own contract; another's is 404 like a missing one", async () => {
      const own = bearer(await tokenFor('supplier', { creditCode: creditCode(77) }));
      expect((await get(`/v1/ocds/contracts/${OTHER}`, own)).status).toBe(200);
      expect((await get(`/v1/ocds/contracts/${encodeURIComponent(HAND_MADE)}`, own)).status).toBe(
        404,
      );
      expect((await get('/v1/ocds/contracts/NO-SUCH', own)).status).toBe(404);
      expect((await get('/v1/ocds/releases', own)).status).toBe(403);
    });

    it('the export of a contract sent as events round-trips too', async () => {
      const before = await eventCount();
      const record = await get(`/v1/ocds/contracts/${OTHER}`);
      const pkg = JSON.parse(record.text) as Record<string, unknown>;
      expect(validators.recordPackage(pkg)).toEqual([]);
      const back = await importOcds(record.text);
      expect(back.body.summary.events).toEqual({ accepted: 0, duplicate: 2, rejected: 0 });
      expect(await eventCount()).toBe(before);
    });
  });

  it('the CLI imports a file as the HTTP route does (a second run: all duplicates)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ocds-cli-'));
    try {
      const file = path.join(dir, 'releases.jsonl');
      writeFileSync(file, generated(20, 0, 'ocds-cli000').join('\n'));
      const run = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            [
              '-r',
              '@swc-node/register',
              'apps/monitor/src/cli.ts',
              'ocds-import',
              file,
              '--platform-id',
              'cli-platform',
            ],
            {
              cwd: ROOT,
              env: {
                PATH: process.env.PATH,
                HOME: process.env.HOME,
                DATABASE_URL: t.db.url,
                JWT_SECRET: TEST_JWT_SECRET,
              },
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.once('exit', (code) => resolve({ code, out }));
        });
      const first = await run();
      expect(first.code).toBe(0);
      const lines = first.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>);
      expect(lines).toHaveLength(21);
      expect(lines[20]).toEqual(
        expect.objectContaining({
          complete: true,
          summary: {
            releases: 20,
            refusedReleases: 0,
            events: { accepted: 80, duplicate: 0, rejected: 0 },
            unmapped: 0,
          },
        }),
      );
      const { rows } = await db.query<{ p: string }>(
        `SELECT DISTINCT metadata->'source'->>'platformId' AS p FROM events WHERE stream_id LIKE 'ocds-cli000-%'`,
      );
      expect(rows).toEqual([{ p: 'cli-platform' }]);
      const second = await run();
      expect(second.code).toBe(0);
      const summary = JSON.parse(second.out.trim().split('\n').pop()!) as Record<string, any>;
      expect(summary.summary.events).toEqual({ accepted: 0, duplicate: 80, rejected: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a generated set of 10,000 releases round-trips: import, export, import the export: no new events', async () => {
    const N = 10_000;
    const body = generated(N, 0, 'ocds-gen000').join('\n');
    const started = Date.now();
    const first = await importOcds(body, 'application/x-ndjson');
    const importMs = Date.now() - started;
    expect(first.status).toBe(200);
    expect(first.body.summary).toEqual({
      releases: N,
      refusedReleases: 0,
      events: { accepted: 4 * N, duplicate: 0, rejected: 0 },
      unmapped: 0,
    });
    await catchUp();
    const before = await eventCount();
    const exportStarted = Date.now();
    const lines = await get('/v1/ocds/releases?unit=U-GEN-0&from=2021-01-01');
    const exportMs = Date.now() - exportStarted;
    expect(lines.status).toBe(200);
    // (the CLI test's contracts share the unit)
    const exported = lines.text
      .trim()
      .split('\n')
      .filter((l) => l.includes('"ocid":"ocds-gen000-'));
    expect(exported).toHaveLength(N / 10);
    const invalid = (ls: string[]) =>
      ls
        .map((l) => ({ l: l.slice(0, 80), errors: validators.release(JSON.parse(l)) }))
        .filter((r) => r.errors.length > 0)
        .slice(0, 3);
    expect(invalid(exported)).toEqual([]);
    const everything = await get('/v1/ocds/releases?from=2021-01-01&to=2021-12-31');
    const all = everything.text
      .trim()
      .split('\n')
      .filter((l) => l.includes('"ocid":"ocds-gen000-'));
    expect(all).toHaveLength(N);
    expect(invalid(all)).toEqual([]); // every exported release against the schema + extension
    const again = await importOcds(all.join('\n'), 'application/x-ndjson');
    expect(again.body.summary.events).toEqual({ accepted: 0, duplicate: 4 * N, rejected: 0 });
    expect(again.body.summary.unmapped).toBe(0);
    expect(await eventCount()).toBe(before);
    console.log(
      `OCDS 10,000 releases: import ${importMs} ms (${Math.round((4 * N * 1000) / importMs)} events/s), ` +
        `export of 1,000 contracts ${exportMs} ms, body ${Math.round(body.length / 1024)} KiB`,
    );
  }, 600_000);
});

/**
 * `n` generated JSON-Lines releases, one whole process each (award, signing, invoice,
 * payment: 4 events), over 10 units; ocids `<prefix>-<base + i>`.
 */
function generated(n: number, base: number, prefix: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = base + i;
    const day = String(1 + (k % 28)).padStart(2, '0');
    const month = String(1 + (k % 9)).padStart(2, '0');
    const unit = `U-GEN-${k % 10}`;
    const fen = 100_000 + ((k * 7919) % 9_000_000);
    const amount = fen / 100;
    lines.push(
      JSON.stringify({
        ocid: `${prefix}-${k}`,
        id: `${prefix}-${k}-1`,
        date: `2021-${month}-${day}T18:00:00+08:00`,
        tag: ['award', 'contract', 'implementation'],
        initiationType: 'tender',
        parties: [
          {
            id: 'b',
            name: `单位 ${unit}`,
            identifier: { id: unit },
            details: { regionCode: k % 2 ? '500102' : '500104' },
            roles: ['buyer'],
          },
          {
            id: 's',
            name: `供应商 ${k % 500}`,
            identifier: { scheme: 'CN-USCC', id: creditCode(k % 500) },
            details: { scale: ['micro', 'small', 'medium', 'large'][k % 4] },
            roles: ['supplier'],
          },
        ],
        buyer: { id: 'b' },
        tender: { id: `P-${k}` },
        awards: [
          {
            id: 'A1',
            status: 'active',
            date: `2021-${month}-${day}T09:00:00+08:00`,
            value: { amount, currency: 'CNY' },
            suppliers: [{ id: 's' }],
          },
        ],
        contracts: [
          {
            id: 'C1',
            awardID: 'A1',
            dateSigned: `2021-${month}-${day}T15:00:00+08:00`,
            value: { amount, currency: 'CNY' },
            implementation: {
              milestones: [
                {
                  id: 'i',
                  code: 'invoice:INV-1',
                  type: 'payment',
                  status: 'met',
                  dateMet: `2021-${month}-${day}T16:00:00+08:00`,
                  value: { amount, currency: 'CNY' },
                  invoiceStage: 'final',
                },
              ],
              transactions: [
                {
                  id: 'T1',
                  date: `2021-${month}-${day}T17:00:00+08:00`,
                  value: { amount, currency: 'CNY' },
                  paymentKind: 'final',
                  invoiceNo: 'INV-1',
                },
              ],
            },
          },
        ],
      }),
    );
  }
  return lines;
}
