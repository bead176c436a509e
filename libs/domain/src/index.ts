export * from './money';
export * from './business-date';
export * from './facts';
export * from './decider';
