import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PgEventStore } from '@app/event-store';
import { KeepRejectedRequestCommand } from './keep-rejected-request.command';

@CommandHandler(KeepRejectedRequestCommand)
export class KeepRejectedRequestHandler implements ICommandHandler<KeepRejectedRequestCommand> {
  constructor(private readonly store: PgEventStore) {}

  execute(cmd: KeepRejectedRequestCommand): Promise<void> {
    return this.store.transaction((c) => this.store.recordRejections(c, [cmd.row]));
  }
}
