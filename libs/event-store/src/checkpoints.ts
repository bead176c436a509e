import type { PoolClient } from 'pg';
import { START, type Checkpoint } from './types';

type Sql = Pick<PoolClient, 'query'>;

/**
 * Projection checkpoints: a position in the store's global order per projection, moved in
 * the same transaction as the projection's writes (compare-and-set), so that a projection
 * never skips or repeats a batch whatever crashes.
 */
export async function ensureCheckpoint(c: Sql, name: string): Promise<void> {
  await c.query(
    'INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING',
    [name],
  );
}

/** The checkpoint (START when there is none); `forUpdate` locks it for the transaction. */
export async function readCheckpoint(c: Sql, name: string, forUpdate = false): Promise<Checkpoint> {
  const { rows } = await c.query<{ transaction_id: string; global_position: string }>(
    `SELECT transaction_id::text, global_position::text FROM projection_checkpoints WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0]
    ? { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position }
    : START;
}

/**
 * Moves the checkpoint to `to`; with `expected`, only if it is still there (compare-and-set):
 * throws when another writer moved it meanwhile.
 */
export async function moveCheckpoint(
  c: Sql,
  name: string,
  to: Checkpoint,
  expected?: Checkpoint,
): Promise<void> {
  const moved = expected
    ? await c.query(
        `UPDATE projection_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now()
          WHERE name = $1 AND transaction_id = $4::xid8 AND global_position = $5`,
        [
          name,
          to.transactionId,
          to.globalPosition,
          expected.transactionId,
          expected.globalPosition,
        ],
      )
    : await c.query(
        `UPDATE projection_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now()
          WHERE name = $1`,
        [name, to.transactionId, to.globalPosition],
      );
  if (moved.rowCount !== 1) throw new Error(`checkpoint ${name} moved under us`);
}

export async function deleteCheckpoint(c: Sql, name: string): Promise<void> {
  await c.query('DELETE FROM projection_checkpoints WHERE name = $1', [name]);
}
