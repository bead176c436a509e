/**
 * Shared by the POST /v1/events and GET /v1/contracts/{id}/events suites (issue "Foundation"):
 * the real application on a fresh PostgreSQL database, driven over HTTP. SPEC §2 (envelope,
 * event types, singletons, retraction) and §4 (shapes, error shape).
 */
import { Client } from 'pg';
import request from 'supertest';
import type { Envelope } from '@app/testing';
import type { Clock } from '@app/platform';
import { startTestApp, type TestApp } from '../../support/test-app';
import { auth } from '../../support/auth';

/** The service's clock is fixed so that the "future" checks have exact boundaries. */
export const NOW = Date.parse('2026-11-26T12:00:00Z');
const clock: Clock = { now: () => NOW };
export const FIVE_MIN = 5 * 60 * 1000;

export const VALID_CREDIT_CODE = '91500102MA5U7QXX2B';
export const BAD_CHECK_DIGIT = '91500102MA5U7QXX2C';
const ERROR_KEYS = ['statusCode', 'code', 'message', 'details', 'correlationId'];
export const STABLE_CODE = /^[A-Z]+(\.[A-Z_]+)+$/;

let seq = 0;
/** A number unique to this run. */
export const nextSeq = () => ++seq;
/** A contract id unique to this run, so that tests never see each other's streams. */
export const cid = (tag: string) => `CQ-FL-2021-${tag}-${nextSeq()}`;

export type Body = Record<string, unknown>;

/** Deep copy of an envelope, as a plain JSON object the tests may mutate. */
export const plain = (e: Envelope): Body => JSON.parse(JSON.stringify(e)) as Body;

export function expectErrorShape(res: request.Response, statusCode: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status: statusCode, code });
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      statusCode,
      code,
      message: expect.any(String),
      correlationId: expect.any(String),
    }),
  );
  for (const k of Object.keys(res.body)) expect(ERROR_KEYS).toContain(k);
}

/** Field paths of a single-envelope error body (`details`: [{path, message}]). */
export function detailPaths(res: request.Response): string[] {
  const details = res.body?.details as Array<{ path: string; message: string }> | undefined;
  expect(Array.isArray(details)).toBe(true);
  for (const d of details!)
    expect(d).toEqual({ path: expect.any(String), message: expect.any(String) });
  return details!.map((d) => d.path);
}

/**
 * Boots the application (fixed clock) for the calling suite, with a database client beside
 * it, and the request helpers the suites share.
 */
export function ingestionApp() {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const post = (body: unknown) =>
    request(t.url)
      .post('/v1/events')
      .set(auth('platform'))
      .send(body as object);
  /** Sends the body text exactly as given. */
  const postRaw = (text: string, contentType = 'application/json') =>
    request(t.url)
      .post('/v1/events')
      .set(auth('platform'))
      .set('Content-Type', contentType)
      .send(text);
  const history = (contractId: string) =>
    request(t.url)
      .get(`/v1/contracts/${encodeURIComponent(contractId)}/events`)
      .set(auth('inspector'));
  const storedIds = async (contractId: string): Promise<string[]> => {
    const res = await history(contractId);
    if (res.status === 404 && res.body?.code === 'CONTRACT.NOT_FOUND') return [];
    expect(res.status).toBe(200);
    return (res.body.events as Array<{ eventId: string }>).map((e) => e.eventId);
  };
  const accept = async (e: Envelope | Body) => {
    const res = await post(e);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 202,
      body: expect.objectContaining({ eventId: e.eventId, status: 'accepted' }),
    });
    return res;
  };
  return {
    url: () => t.url,
    db: () => db,
    post,
    postRaw,
    history,
    storedIds,
    accept,
  };
}
