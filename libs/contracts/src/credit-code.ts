/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a
 * 31-character alphabet (no I, O, S, V, Z); the last one is a check character computed
 * from the first 17 with weights 3^i mod 31.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i]);
    if (v < 0) return null;
    sum += v * WEIGHTS[i];
  }
  const c = (31 - (sum % 31)) % 31;
  return ALPHABET[c];
}

export function isValidCreditCode(code: unknown): boolean {
  if (typeof code !== 'string' || code.length !== 18) return false;
  return creditCodeCheckChar(code.slice(0, 17)) === code[17];
}

/** Builds a valid code from any 17 valid characters (used by generators and tests). */
export function completeCreditCode(first17: string): string {
  const c = creditCodeCheckChar(first17);
  if (c === null) throw new Error(`invalid credit code body: ${first17}`);
  return first17 + c;
}
