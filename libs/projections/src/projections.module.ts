import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PgEventStore } from '@app/event-store';
import { CalendarService } from './calendar.service';
import { ComplianceProjector } from './projector';
import { ProjectorDaemon } from './projector.daemon';
import { ProjectorMetrics } from './projector-metrics';
import { RebuildService } from './rebuild.service';
import { GetContractHandler } from './queries/get-contract.query-handler';
import { ListViolationsHandler } from './queries/list-violations.query-handler';
import { GetSupplierPaymentsHandler } from './queries/supplier-payments.query-handler';
import { GetUnitComplianceHandler, ListUnitsHandler } from './queries/units.query-handlers';

@Module({
  imports: [CqrsModule],
  providers: [
    {
      provide: CalendarService,
      inject: [PgEventStore],
      useFactory: (s: PgEventStore) => new CalendarService(s.pool),
    },
    {
      provide: ComplianceProjector,
      inject: [PgEventStore, CalendarService],
      useFactory: (s: PgEventStore, cal: CalendarService) =>
        new ComplianceProjector(s.pool, s, (c) => cal.forTransaction(c)),
    },
    ProjectorDaemon,
    ProjectorMetrics,
    RebuildService,
    GetContractHandler,
    ListViolationsHandler,
    ListUnitsHandler,
    GetUnitComplianceHandler,
    GetSupplierPaymentsHandler,
  ],
  exports: [CalendarService, ComplianceProjector, ProjectorDaemon, RebuildService],
})
export class ProjectionsModule {}
