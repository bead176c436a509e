/**
 * Prints a bearer token signed with the service's HS256 secret (JWT_SECRET, or the one
 * generated under DATA_DIR), for single-node setups and development:
 *
 *   npm run -s token -- --role inspector [--regions 500102,500103] [--ttl 8h] [--sub alice]
 *   npm run -s token -- --role platform --platform-id gov-cq
 *   npm run -s token -- --role supplier --credit-code 91500102MA5U7QXX2B
 *   npm run -s token -- --role admin
 *
 * It reads the same environment as the service (DATA_DIR, JWT_SECRET, JWT_ISSUER,
 * JWT_AUDIENCE). With JWT_PUBLIC_KEY or JWT_JWKS_URL the tokens come from the identity
 * provider, not from here.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../libs/platform/src/config';
import { ROLES, type Principal, type Role } from '../libs/platform/src/auth/principal';
import { signHs256Token } from '../libs/platform/src/auth/sign-token';

const USAGE =
  'usage: npm run -s token -- --role platform|inspector|supplier|admin [--platform-id ID] ' +
  '[--credit-code CODE] [--regions 500102,500103] [--ttl 1h] [--sub name]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      'platform-id': { type: 'string' },
      'credit-code': { type: 'string' },
      regions: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      sub: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const role = values.role as Role | undefined;
  if (!role || !(ROLES as readonly string[]).includes(role)) {
    console.error(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  if (config.auth.algorithm !== 'HS256') {
    console.error(
      'JWT_PUBLIC_KEY / JWT_JWKS_URL is configured: tokens are RS256, issued by your identity provider',
    );
    return 2;
  }
  const principal: Principal = {
    role,
    sub: values.sub ?? `${role}:${values['platform-id'] ?? values['credit-code'] ?? 'cli'}`,
    ...(values['platform-id'] !== undefined ? { platformId: values['platform-id'] } : {}),
    ...(values['credit-code'] !== undefined ? { creditCode: values['credit-code'] } : {}),
    ...(values.regions !== undefined
      ? {
          regions: values.regions
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        }
      : {}),
  };
  const token = await signHs256Token(config.auth, principal, values.ttl);
  if (config.auth.secret === undefined)
    console.error(`(signed with the secret in ${config.auth.secretFile})`);
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      err instanceof ConfigError ? `configuration: ${err.message}` : (err as Error).message,
    );
    process.exit(2);
  },
);
