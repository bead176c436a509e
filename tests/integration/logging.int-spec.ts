/**
 * Logs as JSON lines (issue #11, item 7): every line logged while handling a request carries
 * that request's correlation id; a request's bearer token and body are never logged. Checked
 * on the application in this process (its logger writing into memory, at the most verbose
 * level) and on the service as a real process (its stdout, not a terminal: JSON lines).
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { AppLogger, loadConfig } from '@app/platform';
import { createTestDatabase, ev, type TestDatabase } from '@app/testing';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { TEST_JWT_SECRET, tokenFor } from '../support/auth';

const ROOT = path.resolve(__dirname, '../..');
type Line = Record<string, unknown> & { msg: string };

/** Text that must never reach the logs: in request bodies and tokens. */
const BODY_MARKER = 'BODY-MARKER-厦门-7f3a';

describe('logging: correlation ids on every line of a request, no tokens, no bodies', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('logging');
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('in process (LOG_LEVEL=verbose)', () => {
    let app: INestApplication;
    let url: string;
    const raw: string[] = [];
    const lines = () => raw.map((s) => JSON.parse(s) as Line);

    beforeAll(async () => {
      const config = loadConfig({
        LOG_LEVEL: 'verbose',
        ROLE_PROJECTOR: 'false',
        JWT_SECRET: TEST_JWT_SECRET,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'monitor-logging-')),
      });
      const logger = new AppLogger(config.logLevel, {
        destination: { write: (s: string) => void raw.push(s) },
      });
      app = await createApp({ config, databaseUrl: db.url, logger });
      await app.listen(0, '127.0.0.1');
      url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
    });
    afterAll(async () => {
      await app?.close();
    });

    /** The lines logged while this request was handled (by its correlation id). */
    const send = async (id: string, p: string, init: RequestInit) => {
      const res = await fetch(`${url}${p}`, {
        ...init,
        headers: { 'x-correlation-id': id, ...(init.headers as Record<string, string>) },
      });
      await res.text();
      expect(res.headers.get('x-correlation-id')).toBe(id);
      // the response may be sent before its last line is written
      await new Promise((r) => setTimeout(r, 50));
      return res.status;
    };

    it('gives every line logged during a request its correlation id, and none to other lines', async () => {
      raw.length = 0;
      // a refused token (logged by the guard at debug), after body-parser read a JSON body
      const status = await send('corr-refused-1', '/v1/contracts/LOG-1/exemptions', {
        method: 'POST',
        headers: { authorization: 'Bearer not.a.token', 'content-type': 'application/json' },
        body: JSON.stringify({ rule: 'signing', reason: BODY_MARKER }),
      });
      expect(status).toBe(401);
      const mine = lines().filter((l) => l.correlationId === 'corr-refused-1');
      expect(mine.map((l) => l.context)).toEqual(expect.arrayContaining(['Auth', 'HTTP']));
      expect(mine.find((l) => l.context === 'HTTP')?.msg).toMatch(
        /^POST \/v1\/contracts\/:contractId\/exemptions 401 [\d.]+ ms$/,
      );
      // every line written meanwhile belongs to this request
      expect(lines().filter((l) => l.correlationId !== 'corr-refused-1')).toEqual([]);

      // a body that arrives in two parts, the second later: the guard's line comes after
      // body-parser waited for it
      raw.length = 0;
      const slow = await new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ rule: 'signing', reason: BODY_MARKER });
        const req = http.request(
          `${url}/v1/contracts/LOG-1/exemptions`,
          {
            method: 'POST',
            headers: {
              authorization: 'Bearer not.a.token',
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'x-correlation-id': 'corr-slow-1',
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 200);
      });
      expect(slow).toBe(401);
      await new Promise((r) => setTimeout(r, 50));
      expect(lines().map((l) => [l.context, l.correlationId])).toEqual([
        ['Auth', 'corr-slow-1'],
        ['HTTP', 'corr-slow-1'],
      ]);

      // two requests at once: each line carries its own request's id
      raw.length = 0;
      await Promise.all(
        ['corr-a', 'corr-b', 'corr-c'].map((id) =>
          send(id, `/v1/units?asOf=2021-12-31`, { headers: { authorization: 'Bearer x.y.z' } }),
        ),
      );
      for (const id of ['corr-a', 'corr-b', 'corr-c']) {
        const theirs = lines().filter((l) => l.correlationId === id);
        expect(theirs.map((l) => l.context).sort()).toEqual(['Auth', 'HTTP']);
      }
      expect(lines().every((l) => typeof l.correlationId === 'string')).toBe(true);
    });

    it('logs neither the bearer token nor the body of a request', async () => {
      raw.length = 0;
      const platform = await tokenFor('platform', { sub: `sub-${BODY_MARKER}` });
      const inspector = await tokenFor('inspector');
      const award = ev.award('LOG-2', '2021-09-13', {
        unit: { code: 'U-LOG-1', name: BODY_MARKER, region: '500102' },
      });
      const json = { 'content-type': 'application/json' };
      // accepted, then refused in every way a body can be (not JSON, invalid, conflicting)
      expect(
        await send('corr-body-1', '/v1/events', {
          method: 'POST',
          headers: { authorization: `Bearer ${platform}`, ...json },
          body: JSON.stringify(award),
        }),
      ).toBe(202);
      expect(
        await send('corr-body-2', '/v1/events', {
          method: 'POST',
          headers: { authorization: `Bearer ${platform}`, ...json },
          body: `{"contractId": "${BODY_MARKER}", broken`,
        }),
      ).toBe(400);
      expect(
        await send('corr-body-3', '/v1/events', {
          method: 'POST',
          headers: { authorization: `Bearer ${platform}`, ...json },
          body: JSON.stringify([{ ...award, eventId: 'nope', data: { marker: BODY_MARKER } }]),
        }),
      ).toBe(200);
      expect(
        await send('corr-body-4', '/v1/contracts/LOG-2/exemptions', {
          method: 'POST',
          headers: { authorization: `Bearer ${inspector}`, ...json },
          body: `{"rule": "signing", "reason": "${BODY_MARKER}", "extra": "${BODY_MARKER}"}`,
        }),
      ).toBe(400);
      expect(
        await send('corr-body-5', '/v1/contracts/LOG-2/exemptions', {
          method: 'POST',
          headers: { authorization: `Bearer ${inspector}`, ...json },
          body: `{"rule": "signing", "reason": "${BODY_MARKER}`,
        }),
      ).toBe(400);
      // a token that fails verification (expired), carrying the marker in its claims
      const expired = await tokenFor('inspector', { sub: BODY_MARKER }, { expiresIn: -3600 });
      expect(
        await send('corr-body-6', `/v1/contracts/LOG-2`, {
          headers: { authorization: `Bearer ${expired}` },
        }),
      ).toBe(401);

      const text = raw.join('');
      expect(lines().length).toBeGreaterThanOrEqual(6);
      for (const id of [1, 2, 3, 4, 5, 6])
        expect(lines().some((l) => l.correlationId === `corr-body-${id}`)).toBe(true);
      for (const secret of [platform, inspector, expired, BODY_MARKER]) {
        expect(text).not.toContain(secret);
        // nor a recognisable piece of it (a token's signature, the base64 of a claim)
        expect(text).not.toContain(secret.slice(-20));
      }
      expect(text).not.toMatch(/authorization|bearer/i);
    });
  });

  it('the service as a process writes JSON lines on stdout, the listening line among them', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'monitor-logging-proc-'));
    const proc = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/monitor/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'debug',
        DATABASE_URL: db.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ROLE_PROJECTOR: 'true',
        JWT_SECRET: TEST_JWT_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          // the pattern tests/kafka/support.ts reads the URL with
          const m = /listening on (http:\/\/[^\s]+?)\s/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 50);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`exited (${code}) before listening:\n${out}\n${err}`));
        });
      });
      const token = await tokenFor('platform');
      const res = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-correlation-id': 'corr-process-1',
        },
        body: JSON.stringify(ev.award('LOG-PROC-1', '2021-09-13', { amount: '7777777.77' })),
      });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
    const lines = out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines)
      expect(l).toEqual(
        expect.objectContaining({ level: expect.any(String), time: expect.any(String) }),
      );
    expect(lines.find((l) => l.msg.startsWith('listening on '))).toEqual(
      expect.objectContaining({ level: 'info', context: 'Bootstrap' }),
    );
    expect(lines.find((l) => l.correlationId === 'corr-process-1')?.msg).toMatch(
      /^POST \/v1\/events 202 [\d.]+ ms$/,
    );
    // outside requests, no correlation id (the projector started at boot)
    expect(lines.find((l) => l.context === 'Projector')).not.toHaveProperty('correlationId');
    expect(out).toContain('"msg":"SIGTERM: shutting down"');
    expect(out).not.toContain('7777777.77');
  });
});
