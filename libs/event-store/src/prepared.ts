import { createHash } from 'node:crypto';
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';

/**
 * Distinct statement texts given a name; past it, statements run unnamed (as before). The code
 * has a few dozen fixed texts (values are always parameters); the cap only keeps a text built
 * with a value spliced in by mistake from growing every connection's statement cache.
 */
const MAX_NAMED = 500;
const names = new Map<string, string>();
let renamed = 0;

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    const hash = createHash('sha1').update(text).digest('hex').slice(0, 24);
    name = `s_${hash}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A statement as a named prepared statement: node-postgres parses it once per connection and
 * PostgreSQL keeps its plan (a generic one once that is as cheap as the custom ones), where
 * an unnamed statement is parsed, analysed and planned at every execution. For the read
 * endpoints' lookups with the obligation status functions, planning cost more than running:
 * one contract's obligations 0.69 ms planned each time, 0.18 ms prepared (pgbench, this
 * machine). `text` must hold no values, only `$n` parameters.
 */
export function prepared(text: string, values?: unknown[]): QueryConfig {
  const name = nameOf(text);
  return name === undefined ? { text, values } : { name, text, values };
}

/**
 * Runs `prepared(text, values)` on `c` (a pool or a connection outside a transaction). When
 * PostgreSQL refuses the statement because its result columns changed under it ("cached plan
 * must not change result type", 0A000: a migration altered a table it reads while this
 * connection held it), the text gets a new name, parsed afresh, and the statement runs once
 * more.
 */
export async function queryPrepared<R extends QueryResultRow>(
  c: { query<T extends QueryResultRow>(config: QueryConfig): Promise<QueryResult<T>> },
  text: string,
  values?: unknown[],
): Promise<QueryResult<R>> {
  try {
    return await c.query<R>(prepared(text, values));
  } catch (err) {
    if ((err as { code?: unknown }).code !== '0A000' || !names.has(text)) throw err;
    names.set(text, `${names.get(text)!.slice(0, 26)}_${++renamed}`);
    return c.query<R>(prepared(text, values));
  }
}
