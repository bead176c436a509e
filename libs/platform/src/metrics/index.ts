export * from './metrics';
export * from './http-metrics';
export * from './metrics.module';
