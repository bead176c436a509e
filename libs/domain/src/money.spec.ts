import { fenToYuan, ratioDown, yuanToFen } from './money';

describe('money', () => {
  it('converts yuan strings to fen exactly', () => {
    expect(yuanToFen('1250000.00')).toBe(125000000n);
    expect(yuanToFen('0.1')).toBe(10n);
    expect(yuanToFen('1000000000000')).toBe(100000000000000n);
    expect(fenToYuan(125000001n)).toBe('1250000.01');
  });
  it('rounds ratios down to 4 decimals', () => {
    expect(ratioDown(500000n, 1250000n)).toBe('0.4000');
    expect(ratioDown(1n, 3n)).toBe('0.3333');
    expect(ratioDown(2n, 3n)).toBe('0.6666');
    expect(ratioDown(3n, 3n)).toBe('1.0000');
  });
});
