import { fenToYuan, meanHalfUp, rateDown, ratioDown, yuanToFen } from './money';

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

describe('rates and means shown as numbers', () => {
  /** floor(part × 10^4 / whole) as the decimal string it must print as, by BigInt alone. */
  const exactRate = (part: number, whole: number): string => {
    const q = (BigInt(part) * 10000n) / BigInt(whole);
    const s = q.toString().padStart(5, '0');
    return `${s.slice(0, -4)}.${s.slice(-4)}`.replace(/\.?0+$/, '');
  };

  it('rateDown is exact for every fraction with a denominator up to 2,000', () => {
    const wrong: string[] = [];
    for (let whole = 1; whole <= 2000; whole++) {
      for (let part = 0; part <= whole; part++) {
        const got = rateDown(part, whole);
        const want = exactRate(part, whole);
        // the number itself, and what JSON makes of it
        if (got !== Number(want) || JSON.stringify(got) !== (want === '' ? '0' : want))
          wrong.push(`${part}/${whole}: ${got} instead of ${want}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('rateDown: 57 of 100 is 0.57, not 0.5699 (floating point); nothing due is null', () => {
    expect(Math.floor((57 / 100) * 10000) / 10000).toBe(0.5699); // the defect it replaces
    expect(rateDown(57, 100)).toBe(0.57);
    expect(rateDown(2, 3)).toBe(0.6666);
    expect(rateDown(0, 7)).toBe(0);
    expect(rateDown(7, 7)).toBe(1);
    expect(rateDown(0, 0)).toBeNull();
    expect(rateDown(5_000_001, 10_000_000)).toBe(0.5);
  });

  it('meanHalfUp rounds half up to 2 decimals exactly', () => {
    // sum/n rounded half up by remainder, independently of the formula under test
    const exactMean = (sum: number, n: number): number => {
      const num = BigInt(sum) * 100n;
      let q = num / BigInt(n);
      if (2n * (num % BigInt(n)) >= BigInt(n)) q += 1n;
      return Number(q) / 100;
    };
    const wrong: string[] = [];
    for (let n = 1; n <= 400; n++) {
      for (let sum = 0; sum <= 3 * n; sum++) {
        const got = meanHalfUp(sum, n);
        if (got !== exactMean(sum, n))
          wrong.push(`${sum}/${n}: ${got} instead of ${exactMean(sum, n)}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(Math.round((1005 / 1000) * 100) / 100).toBe(1); // floating point loses the half
    expect(meanHalfUp(1005, 1000)).toBe(1.01);
    expect(meanHalfUp('7', 2)).toBe(3.5);
    expect(meanHalfUp(-3, 2)).toBe(-1.5);
    expect(meanHalfUp(-1, 8)).toBe(-0.12); // -0.125 rounds half up, as Math.round does
    expect(meanHalfUp(0, 0)).toBeNull();
  });
});
