import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The naive baseline's scratch table, shaped like `events` (same columns, same unique keys):
 * what a straightforward TypeORM implementation would write, one `save()` per event.
 */
@Entity({ name: 'naive_events' })
@Index(['streamId', 'streamVersion'], { unique: true })
export class NaiveEvent {
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    name: 'global_position',
    generatedIdentity: 'ALWAYS',
  })
  globalPosition!: string;

  @Column({ name: 'stream_id', type: 'text' })
  streamId!: string;

  @Column({ name: 'stream_version', type: 'integer' })
  streamVersion!: number;

  @Index({ unique: true })
  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'schema_version', type: 'smallint' })
  schemaVersion!: number;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;

  @Column({ type: 'jsonb' })
  data!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  metadata!: Record<string, unknown>;
}
