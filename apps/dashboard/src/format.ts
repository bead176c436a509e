/**
 * Display formatting. Money arrives as yuan decimal strings ("1250000.00") and is shown with
 * thousands separators by string operations only: never through a float.
 */

/** "1250000.5" → "1,250,000.50"; "-3" → "-3.00"; null/undefined/"" → "—". */
export function formatYuan(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return value;
  const [, sign, int, frac = ''] = m;
  const grouped = int.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}.${(frac + '00').slice(0, Math.max(2, frac.length))}`;
}

/** An on-time rate (0..1, as the API gives it) as a percentage with one decimal; null → "—". */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/**
 * A share as the API gives it (0..1, at most 4 decimals) as a percentage with 2 decimals, by
 * moving the point on the decimal digits (0.3333 → "33.33%", 1 → "100.00%"); null → "—".
 */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || Number.isNaN(share)) return '—';
  const m = /^(-?)(\d+)\.(\d{4})$/.exec(share.toFixed(4));
  if (!m) return String(share);
  const int = `${m[2]}${m[3].slice(0, 2)}`.replace(/^0+(?=\d)/, '');
  return `${m[1]}${int}.${m[3].slice(2)}%`;
}

/** Days as the API gives them (2 decimals at most), shown with 2 decimals; null → "—". */
export function formatDays(days: number | null | undefined): string {
  if (days === null || days === undefined || Number.isNaN(days)) return '—';
  return days.toFixed(2);
}

/** A decimal ratio string ("0.4000", "0.30") as a percentage, by moving the point: "40.00%". */
export function formatRatio(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const m = /^(\d+)(?:\.(\d*))?$/.exec(value);
  if (!m) return value;
  const digits = (m[2] ?? '').padEnd(2, '0');
  const int = (m[1] + digits.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = digits.slice(2);
  return `${int}${rest ? '.' + rest : ''}%`;
}

/** A whole number with thousands separators. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An ISO timestamp shown in Asia/Shanghai as "YYYY-MM-DD HH:mm:ss" (the zone of business dates). */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

/** Today's business date in Asia/Shanghai. */
export function todayInShanghai(now = Date.now()): string {
  return new Date(now + 8 * 3600_000).toISOString().slice(0, 10);
}

/** Days from date a to date b (YYYY-MM-DD), b − a. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
