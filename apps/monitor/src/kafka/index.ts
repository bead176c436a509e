export * from './event-consumer.port';
export * from './kafka-metrics';
export * from './kafka-consumer.role';
export * from './kafka.module';
