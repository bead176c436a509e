/// <reference types="jest" />
import {
  daysBetween,
  formatCount,
  formatDays,
  formatRate,
  formatShare,
  formatRatio,
  formatTimestamp,
  formatYuan,
} from './format';

describe('dashboard formatting', () => {
  it('groups yuan strings without floats, keeping every digit', () => {
    expect(formatYuan('1250000.00')).toBe('1,250,000.00');
    expect(formatYuan('1250000.5')).toBe('1,250,000.50');
    expect(formatYuan('0.01')).toBe('0.01');
    expect(formatYuan('-3')).toBe('-3.00');
    expect(formatYuan('999')).toBe('999.00');
    // beyond a double's precision: still exact
    expect(formatYuan('90071992547409931.07')).toBe('90,071,992,547,409,931.07');
    expect(formatYuan(null)).toBe('—');
    expect(formatYuan('')).toBe('—');
  });

  it('shows rates and ratios as percentages', () => {
    expect(formatRate(0.8333)).toBe('83.3%');
    expect(formatRate(1)).toBe('100.0%');
    expect(formatRate(0)).toBe('0.0%');
    expect(formatRate(null)).toBe('—');
    expect(formatRatio('0.4000')).toBe('40.00%');
    expect(formatRatio('0.30')).toBe('30%');
    expect(formatRatio('1.0000')).toBe('100.00%');
    expect(formatRatio('0.0512')).toBe('5.12%');
  });

  it('counts, timestamps in Asia/Shanghai, day differences', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatTimestamp('2021-09-30T23:30:00Z')).toBe('2021-10-01 07:30:00');
    expect(daysBetween('2021-09-28', '2021-10-11')).toBe(13);
  });

  it('shows shares (4 decimals) as percentages with every digit, days with 2 decimals', () => {
    expect(formatShare(0.3333)).toBe('33.33%');
    expect(formatShare(1)).toBe('100.00%');
    expect(formatShare(0)).toBe('0.00%');
    expect(formatShare(0.0005)).toBe('0.05%');
    expect(formatShare(0.07)).toBe('7.00%');
    expect(formatShare(null)).toBe('—');
    expect(formatDays(12.5)).toBe('12.50');
    expect(formatDays(-3.25)).toBe('-3.25');
    expect(formatDays(null)).toBe('—');
  });
});
