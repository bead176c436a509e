import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { RecordEventsHandler } from './record-events/record-events.handler';
import { EventsController } from './record-events/events.controller';

@Module({
  imports: [CqrsModule],
  controllers: [EventsController],
  providers: [RecordEventsHandler],
})
export class IngestionModule {}
