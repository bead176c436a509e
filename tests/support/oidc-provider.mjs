// A real OpenID Connect provider (the `oidc-provider` package) for the dashboard's sign-in
// test, run as its own process: `node oidc-provider.mjs <port> <redirectUri> <audience> <role>`.
// One public client `dashboard` (PKCE S256 required, no secret); its access tokens are RS256
// JWTs for `audience` with the `role` claim the monitor reads. The development login pages
// accept any name. Prints `READY <issuer>` when listening.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri, audience, role = 'inspector'] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'dashboard',
      token_endpoint_auth_method: 'none',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'openid',
        audience,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: () => ({ role }),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider error', err));
provider.listen(Number(port), '127.0.0.1');
console.log(`READY ${issuer}`);
