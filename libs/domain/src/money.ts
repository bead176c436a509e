/**
 * Money in integer fen (bigint). The wire format is a decimal yuan string; validation of
 * that string happens at the door (libs/contracts), so here a malformed string is a bug.
 */
const YUAN = /^-?(\d+)(?:\.(\d{1,2}))?$/;

export function yuanToFen(yuan: string): bigint {
  const m = YUAN.exec(yuan);
  if (!m) throw new Error(`not a yuan amount: ${yuan}`);
  const fen = BigInt(m[1]) * 100n + BigInt(((m[2] ?? '') + '00').slice(0, 2));
  return yuan.startsWith('-') ? -fen : fen;
}

export function fenToYuan(fen: bigint): string {
  const neg = fen < 0n;
  const abs = neg ? -fen : fen;
  const s = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return neg ? `-${s}` : s;
}

/** part/whole as a decimal string with `decimals` places, rounded down (SPEC: ratio 4 decimals). */
export function ratioDown(part: bigint, whole: bigint, decimals = 4): string {
  if (whole <= 0n) return (0).toFixed(decimals);
  const scale = 10n ** BigInt(decimals);
  const q = (part * scale) / whole;
  const s = q.toString().padStart(decimals + 1, '0');
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/**
 * part/whole as a number with `decimals` places, rounded down (the on-time rates), computed on
 * integers: floor(part × 10^decimals / whole) / 10^decimals. Floating point would not do:
 * 57 / 100 × 10,000 is 5699.999… in binary, which floors to 0.5699. The one division by the
 * power of ten returns the double nearest to that decimal, so it prints exactly as it.
 * Null when `whole` is 0.
 */
export function rateDown(part: number, whole: number, decimals = 4): number | null {
  if (whole === 0) return null;
  const scale = 10n ** BigInt(decimals);
  return Number(floorDiv(BigInt(part) * scale, BigInt(whole))) / Number(scale);
}

/**
 * sum/n as a number with `decimals` places, rounded half up (the mean delays), computed on
 * integers: floor((2 × sum × 10^decimals + n) / 2n) / 10^decimals. `sum` is an integer (a sum
 * of whole days), given as a number, bigint or decimal string. Null when `n` is 0.
 */
export function meanHalfUp(
  sum: number | bigint | string,
  n: number | bigint,
  decimals = 2,
): number | null {
  if (BigInt(n) === 0n) return null;
  const scale = 10n ** BigInt(decimals);
  const s = BigInt(sum);
  return Number(floorDiv(2n * s * scale + BigInt(n), 2n * BigInt(n))) / Number(scale);
}

/** Integer division rounded towards minus infinity (BigInt's `/` truncates towards zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  if (b < 0n) return floorDiv(-a, -b);
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
