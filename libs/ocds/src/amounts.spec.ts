import fc from 'fast-check';
import { amountToYuan, fenToAmount } from './amounts';
import { JsonNumber } from './json-reader';

const yuan = (text: string) => amountToYuan(new JsonNumber(text));

describe('OCDS amounts ↔ yuan, exactly', () => {
  it.each([
    ['1250000', '1250000.00'],
    ['1250000.5', '1250000.50'],
    ['1250000.50', '1250000.50'],
    ['1250000.500000', '1250000.50'],
    ['0.01', '0.01'],
    ['1.2500005e6', '1250000.50'],
    ['125000050E-2', '1250000.50'],
    ['1e12', '1000000000000.00'],
    ['0.1', '0.10'],
  ])('%s → %s', (text, expected) => {
    expect(yuan(text)).toEqual({ yuan: expected });
  });

  it.each([
    ['100.005', 'has more than 2 decimals: fen cannot hold it exactly'],
    ['0.001', 'has more than 2 decimals: fen cannot hold it exactly'],
    ['1e-3', 'has more than 2 decimals: fen cannot hold it exactly'],
    ['0', 'must be greater than 0'],
    ['0.00', 'must be greater than 0'],
    ['-5', 'must be greater than 0'],
    ['1000000000000.01', 'must be at most 1000000000000 yuan'],
    ['1e400', 'must be at most 1000000000000 yuan'],
    ['1e-400', 'has more than 2 decimals: fen cannot hold it exactly'],
  ])('%s is refused: %s', (text, problem) => {
    expect(yuan(text)).toEqual({ problem });
  });

  it('anything but a JSON number is refused', () => {
    expect(amountToYuan('1250000.00')).toEqual({ problem: 'must be a JSON number of yuan' });
    expect(amountToYuan(null)).toEqual({ problem: 'must be a JSON number of yuan' });
    expect(amountToYuan(undefined)).toEqual({ problem: 'must be a JSON number of yuan' });
  });

  it('every amount in fen round-trips through the JSON number the export writes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 100_000_000_000_000n }), (fen) => {
        const text = JSON.stringify(fenToAmount(fen));
        const back = amountToYuan(new JsonNumber(text));
        const expected = `${fen / 100n}.${(fen % 100n).toString().padStart(2, '0')}`;
        expect(back).toEqual({ yuan: expected });
      }),
      { numRuns: 20000 },
    );
  });
});
