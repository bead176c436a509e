import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCodes } from '@app/contracts';
import { APP_CONFIG, AppError, Principal, RateLimit, Roles, type AppConfig } from '@app/platform';
import type { Request, Response } from 'express';
import { KeepRejectedRequestCommand } from '../../ingestion/keep-rejected-request/keep-rejected-request.command';
import { sourceOf } from '../../ingestion/source';
import { OcdsImportError, OcdsImporter, emptySummary, type ReleaseResult } from './ocds-importer';

/** Media types of a package (JSON) and of JSON Lines of releases. */
export const OCDS_IMPORT_TYPES = [
  'application/json',
  'application/*+json',
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
  'application/x-jsonlines',
];

@ApiTags('ocds')
@Roles('platform')
@RateLimit('ingest')
@Controller('v1/ocds/releases')
export class OcdsImportController {
  private readonly logger = new Logger(OcdsImportController.name);

  constructor(
    private readonly importer: OcdsImporter,
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import OCDS: a release package, a record package, or JSON Lines of releases',
    description:
      'Streamed (one release in memory at a time) and recorded in batches of 500 events through the ' +
      "ingestion of POST /v1/events, under the caller's platform. Answers 200 with one entry per " +
      'release, in input order: {at, ocid, releaseId, contractIds, results: [as POST /v1/events], ' +
      'unmapped: [{path, reason}]}, plus code/message/errors for a release refused as not OCDS; then ' +
      '`summary`. Event ids are UUID v5 of [ocid, release id, path]: a re-import is all duplicates. ' +
      'A body that is not JSON / not OCDS / of an unsupported version is 400 with its code when ' +
      'found before anything was recorded; found later (inputs over 500 events), the answer ends ' +
      'with `complete: false` and `error: {code, message}` — what was recorded before stays. ' +
      'See docs/ocds.md for the mapping.',
  })
  @ApiConsumes(...OCDS_IMPORT_TYPES.filter((t) => !t.includes('*')))
  @ApiBody({ schema: { type: 'object', description: 'OCDS release or record package' } })
  @ApiResponse({ status: 200, description: '{releases: [...], complete, summary | error}' })
  @ApiResponse({
    status: 400,
    description:
      'OCDS.INVALID_JSON, OCDS.NOT_OCDS, OCDS.UNSUPPORTED_VERSION, REQUEST.INVALID_ENCODING',
  })
  @ApiResponse({ status: 413, description: 'over OCDS_MAX_BODY_MB' })
  @ApiResponse({ status: 415, description: 'not JSON nor JSON Lines' })
  async import(
    @Req() req: Request,
    @Res() res: Response,
    @Principal() user: Principal | undefined,
  ): Promise<void> {
    const source = sourceOf(user);
    if (!req.is(OCDS_IMPORT_TYPES)) {
      await this.refuse(
        new OcdsImportError(
          ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
          'send an OCDS package as application/json, or releases as application/x-ndjson',
          415,
        ),
        source,
      );
    }
    const input = decompressed(req);
    if (!input)
      await this.refuse(
        new OcdsImportError(
          ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
          'Content-Encoding must be gzip, deflate, br or identity',
          415,
        ),
        source,
      );
    let started = false;
    const write = async (text: string) => {
      if (!res.write(text)) await once(res, 'drain');
    };
    const sink = async (r: ReleaseResult) => {
      if (!started) {
        started = true;
        res.status(200).setHeader('content-type', 'application/json; charset=utf-8');
        await write(`{"releases":[${JSON.stringify(r)}`);
      } else await write(`,${JSON.stringify(r)}`);
    };
    const summary = emptySummary();
    try {
      await this.importer.import(input!, source, sink, this.config.ocdsMaxBodyBytes, summary);
    } catch (err) {
      if (!started) {
        if (err instanceof OcdsImportError) await this.refuse(err, source);
        throw err;
      }
      if (!(err instanceof OcdsImportError))
        this.logger.error(`an OCDS import stopped: ${(err as Error).message?.slice(0, 200)}`);
      const e =
        err instanceof OcdsImportError
          ? { code: err.code, message: err.message }
          : { code: ErrorCodes.UNAVAILABLE, message: 'the import stopped; send the input again' };
      res.end(
        `],"complete":false,"error":${JSON.stringify(e)},"summary":${JSON.stringify(summary)}}`,
      );
      return;
    }
    if (!started) res.status(200).json({ releases: [], complete: true, summary });
    else res.end(`],"complete":true,"summary":${JSON.stringify(summary)}}`);
  }

  /** Keeps the refused request for audit, as POST /v1/events does, and answers its error. */
  private async refuse(err: OcdsImportError, source: ReturnType<typeof sourceOf>): Promise<never> {
    await this.commands.execute(
      new KeepRejectedRequestCommand({
        code: err.code,
        message: err.message,
        errors: [],
        payload: null,
        source,
      }),
    );
    throw new AppError(err.code, err.message, err.statusCode);
  }
}

/**
 * The body as sent, decompressed by its Content-Encoding (OCDS bulk files are often gzipped;
 * OCDS_MAX_BODY_MB counts the decompressed bytes). Undefined for an encoding we do not read.
 */
function decompressed(req: Request): Readable | undefined {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  switch (encoding) {
    case 'identity':
      return req;
    case 'gzip':
    case 'x-gzip':
      return req.pipe(createGunzip());
    case 'deflate':
      return req.pipe(createInflate());
    case 'br':
      return req.pipe(createBrotliDecompress());
    default:
      return undefined;
  }
}
