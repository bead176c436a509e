import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * CPU time of the processes a measure runs on, from /proc (Linux only; elsewhere every reading
 * is null and nothing is reported): which side of a path (Node or PostgreSQL) is the limit is
 * what its CPU time per event says, on a machine whose two CPUs all of them share.
 */

let tickMs: number | null | undefined;

/** Milliseconds per clock tick of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux). */
function msPerTick(): number | null {
  if (tickMs === undefined) {
    try {
      tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      tickMs = null;
    }
  }
  return tickMs;
}

/** name, own ticks (utime + stime) and its waited-for children's (cutime + cstime) */
function stat(pid: string): { name: string; own: number; children: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    // fields 14–17 of proc(5), counted from the state (field 3) at f[0]
    return {
      name: s.slice(s.indexOf('(') + 1, close),
      own: Number(f[11]) + Number(f[12]),
      children: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return null;
  }
}

/** CPU milliseconds a process has used so far; null when it cannot be read. */
export function processCpuMs(pid: number): number | null {
  const ms = msPerTick();
  const s = stat(String(pid));
  return ms === null || s === null ? null : s.own * ms;
}

/**
 * CPU milliseconds used so far by the PostgreSQL server(s) on this host: every process named
 * `postgres`, plus what their exited children used (the postmaster waits for its backends, so
 * a backend's time moves into its cutime/cstime when it ends, and no difference of two
 * readings loses it). Null when /proc cannot be read or no such process runs here (a server
 * elsewhere).
 */
export function postgresCpuMs(): number | null {
  const ms = msPerTick();
  if (ms === null) return null;
  let ticks = 0;
  let found = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (pid.charCodeAt(0) > 57) continue;
      const s = stat(pid);
      if (s?.name !== 'postgres') continue;
      ticks += s.own + s.children;
      found++;
    }
  } catch {
    return null;
  }
  return found === 0 ? null : ticks * ms;
}

const gcPauses: Array<{ start: number; duration: number }> = [];
let gcObserver: PerformanceObserver | null = null;

/** Starts recording this process's garbage-collection pauses (perf_hooks' `gc` entries). */
function observeGc(): void {
  if (gcObserver) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, duration: e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}

/** Milliseconds of the pauses that began in [from, to) (performance.now() times). */
function gcPauseMs(from: number, to: number): number {
  for (const e of gcObserver?.takeRecords() ?? [])
    gcPauses.push({ start: e.startTime, duration: e.duration });
  let ms = 0;
  for (const p of gcPauses) if (p.start >= from && p.start < to) ms += p.duration;
  return ms;
}

/** CPU microseconds per event of each side of a measure. */
export interface CpuPerEvent {
  /** the Node process that handles the events (the bench itself for the command path) */
  nodeUs: number;
  /**
   * in-process measures: of the Node time, the garbage collector's pauses (wall time, the
   * bench's own heap included: at large, the generator's plans of the contracts in progress)
   */
  gcUs?: number;
  /** the load generator's Node process (the bench, for HTTP) */
  clientUs?: number;
  postgresUs: number;
}

/** Adds up CPU time over the timed sections of a measure (start/stop around each). */
export class CpuMeter {
  private node = 0;
  private client = 0;
  private pg = 0;
  private gc = 0;
  private open: {
    node: number | null;
    client: number | null;
    pg: number | null;
    at: number;
  } | null = null;
  private failed = false;

  /** `servicePid`: the Node process under test; none = this process (in-process measure). */
  constructor(
    private readonly servicePid?: number,
    private readonly countClient = false,
  ) {
    if (servicePid === undefined) observeGc();
  }

  private read() {
    const self = process.cpuUsage();
    const selfMs = (self.user + self.system) / 1000;
    return {
      node: this.servicePid === undefined ? selfMs : processCpuMs(this.servicePid),
      client: this.countClient ? selfMs : null,
      pg: postgresCpuMs(),
      at: performance.now(),
    };
  }

  start(): void {
    this.open = this.read();
  }

  stop(): void {
    if (!this.open) return;
    const end = this.read();
    if (end.node === null || this.open.node === null || end.pg === null || this.open.pg === null)
      this.failed = true;
    else {
      this.node += end.node - this.open.node;
      this.pg += end.pg - this.open.pg;
      if (this.servicePid === undefined) this.gc += gcPauseMs(this.open.at, end.at);
      if (end.client !== null && this.open.client !== null)
        this.client += end.client - this.open.client;
    }
    this.open = null;
  }

  perEvent(events: number): CpuPerEvent | undefined {
    if (this.failed || events === 0) return undefined;
    const us = (ms: number) => Math.round((ms * 10_000) / events) / 10;
    return {
      nodeUs: us(this.node),
      ...(this.servicePid === undefined ? { gcUs: us(this.gc) } : {}),
      ...(this.countClient ? { clientUs: us(this.client) } : {}),
      postgresUs: us(this.pg),
    };
  }
}

/** `; CPU an event: Node 19.6 µs, PostgreSQL 17.1 µs` for a log line, or ''. */
export function cpuText(cpu: CpuPerEvent | undefined): string {
  if (!cpu) return '';
  const parts = [
    `Node ${cpu.nodeUs} µs${cpu.gcUs !== undefined ? ` (garbage collection ${cpu.gcUs} µs)` : ''}`,
  ];
  if (cpu.clientUs !== undefined) parts.push(`load generator ${cpu.clientUs} µs`);
  parts.push(`PostgreSQL ${cpu.postgresUs} µs`);
  return `; CPU an event: ${parts.join(', ')}`;
}
