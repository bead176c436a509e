import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface PlatformLagRow {
  /** the platform stamped on the event's `source` (token or Kafka topic); null for events
   * no platform sent (exemptions recorded by inspectors) */
  platformId: string | null;
  type: string;
  events: number;
  /** recordedAt − occurredAt, seconds (3 decimals): median and 95th percentile (interpolated,
   * PostgreSQL percentile_cont), and the longest */
  medianSeconds: number;
  p95Seconds: number;
  maxSeconds: number;
  /** the same in hours, 2 decimals */
  medianHours: number;
  p95Hours: number;
}

export interface PlatformLagView {
  /** recorded on or after this business date (Asia/Shanghai) */
  from: string;
  /** … and on or before this one */
  to: string;
  /** by platform (no platform last), then event type */
  items: PlatformLagRow[];
}

/**
 * SPEC §9 `GET /v1/platforms/lag?from=&to=`: how long after `occurredAt` the events recorded
 * between two business dates were stored, per platform and event type.
 */
export class GetPlatformLagQuery extends Query<PlatformLagView> {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
