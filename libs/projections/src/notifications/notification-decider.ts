import { todayInShanghai } from '@app/domain';
import type { Sql } from '@app/event-store';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { anySubscription, decideNotifications, type DecisionScope } from './decide-notifications';

/**
 * The projector's and the sweep's way to the outbox: decides as of the service's clock, only
 * into the live read models (a rebuild's build schema decides nothing: the live projector
 * keeps deciding meanwhile), and only when some subscription exists.
 */
export class NotificationDecider {
  /** deliveries this instance has decided (the bench reads it) */
  decided = 0;

  constructor(
    private readonly now: () => number,
    private readonly publicUrl: string,
  ) {}

  today(): string {
    return todayInShanghai(this.now());
  }

  async decide(c: Sql, schema: string, scope: DecisionScope): Promise<number> {
    if (schema !== LIVE_SCHEMA) return 0;
    if (!(await anySubscription(c))) return 0;
    const nowMs = this.now();
    const n = await decideNotifications(
      c,
      schema,
      { nowMs, today: todayInShanghai(nowMs), publicUrl: this.publicUrl },
      scope,
    );
    this.decided += n;
    return n;
  }
}
