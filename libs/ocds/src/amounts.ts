import { moneyProblem } from '@app/contracts';
import { fenToYuan } from '@app/domain';
import { JsonNumber, type JsonValue } from './json-reader';

const JSON_NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * An OCDS `value.amount` (a JSON number, read as its text) → yuan decimal string, exactly:
 * `1250000.5`, `1.2500005e6` and `1250000.50` are all "1250000.50". More than 2 decimals
 * (after trailing zeros), a negative or zero amount, more than 1e12 yuan, or anything but a
 * number is a problem (the message says which), never rounded.
 */
export function amountToYuan(v: JsonValue | undefined): { yuan: string } | { problem: string } {
  if (!(v instanceof JsonNumber)) return { problem: 'must be a JSON number of yuan' };
  const m = JSON_NUMBER.exec(v.text);
  if (!m) return { problem: 'must be a JSON number of yuan' };
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = (int + frac).replace(/^0+/, '');
  let e = Number(exp) - frac.length; // value = digits × 10^e
  if (!Number.isSafeInteger(e)) return { problem: 'is out of range' };
  if (digits === '') return { problem: 'must be greater than 0' };
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  e += trailing;
  if (e < -2) return { problem: 'has more than 2 decimals: fen cannot hold it exactly' };
  if (digits.length + e > 16) return { problem: 'must be at most 1000000000000 yuan' };
  if (sign === '-') return { problem: 'must be greater than 0' };
  const fen = BigInt(digits) * 10n ** BigInt(e + 2);
  const yuan = fenToYuan(fen);
  const problem = moneyProblem(yuan);
  return problem ? { problem } : { yuan };
}

/**
 * Integer fen → the JSON number an export writes. Division by 100 of an integer below 2^53
 * is the double nearest to the decimal, and a decimal of at most 15 significant digits (1e12
 * yuan with 2 decimals is 15) is what that double prints as: `JSON.stringify` writes
 * "1250000.5" for 125000050 fen, which {@link amountToYuan} reads back as 1250000.50.
 */
export function fenToAmount(fen: bigint): number {
  return Number(fen) / 100;
}
