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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by the `n` ASCII digits of `v` at `at`; -1 when one is not a digit. */
function digits(v: string, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    x = x * 10 + c;
  }
  return x;
}

const at = (v: string, i: number, ch: string) => v.charCodeAt(i) === ch.charCodeAt(0);

/**
 * Parses ISO-8601 date-time that carries an offset (`YYYY-MM-DDTHH:MM[:SS[.f{1,9}]]` then `Z`
 * or `±hh:mm`); null when malformed or impossible. The epoch milliseconds are those
 * `Date.parse` gives (fractions truncated to milliseconds). Read character by character: the
 * regular expression with its eleven groups, then `Date.parse` reading the string again, cost
 * ~1.2 µs an event; validators.spec.ts holds this to that reference on random date-times.
 */
export function parseOffsetDateTime(v: unknown): number | null {
  if (typeof v !== 'string' || v.length < 17) return null;
  const y = digits(v, 0, 4);
  const mo = digits(v, 5, 2);
  const d = digits(v, 8, 2);
  const h = digits(v, 11, 2);
  const mi = digits(v, 14, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0) return null;
  if (!at(v, 4, '-') || !at(v, 7, '-') || !at(v, 10, 'T') || !at(v, 13, ':')) return null;
  let i = 16;
  let s = 0;
  let ms = 0;
  if (at(v, i, ':')) {
    s = digits(v, i + 1, 2);
    if (s < 0) return null;
    i += 3;
    if (at(v, i, '.')) {
      const from = ++i;
      while (i < v.length && i - from < 10 && digits(v, i, 1) >= 0) i++;
      const n = i - from;
      if (n < 1 || n > 9) return null;
      ms = digits(v, from, Math.min(n, 3)) * (n === 1 ? 100 : n === 2 ? 10 : 1);
    }
  }
  let offset = 0;
  if (at(v, i, 'Z')) {
    if (i + 1 !== v.length) return null;
  } else {
    if (i + 6 !== v.length || !(at(v, i, '+') || at(v, i, '-')) || !at(v, i + 3, ':')) return null;
    const oh = digits(v, i + 1, 2);
    const om = digits(v, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 18 || om > 59) return null;
    offset = (at(v, i, '-') ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS_IN_MONTH[mo - 1] + (mo === 2 && leap ? 1 : 0)) return null;
  // Date.UTC reads years 0–99 as 1900–1999
  if (y < 100) return Date.parse(v);
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offset;
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
