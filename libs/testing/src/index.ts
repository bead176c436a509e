export * from './test-database';
export * from './builders';
export * from './history-generator';
export * from './kafka-harness';
export * from './browser-harness';
