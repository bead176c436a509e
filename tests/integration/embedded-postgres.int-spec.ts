import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { embeddedPostgresAccessProblem } from '../../libs/platform/src/embedded-postgres';

/**
 * `npm start` as root: PostgreSQL runs as the `postgres` OS user, which cannot enter a home
 * directory of mode 0700. With DATA_DIR under one, initdb used to fail with "could not access
 * directory … Permission denied"; now the service stops at once and says what to set.
 */
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!asRoot)
  console.warn(
    '[embedded-postgres.int-spec] SKIPPED: not running as root. These tests need root: the ' +
      'embedded PostgreSQL only switches to the postgres OS user when the service runs as root.',
  );

const REPO = path.resolve(__dirname, '../..');
const BIN_DIR = path.join(
  REPO,
  'node_modules/@embedded-postgres',
  `${process.platform}-${process.arch}`,
  'native/bin',
);

(asRoot ? describe : describe.skip)('embedded PostgreSQL run as root', () => {
  let base: string;
  let home: string; // like /root: mode 0700, owned by root
  let open: string; // like /srv: reachable by everyone

  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'monitor-embedded-root-'));
    chmodSync(base, 0o755);
    home = path.join(base, 'home');
    mkdirSync(home);
    chmodSync(home, 0o700);
    open = path.join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('a data directory under a 0700 directory: names that directory and DATA_DIR / DATABASE_URL', () => {
    const dir = path.join(home, 'app', '.data', 'postgres');
    mkdirSync(dir, { recursive: true });
    const problem = embeddedPostgresAccessProblem(path.join(dir, 'pg'), []);
    expect(problem).toContain(`the OS user postgres cannot enter ${home} (mode 0700, owner uid 0)`);
    expect(problem).toContain('Set DATA_DIR to a directory that user can reach');
    expect(problem).toContain('DATABASE_URL');
  });

  it('binaries under a 0700 directory: says so (DATA_DIR would not help)', () => {
    const bin = path.join(home, 'app', 'node_modules', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'initdb'), '#!/bin/sh\n', { mode: 0o755 });
    const problem = embeddedPostgresAccessProblem(path.join(open, 'pg'), [
      path.join(bin, 'initdb'),
    ]);
    expect(problem).toContain(`cannot start ${path.join(bin, 'initdb')}`);
    expect(problem).toContain(`cannot enter ${home} (mode 0700`);
    expect(problem).toContain('DATABASE_URL');
  });

  it('a reachable data directory and the installed binaries pass', () => {
    expect(existsSync(path.join(BIN_DIR, 'initdb'))).toBe(true);
    expect(
      embeddedPostgresAccessProblem(path.join(open, 'data', 'pg'), [
        path.join(BIN_DIR, 'initdb'),
        path.join(BIN_DIR, 'postgres'),
      ]),
    ).toBeNull();
  });

  it('the service (apps/monitor main.ts) with DATA_DIR under a 0700 directory stops at once: exit 2, the reason, no initdb', async () => {
    const dataDir = path.join(home, 'svc', '.data');
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0' };
    for (const k of Object.keys(env))
      if (k === 'DATABASE_URL' || k.startsWith('TEST_') || k.startsWith('KAFKA_')) delete env[k];
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', path.join(REPO, 'apps/monitor/src/main.ts')],
      { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, output }).toEqual({
      code: 2,
      output: expect.stringContaining('configuration: embedded PostgreSQL cannot use'),
    });
    expect(output).toContain(`cannot enter ${home} (mode 0700`);
    expect(output).not.toContain('initdb');
    expect(existsSync(path.join(dataDir, 'postgres', 'pg'))).toBe(false);
  });
});
