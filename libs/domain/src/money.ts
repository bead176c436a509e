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
