import { Logger, type ArgumentsHost } from '@nestjs/common';
import { AppLogger } from './logging';
import { requestContext } from './correlation';
import { AllExceptionsFilter } from './exception.filter';

/** An AppLogger writing into an array, one parsed object per line. */
function capture(level: ConstructorParameters<typeof AppLogger>[0]) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new AppLogger(level, {
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { logger, lines };
}

describe('AppLogger (pino behind Nest loggers)', () => {
  it('writes one JSON object per line: level, time, context, msg', () => {
    const { logger, lines } = capture('log');
    logger.log('hello', 'Ctx');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'Ctx', msg: 'hello' }),
    ]);
    expect(Date.parse(lines[0].time as string)).not.toBeNaN();
    expect(lines[0]).not.toHaveProperty('correlationId');
  });

  it('keeps LOG_LEVEL: error, warn, log, debug, verbose', () => {
    const wrote = (level: ConstructorParameters<typeof AppLogger>[0]) => {
      const { logger, lines } = capture(level);
      logger.error('e');
      logger.warn('w');
      logger.log('l');
      logger.debug('d');
      logger.verbose('v');
      return lines.map((l) => l.msg);
    };
    expect(wrote('error')).toEqual(['e']);
    expect(wrote('warn')).toEqual(['e', 'w']);
    expect(wrote('log')).toEqual(['e', 'w', 'l']);
    expect(wrote('debug')).toEqual(['e', 'w', 'l', 'd']);
    expect(wrote('verbose')).toEqual(['e', 'w', 'l', 'd', 'v']);
    const { logger, lines } = capture('verbose');
    logger.setLogLevels(['error', 'warn']);
    logger.log('not shown');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it("reads Nest's calling convention: context last, an error's stack, plain objects as fields, Errors", () => {
    const { logger, lines } = capture('verbose');
    const err = new Error('boom');
    logger.error('failed', err.stack, 'Ctx');
    logger.error('no stack', undefined, 'Ctx');
    logger.warn('with fields', { partition: 3 }, 'Ctx');
    logger.error(err);
    logger.error(err, err.stack);
    logger.warn('two messages', 'and another', 'Ctx');
    expect(lines[0]).toEqual(
      expect.objectContaining({ level: 'error', context: 'Ctx', msg: 'failed', stack: err.stack }),
    );
    expect(lines[1]).toEqual(expect.objectContaining({ msg: 'no stack', context: 'Ctx' }));
    expect(lines[1]).not.toHaveProperty('stack');
    expect(lines[2]).toEqual(expect.objectContaining({ msg: 'with fields', partition: 3 }));
    expect(lines[3]).toEqual(
      expect.objectContaining({ msg: 'boom', err: expect.objectContaining({ message: 'boom' }) }),
    );
    // Nest's own `Logger.error(err, err.stack)`: the stack is no context
    expect(lines[4]).toEqual(expect.objectContaining({ msg: 'boom' }));
    expect(lines[4]).not.toHaveProperty('context');
    expect(lines.slice(5).map((l) => [l.msg, l.context])).toEqual([
      ['two messages', 'Ctx'],
      ['and another', 'Ctx'],
    ]);
  });

  it('puts the correlation id of the request being handled on every line, and only then', async () => {
    const { logger, lines } = capture('log');
    await requestContext.run({ correlationId: 'corr-1' }, async () => {
      logger.log('inside', 'A');
      await new Promise((r) => setTimeout(r, 5));
      logger.warn('still inside, after an await', 'A');
    });
    logger.log('outside', 'A');
    expect(lines.map((l) => [l.msg, l.correlationId])).toEqual([
      ['inside', 'corr-1'],
      ['still inside, after an await', 'corr-1'],
      ['outside', undefined],
    ]);
  });

  it('is what every `new Logger(context)` logs through once installed', () => {
    const { logger, lines } = capture('log');
    Logger.overrideLogger(logger);
    try {
      new Logger('Somewhere').log('via Nest');
      new Logger('Somewhere').error('an error');
    } finally {
      Logger.overrideLogger(['error', 'warn']);
    }
    expect(lines.map((l) => [l.level, l.context, l.msg])).toEqual([
      ['info', 'Somewhere', 'via Nest'],
      ['error', 'Somewhere', 'an error'],
    ]);
  });
});

describe('what the exception filter logs of a request', () => {
  it('a data error: the SQLSTATE and the correlation id, never the database message (it may quote the request)', () => {
    const { logger, lines } = capture('verbose');
    Logger.overrideLogger(logger);
    const sent: unknown[] = [];
    const res = {
      headersSent: false,
      setHeader: () => undefined,
      status: () => res,
      json: (b: unknown) => void sent.push(b),
    };
    const req = { correlationId: 'corr-filter-1' };
    const host = {
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    } as unknown as ArgumentsHost;
    const err = Object.assign(new Error('invalid input syntax for type integer: "SECRET-VALUE"'), {
      code: '22P02',
    });
    try {
      requestContext.run({ correlationId: 'corr-filter-1' }, () =>
        new AllExceptionsFilter().catch(err, host),
      );
    } finally {
      Logger.overrideLogger(['error', 'warn']);
    }
    expect(sent).toEqual([
      expect.objectContaining({ statusCode: 400, code: 'REQUEST.VALIDATION_FAILED' }),
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        context: 'Errors',
        correlationId: 'corr-filter-1',
        msg: 'data error [corr-filter-1]: SQLSTATE 22P02',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('SECRET-VALUE');
  });
});
