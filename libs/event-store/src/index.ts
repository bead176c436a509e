export * from './types';
export * from './pg-event-store';
export * from './migrations/1732600000000-event-store';
export * from './migrations/1732600000003-audit-keys';
export * from './migrations';
export * from './pg-errors';
export * from './checkpoints';
export * from './prepared';
