export * from './types';
export * from './pg-event-store';
export * from './migrations/1732600000000-event-store';
