import { registerDecorator, ValidationOptions } from 'class-validator';
import { isValidCreditCode } from './credit-code';
import { moneyProblem } from './money';

/** Decimal yuan string, 2 decimals at most, 0 < x <= 1e12. */
export function IsMoney(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isMoney',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (v: unknown) => moneyProblem(v) === null,
        defaultMessage: (args) => `${args?.property} ${moneyProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

/** Unified social credit code with a valid GB 32100-2015 check character. */
export function IsCreditCode(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCreditCode',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (v: unknown) => isValidCreditCode(v),
        defaultMessage: (args) =>
          `${args?.property} must be an 18-character unified social credit code with a valid check character (GB 32100-2015)`,
      },
    });
}

const OFFSET_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** Parses ISO-8601 date-time that carries an offset; null when malformed or impossible. */
export function parseOffsetDateTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = OFFSET_DATE_TIME.exec(v);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', , oh = '0', om = '0'] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +h > 23 || +mi > 59 || +s > 59) return null;
  if (+oh > 18 || +om > 59) return null;
  const dim = new Date(Date.UTC(+y, +mo, 0)).getUTCDate();
  if (+d > dim) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

/** ISO-8601 date-time with an explicit offset (`Z` or `±hh:mm`). */
export function IsOffsetDateTime(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isOffsetDateTime',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (v: unknown) => parseOffsetDateTime(v) !== null,
        defaultMessage: (args) =>
          `${args?.property} must be an ISO-8601 date-time with an offset, e.g. 2021-09-30T15:20:00+08:00`,
      },
    });
}
