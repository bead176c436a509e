export * from './test-database';
export * from './builders';
