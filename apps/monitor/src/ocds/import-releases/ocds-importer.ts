import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ErrorCodes, type FieldError } from '@app/contracts';
import { MAX_REJECTED_PAYLOAD_CHARS, PgEventStore, type EventSource } from '@app/event-store';
import { OcdsFormatError, OcdsReader, mapRelease, type ReadItem, type Unmapped } from '@app/ocds';
import {
  RecordEventsCommand,
  outcomeResult,
  type IngestItem,
} from '../../ingestion/record-events/record-events.command';

/** Events recorded per RecordEvents command (and per transaction of it). */
export const OCDS_IMPORT_BATCH = 500;

export type EventResult = ReturnType<typeof outcomeResult>;

/** The answer for one release (SPEC §10), in input order. */
export interface ReleaseResult {
  /** where in the input: `releases[3]`, `records[0].releases[1]`, `[7]` (the 8th line) */
  at: string;
  ocid: string | null;
  releaseId: string | null;
  contractIds: string[];
  /** present when the release is refused as a whole */
  code?: string;
  message?: string;
  errors?: FieldError[];
  results: EventResult[];
  unmapped: Unmapped[];
}

export interface ImportSummary {
  releases: number;
  refusedReleases: number;
  events: { accepted: number; duplicate: number; rejected: number };
  unmapped: number;
}

export function emptySummary(): ImportSummary {
  return {
    releases: 0,
    refusedReleases: 0,
    events: { accepted: 0, duplicate: 0, rejected: 0 },
    unmapped: 0,
  };
}

/** Why the input as a whole is refused (from where it was), with the HTTP status. */
export class OcdsImportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

interface PendingRelease {
  result: ReleaseResult;
  /** index in the batch of each event of the release, in order */
  batchIndexes: number[];
  /** mapping rejections, answered after the recorded events */
  rejected: EventResult[];
}

/**
 * OCDS import (SPEC §10), the same for HTTP and the CLI: reads the input piece by piece
 * (OcdsReader: one release in memory at a time), maps each release to envelopes, and records
 * them through RecordEvents — the ingestion of POST /v1/events, so idempotency, validation,
 * conflicts and the audit of rejections are its own — in batches of {@link OCDS_IMPORT_BATCH}
 * events. Facts the mapping refuses are kept for audit like rejected events. Each release's
 * answer goes to `sink` once its events are recorded, in input order. A structural problem
 * (not JSON, not OCDS, an unsupported version, too large, not UTF-8) throws OcdsImportError:
 * the batches recorded before it stay recorded, the batch it was reading is not recorded.
 */
