/**
 * `npm run bench:validate [-- --events 20000] [--rounds 7]`
 *
 * µs per valid event of parseEnvelope (the fast path, payload-checks.ts) and of
 * parseEnvelopeWithClasses (class-validator only, the path before it), over the bench
 * generator's events as the doors hand them over (JSON-parsed). The two run interleaved,
 * `rounds` times each, after a warm-up; the table gives the median and the range.
 */
import 'reflect-metadata';
import { parseEnvelope, parseEnvelopeWithClasses, type ParseResult } from '@app/contracts';
import { generateEvents } from './generator';
import { fmt, machine, parseArgs, table } from './lib/report';

const NOW = Date.parse('2026-11-26T00:00:00Z');

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const count = Number(args.events ?? 20_000);
  const rounds = Number(args.rounds ?? 7);
  const events: unknown[] = [
    ...generateEvents({ contracts: Math.ceil(count / 9), maxEvents: count }),
  ].map((e) => JSON.parse(JSON.stringify(e)) as unknown);
  const paths: Record<string, (raw: unknown, now: number) => ParseResult> = {
    'class-validator (before)': parseEnvelopeWithClasses,
    'fast path (parseEnvelope)': parseEnvelope,
  };
  for (const [name, parse] of Object.entries(paths)) {
    const refused = events.filter((e) => !parse(e, NOW).ok).length;
    if (refused > 0) throw new Error(`${name}: ${refused} generated events refused`);
  }
  const m = machine();
  console.log(`${fmt(events.length)} events, ${rounds} rounds; ${m.cpus} CPUs; node ${m.node}`);

  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(paths).map((name) => [name, []]),
  );
  for (let round = -1; round < rounds; round++) {
    for (const [name, parse] of Object.entries(paths)) {
      const start = process.hrtime.bigint();
      for (const e of events) parse(e, NOW);
      const us = Number(process.hrtime.bigint() - start) / 1000 / events.length;
      if (round >= 0) samples[name].push(us); // round -1 warms up
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const before = median(samples['class-validator (before)']);
  console.log(
    '\n' +
      table(
        ['path', 'µs/event (median)', 'min', 'max', 'speed-up'],
        Object.entries(samples).map(([name, xs]) => [
          name,
          fmt(median(xs), 2),
          fmt(Math.min(...xs), 2),
          fmt(Math.max(...xs), 2),
          `${fmt(before / median(xs), 1)}×`,
        ]),
      ),
  );
}

main();
