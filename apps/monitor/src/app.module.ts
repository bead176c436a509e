import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EVENT_STORE_MIGRATIONS } from '@app/event-store';
import {
  APP_CONFIG,
  AuthModule,
  Clock,
  DatabaseModule,
  MetricsModule,
  SharedAnswerInterceptor,
  SystemClock,
  type AppConfig,
} from '@app/platform';
import { ContractEventsController } from './contracts/contract-events.controller';
import { HealthController } from './health/health.controller';
import { HealthIndicators } from './health/health-indicators';
import { IngestionModule } from './ingestion/ingestion.module';
import { ProjectionsModule, READ_MODEL_MIGRATIONS } from '@app/projections';
import { ComplianceController } from './compliance/compliance.controller';
import { ExemptionsController } from './contracts/record-exemption/exemptions.controller';
import { AdminController } from './admin/admin.controller';
import { PoliciesController } from './policies/policies.controller';
import { DeadlinesController } from './deadlines/deadlines.controller';
import { KafkaModule } from './kafka/kafka.module';
import { OcdsModule } from './ocds/ocds.module';
import { AuthConfigController } from './dashboard/auth-config.controller';
import { WebhooksModule } from './webhooks/webhooks.module';
import { SmePaymentController } from './sme-payment/sme-payment.controller';
import { DashboardController } from './dashboard/dashboard.controller';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  clock?: Clock;
}

@Global()
@Module({})
class CoreModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: Clock, useValue: opts.clock ?? new SystemClock() },
        HealthIndicators,
        // cached answers go out as their JSON text, made once (shareAnswer)
        { provide: APP_INTERCEPTOR, useClass: SharedAnswerInterceptor },
      ],
      exports: [APP_CONFIG, Clock, HealthIndicators],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(opts),
        DatabaseModule.forRoot({
          url: opts.databaseUrl,
          poolSize: opts.config.dbPoolSize,
          readPoolSize: opts.config.dbReadPoolSize,
          queryTimeoutMs: opts.config.queryTimeoutMs,
          idleInTransactionTimeoutMs: opts.config.dbIdleInTransactionTimeoutMs,
          entities: [],
          migrations: [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS],
        }),
        CqrsModule.forRoot(),
        MetricsModule,
        AuthModule,
        IngestionModule,
        ProjectionsModule,
        KafkaModule,
        OcdsModule,
        WebhooksModule,
      ],
      controllers: [
        HealthController,
        ContractEventsController,
        ComplianceController,
        ExemptionsController,
        AdminController,
        PoliciesController,
        AuthConfigController,
        DashboardController,
        DeadlinesController,
        SmePaymentController,
      ],
    };
  }
}
