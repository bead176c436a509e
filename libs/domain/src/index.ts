export * from './money';
export * from './business-date';
export * from './facts';
export * from './decider';
export * from './decide-batch';
export * from './work-calendar';
export * from './rules';
