export * from './types';
export * from './data-quality';
export * from './definitions';
export * from './policies';
export * from './rules-doc';
export * from './assess';
export * from './status';
export * from './sme-payment';
