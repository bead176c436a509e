import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import pino, { type DestinationStream, type Level, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import { requestContext } from './correlation';
import { routeOf } from './metrics/http-metrics';

/** LOG_LEVEL (Nest's names) → pino's levels. */
const PINO_LEVELS: Record<'error' | 'warn' | 'log' | 'debug' | 'verbose', Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
/** Nest's levels, most severe first ('fatal' is always on). */
const NEST_ORDER = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

export interface LoggerOptions {
  /** where the lines go; default: stdout, JSON lines, or readable lines when stdout is a TTY */
  destination?: DestinationStream;
}

/**
 * The service's logger: every Nest `Logger` (and so every `new Logger(context)` of the code)
 * logs through it once it is installed (NestFactory's `logger` option, Logger.overrideLogger).
 * One JSON object per line (pino): `level` (pino's names: trace = verbose, info = log), `time`,
 * `context`, `msg`, and `correlationId` on every line logged while handling a request; human-
 * readable lines instead when stdout is a terminal. Nothing of requests is logged but what the
 * code logs explicitly (the route pattern and status at debug): never headers, tokens, bodies.
 */
export class AppLogger implements LoggerService {
  readonly pino: Pino;

  constructor(level: keyof typeof PINO_LEVELS, opts: LoggerOptions = {}) {
    this.pino = pino(
      {
        level: PINO_LEVELS[level],
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        mixin: () => {
          const ctx = requestContext.getStore();
          return ctx ? { correlationId: ctx.correlationId } : {};
        },
      },
      opts.destination ?? defaultDestination(),
    );
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams, true);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams, true);
  }

  /** Nest's `Logger.overrideLogger([...levels])`: the most verbose level given. */
  setLogLevels(levels: LogLevel[]): void {
    const most = [...NEST_ORDER].reverse().find((l) => levels.includes(l));
    this.pino.level = most === undefined || most === 'fatal' ? 'fatal' : PINO_LEVELS[most];
  }

  /**
   * Nest's calling convention (as ConsoleLogger reads it): the last string parameter is the
   * context; for errors, a stack (or undefined) before it; plain objects become fields.
   */
  private write(level: Level, message: unknown, params: unknown[], withStack = false): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const args = [message, ...params];
    const { messages, context, stack } = withStack
      ? contextStackAndMessages(args)
      : contextAndMessages(args);
    const fields: Record<string, unknown> = context ? { context } : {};
    const texts: unknown[] = [messages[0]];
    for (const a of messages.slice(1)) {
      if (isPlainObject(a)) Object.assign(fields, a);
      else texts.push(a);
    }
    for (const m of texts) {
      if (m instanceof Error) {
        this.pino[level]({ ...fields, err: m }, m.message);
      } else {
        const text = typeof m === 'string' ? m : safeJson(m);
        this.pino[level](stack ? { ...fields, stack } : fields, text);
      }
    }
  }
}

interface Parsed {
  messages: unknown[];
  context?: string;
  stack?: string;
}

/** As ConsoleLogger reads them: a string last parameter (after the message) is the context. */
function contextAndMessages(args: unknown[]): Parsed {
  const last = args[args.length - 1];
  if (args.length <= 1 || typeof last !== 'string') return { messages: args };
  return { messages: args.slice(0, -1), context: last };
}

/**
 * For errors, as ConsoleLogger reads them: `(message, stack|undefined)`,
 * `(message, ..., stack)` or `(message, stack|undefined, context)` (what a Logger with a
 * context passes on).
 */
function contextStackAndMessages(args: unknown[]): Parsed {
  if (args.length === 2 && (args[1] === undefined || isStack(args[1])))
    return { messages: [args[0]], stack: args[1] as string | undefined };
  const trailing = args[args.length - 1];
  if (args.length > 2 && isStack(trailing))
    return { ...contextAndMessages(args.slice(0, -1)), stack: trailing as string };
  const parsed = contextAndMessages(args);
  if (args.length <= 2 || parsed.messages.length <= 1) return parsed;
  const last = parsed.messages[parsed.messages.length - 1];
  if (typeof last !== 'string' && last !== undefined) return parsed;
  return { ...parsed, messages: parsed.messages.slice(0, -1), stack: last };
}

function defaultDestination(): DestinationStream {
  if (process.stdout.isTTY) {
    return pretty({
      sync: true,
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,context,correlationId',
      messageFormat: (log, messageKey) => {
        const text = (k: string) => (typeof log[k] === 'string' ? log[k] : '');
        const context = text('context');
        const id = text('correlationId');
        return `${context ? `[${context}] ` : ''}${text(messageKey)}${id ? ` (${id})` : ''}`;
      },
    });
  }
  // synchronous: a line written just before process.exit() is not lost
  return pino.destination({ fd: 1, sync: true });
}

function isStack(v: unknown): boolean {
  return typeof v === 'string' && /^(.)+\n\s+at .+:\d+:\d+/.test(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const httpLogger = new Logger('HTTP');

/**
 * At debug level, one line per request when its response is sent: method, the route pattern
 * it matched (never the raw URL: ids and query strings stay out), status and duration.
 */
export function requestLogMiddleware(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  // the request's context (correlationMiddleware runs first), so that the line carries its
  // correlation id; run in it again on 'finish' (AsyncResource.bind did that at the cost of
  // an async resource and a deprecation wrapper per request: 1.4 % of the service's time)
  const ctx = requestContext.getStore();
  res.once('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const line = `${req.method} ${routeOf(req)} ${res.statusCode} ${ms.toFixed(1)} ms`;
    if (ctx) requestContext.run(ctx, () => httpLogger.debug(line));
    else httpLogger.debug(line);
  });
  next();
}