@Injectable()
export class OcdsImporter {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: PgEventStore,
  ) {}

  async import(
    input: AsyncIterable<Buffer | string>,
    source: EventSource,
    sink: (r: ReleaseResult) => Promise<void> | void,
    maxBytes = Number.POSITIVE_INFINITY,
    /** counts so far (also after a problem stopped the import) */
    summary: ImportSummary = emptySummary(),
  ): Promise<ImportSummary> {
    const reader = new OcdsReader();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let pending: PendingRelease[] = [];
    let batch: IngestItem[] = [];
    let audit: Array<Parameters<PgEventStore['recordRejections']>[1][number]> = [];
    let bytes = 0;

    /** Records one batch and answers its releases, in order. */
    const record = async (
      releases: PendingRelease[],
      items: IngestItem[],
      rows: typeof audit,
    ): Promise<void> => {
      const outcomes =
        items.length > 0 ? await this.commands.execute(new RecordEventsCommand(items)) : [];
      if (rows.length > 0)
        await this.store.transaction((c) => this.store.recordRejections(c, rows));
      for (const p of releases) {
        for (const i of p.batchIndexes) p.result.results.push(outcomeResult(outcomes[i]));
        p.result.results.push(...p.rejected);
        for (const r of p.result.results) summary.events[r.status]++;
        await sink(p.result);
      }
    };
    // One batch is recorded while the next is read and mapped (the database's time overlaps
    // the parsing); at most two batches are held.
    let inflight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inflight;
      inflight = record(pending, batch, audit);
      // handled when awaited (next batch, or the end): not an unhandled rejection meanwhile
      inflight.catch(() => undefined);
      pending = [];
      batch = [];
      audit = [];
    };

    const take = async (items: ReadItem[]) => {
      for (const item of items) {
        summary.releases++;
        const p = this.map(item, source, batch, audit);
        if (p.result.code) summary.refusedReleases++;
        summary.unmapped += p.result.unmapped.length;
        pending.push(p);
        if (batch.length >= OCDS_IMPORT_BATCH) await flush();
      }
    };

    try {
      for await (const chunk of input) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buf.length;
        if (bytes > maxBytes)
          throw new OcdsImportError(
            ErrorCodes.PAYLOAD_TOO_LARGE,
            `the OCDS input is larger than ${maxBytes} bytes`,
            413,
          );
        await take(reader.push(decode(decoder, buf, false)));
      }
      await take(reader.push(decode(decoder, Buffer.alloc(0), true)));
      await take(reader.end());
    } catch (err) {
      // The input stops here: the batches recorded before stay recorded (and answered), the
      // one being read is not recorded at all — an input under one batch is refused whole.
      await inflight;
      if (err instanceof OcdsFormatError) throw new OcdsImportError(err.code, err.message, 400);
      if (String((err as { code?: unknown }).code).startsWith('Z_'))
        throw new OcdsImportError(
          ErrorCodes.INVALID_ENCODING,
          'the body could not be decompressed as its Content-Encoding says',
          400,
        );
      throw err;
    }
    await flush();
    await inflight;
    return summary;
  }

  /** One read item → its events appended to `batch`, its refusals to `audit`. */
  private map(
    item: ReadItem,
    source: EventSource,
    batch: IngestItem[],
    audit: Array<Parameters<PgEventStore['recordRejections']>[1][number]>,
  ): PendingRelease {
    if (item.kind === 'refused') {
      audit.push({
        code: item.code,
        message: item.message,
        errors: [],
        payload: { at: item.at },
        source,
      });
      return {
        result: {
          at: item.at,
          ocid: null,
          releaseId: null,
          contractIds: [],
          code: item.code,
          message: item.message,
          errors: [{ path: '', message: item.message }],
          results: [],
          unmapped: [],
        },
        batchIndexes: [],
        rejected: [],
      };
    }
    const m = mapRelease(item.release);
    const result: ReleaseResult = {
      at: item.at,
      ocid: m.ocid,
      releaseId: m.releaseId,
      contractIds: m.contractIds,
      results: [],
      unmapped: m.unmapped,
    };
    if (m.refusal) {
      Object.assign(result, m.refusal);
      audit.push({
        code: m.refusal.code,
        message: m.refusal.message,
        errors: m.refusal.errors,
        payload: capped(item.release),
        source,
      });
      return { result, batchIndexes: [], rejected: [] };
    }
    const batchIndexes = m.events.map((e) => batch.push({ raw: e.envelope, source }) - 1);
    const rejected = m.rejected.map((r) => {
      audit.push({
        eventId: r.eventId,
        contractId: r.contractId,
        type: r.type,
        code: r.code,
        message: r.message,
        errors: r.errors,
        payload: capped(r.fragment),
        source,
      });
      return {
        eventId: r.eventId,
        status: 'rejected' as const,
        code: r.code,
        message: r.message,
        errors: r.errors,
      };
    });
    return { result, batchIndexes, rejected };
  }
}

function decode(decoder: InstanceType<typeof TextDecoder>, buf: Buffer, last: boolean): string {
  try {
    return decoder.decode(buf, { stream: !last });
  } catch {
    throw new OcdsImportError(ErrorCodes.INVALID_ENCODING, 'the input is not valid UTF-8', 400);
  }
}

/** A release or fragment for the audit table: as JSON, its start when it is long. */
function capped(v: unknown): unknown {
  const text = JSON.stringify(v);
  return text.length <= MAX_REJECTED_PAYLOAD_CHARS
    ? (JSON.parse(text) as unknown)
    : text.slice(0, MAX_REJECTED_PAYLOAD_CHARS);
}
