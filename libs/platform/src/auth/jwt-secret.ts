import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, MIN_JWT_SECRET_LENGTH, type AuthConfig } from '../config';

export interface ResolvedSecret {
  secret: string;
  /** where it came from: the JWT_SECRET variable or the generated file */
  origin: 'JWT_SECRET' | 'file';
  /** true when this call created the file */
  created: boolean;
}

/**
 * The HS256 secret: JWT_SECRET, else the one kept under DATA_DIR (file `jwt-secret`, mode
 * 0600), generated on first use so that tokens survive a restart. The service and
 * `npm run token` both call this, so they always agree.
 */
export function resolveHs256Secret(auth: AuthConfig): ResolvedSecret {
  if (auth.algorithm !== 'HS256')
    throw new ConfigError('tokens are RS256 here: no HS256 secret is configured');
  if (auth.secret !== undefined)
    return { secret: auth.secret, origin: 'JWT_SECRET', created: false };
  const file = auth.secretFile;
  let created = false;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': if two processes race, exactly one creates it and both read the same secret
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError(
      `${file} must hold a secret of at least ${MIN_JWT_SECRET_LENGTH} characters (or set JWT_SECRET)`,
    );
  }
  return { secret, origin: 'file', created };
}
