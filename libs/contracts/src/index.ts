export * from './error-codes';
export * from './topics';
export * from './money';
export * from './credit-code';
export * from './event-types';
export * from './validators';
export * from './event-payloads';
export * from './envelope';
