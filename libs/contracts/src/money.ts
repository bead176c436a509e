/**
 * Money crosses our boundary as a decimal string in yuan with at most two decimals
 * ("1250000.00"), greater than 0 and at most 1e12 yuan. JSON numbers are refused: a float
 * cannot carry fen exactly. The conversion to integer fen lives in the domain library.
 */
export const MONEY_PATTERN = /^(0|[1-9]\d{0,12})(\.\d{1,2})?$/;
export const MAX_YUAN = 1e12;

/** Returns an error message, or null when `value` is an acceptable amount. */
export function moneyProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a decimal string in yuan, e.g. "1250000.00"';
  if (!MONEY_PATTERN.test(value)) return 'must be a decimal string with at most 2 decimals';
  // the common case, without splitting: 1 to 12 digits not starting with 0 are 1 ≤ x < 1e12
  const dot = value.indexOf('.');
  if (value[0] !== '0' && (dot < 0 ? value.length : dot) <= 12) return null;
  const [i, f = ''] = value.split('.');
  const intPart = Number(i);
  if (intPart === 0 && /^0*$/.test(f)) return 'must be greater than 0';
  if (intPart > MAX_YUAN || (intPart === MAX_YUAN && !/^0*$/.test(f)))
    return 'must be at most 1000000000000 yuan';
  return null;
}

/** Agreed prepayment ratio: a decimal string from 0 to 1 with at most 4 decimals. */
/** An annual interest rate as a decimal string from 0 to 1, at most 8 decimals ("0.0365"). */
export const RATE_PATTERN = /^(0(\.\d{1,8})?|1(\.0{1,8})?)$/;
export const RATIO_PATTERN = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;
