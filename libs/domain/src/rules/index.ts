export * from './types';
export * from './data-quality';
export * from './definitions';
export * from './assess';
export * from './status';
