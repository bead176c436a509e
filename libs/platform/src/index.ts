export * from './config';
export * from './errors';
export * from './correlation';
export * from './exception.filter';
export * from './database.module';
export * from './embedded-postgres';
export * from './clock';
export * from './auth';
