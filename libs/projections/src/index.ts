// What apps/ uses: the module, its services (admin, health, CLI), the migrations, and the
// queries with their views. Schema names, DDL, SQL helpers and handlers stay inside.
export { PROJECTION_NAME } from './read-model-ddl';
export { READ_MODEL_MIGRATIONS } from './migrations';
export {
  CalendarService,
  type CalendarApplyResult,
  type CalendarInForce,
} from './calendar.service';
export {
  PolicyService,
  PolicyRefused,
  type PolicyApplyResult,
  type StoredPolicyLayer,
} from './policy.service';
export { ComplianceProjector } from './projector';
export { NotificationDecider } from './notifications/notification-decider';
export { NotificationSweep, type SweepResult } from './notifications/notification-sweep';
export { NOTIFICATION_KINDS, type NotificationKind } from './notifications/notification-kinds';
export {
  WebhookOutbox,
  PAUSE_AFTER_MS,
  type ClaimedDelivery,
} from './notifications/webhook-outbox';
export * from './notifications/webhook-subscriptions';
export { ProjectorDaemon, type ProjectorHealth, type ProjectorState } from './projector.daemon';
export { RebuildService, type RebuildStatus } from './rebuild.service';
export { ProjectionsModule } from './projections.module';
export type { AccessScope } from './queries/scope';
export * from './queries/get-contract.query';
export * from './queries/get-contract-events.query';
export * from './queries/list-violations.query';
export * from './queries/list-deadlines.query';
export { allViolations } from './queries/list-violations.query-handler';
export * from './queries/units.query';
export * from './queries/supplier-payments.query';
export * from './queries/contract-visible.query';
export * from './queries/obligation-exists.query';
export * from './queries/calendar-years.query';
export * from './queries/get-policies.query';
export * from './queries/database-ping.query';
export * from './queries/ocds-contracts.query';
export * from './queries/overview.query';
export * from './queries/trends.query';
export * from './queries/regions.query';
export * from './queries/platform-lag.query';
export * from './queries/sme-payment.query';
