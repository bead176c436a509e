import { ConfigError, loadConfig } from './config';

describe('loadConfig: DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', () => {
  const idle = (v?: string) =>
    loadConfig(v === undefined ? {} : { DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: v })
      .dbIdleInTransactionTimeoutMs;

  it('defaults to 60 s; 0 turns it off; 1 s to 24 h are taken as given', () => {
    expect(idle()).toBe(60_000);
    expect(idle('')).toBe(60_000);
    expect(idle('0')).toBe(0);
    expect(idle('1000')).toBe(1000);
    expect(idle('86400000')).toBe(86_400_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const v of ['500', '1', '86400001', '-1', '60s', '1e4']) {
      expect(() => idle(v)).toThrow(ConfigError);
      expect(() => idle(v)).toThrow(/DB_IDLE_IN_TRANSACTION_TIMEOUT_MS/);
    }
  });
});
