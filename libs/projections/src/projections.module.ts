import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PgEventStore, WRITE_POOL } from '@app/event-store';
import { APP_CONFIG, Clock, type AppConfig } from '@app/platform';
import type { Pool } from 'pg';
import { NotificationDecider } from './notifications/notification-decider';
import { NotificationSweep } from './notifications/notification-sweep';
import { WebhookOutbox } from './notifications/webhook-outbox';
import { WebhookSubscriptions } from './notifications/webhook-subscriptions';
import { CalendarService } from './calendar.service';
import { PolicyService } from './policy.service';
import { ComplianceProjector } from './projector';
import { ProjectorDaemon } from './projector.daemon';
import { ProjectorMetrics } from './projector-metrics';
import { RebuildService } from './rebuild.service';
import { GetCalendarYearsHandler } from './queries/calendar-years.query-handler';
import { ContractVisibleHandler } from './queries/contract-visible.query-handler';
import { PingDatabaseHandler } from './queries/database-ping.query-handler';
import { GetContractEventsHandler } from './queries/get-contract-events.query-handler';
import { GetContractHandler } from './queries/get-contract.query-handler';
import { GetPoliciesHandler } from './queries/get-policies.query-handler';
import { GetUnitComplianceHandler } from './queries/get-unit-compliance.query-handler';
import { ListUnitsHandler } from './queries/list-units.query-handler';
import { ListViolationsHandler } from './queries/list-violations.query-handler';
import { ListDeadlinesHandler } from './queries/list-deadlines.query-handler';
import { ObligationExistsHandler } from './queries/obligation-exists.query-handler';
import { GetSupplierPaymentsHandler } from './queries/supplier-payments.query-handler';
import { OcdsContractsHandler } from './queries/ocds-contracts.query-handler';
import { GetOverviewHandler } from './queries/overview.query-handler';
import { GetPlatformLagHandler } from './queries/platform-lag.query-handler';
import { GetRegionsHandler } from './queries/regions.query-handler';
import { GetTrendsHandler } from './queries/trends.query-handler';
import {
  PaymentPerformanceHandler,
  SmeOverdueReportHandler,
} from './queries/sme-payment.query-handler';

@Module({
  imports: [CqrsModule],
  providers: [
    {
      provide: PolicyService,
      inject: [WRITE_POOL],
      useFactory: (pool: Pool) => new PolicyService(pool),
    },
    {
      provide: CalendarService,
      inject: [WRITE_POOL, PolicyService],
      useFactory: (pool: Pool, policies: PolicyService) => new CalendarService(pool, policies),
    },
    {
      provide: NotificationDecider,
      inject: [Clock, APP_CONFIG],
      useFactory: (clock: Clock, config: AppConfig) =>
        new NotificationDecider(() => clock.now(), config.publicUrl),
    },
    {
      provide: NotificationSweep,
      inject: [WRITE_POOL, NotificationDecider],
      useFactory: (pool: Pool, decider: NotificationDecider) =>
        new NotificationSweep(pool, decider),
    },
    {
      provide: ComplianceProjector,
      inject: [WRITE_POOL, PgEventStore, CalendarService, PolicyService, NotificationDecider],
      useFactory: (
        pool: Pool,
        s: PgEventStore,
        cal: CalendarService,
        policies: PolicyService,
        notifications: NotificationDecider,
      ) =>
        new ComplianceProjector(
          pool,
          s,
          (c) => cal.forTransaction(c),
          (c) => policies.applied(c),
          notifications,
        ),
    },
    ProjectorDaemon,
    ProjectorMetrics,
    WebhookOutbox,
    WebhookSubscriptions,
    RebuildService,
    GetContractHandler,
    ListViolationsHandler,
    ListDeadlinesHandler,
    ListUnitsHandler,
    GetUnitComplianceHandler,
    GetSupplierPaymentsHandler,
    GetContractEventsHandler,
    ContractVisibleHandler,
    ObligationExistsHandler,
    GetCalendarYearsHandler,
    GetPoliciesHandler,
    PingDatabaseHandler,
    OcdsContractsHandler,
    GetOverviewHandler,
    GetTrendsHandler,
    GetRegionsHandler,
    GetPlatformLagHandler,
    SmeOverdueReportHandler,
    PaymentPerformanceHandler,
  ],
  exports: [
    CalendarService,
    PolicyService,
    ComplianceProjector,
    ProjectorDaemon,
    RebuildService,
    NotificationDecider,
    NotificationSweep,
    WebhookOutbox,
    WebhookSubscriptions,
  ],
})
export class ProjectionsModule {}
