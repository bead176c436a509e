import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, Public, type AppConfig } from '@app/platform';
import { NoQuery } from '../compliance/query-params.dto';

/**
 * What the dashboard's sign-in page needs to know before it has a token: whether the service
 * takes tokens from an OpenID Connect provider, and which. Holds nothing secret (the
 * dashboard is a public client: PKCE, no client secret).
 */
@ApiTags('auth')
@Public()
@Controller('v1/auth')
export class AuthConfigController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('config')
  @Header('cache-control', 'no-cache')
  @ApiOperation({
    summary: 'Sign-in configuration for the dashboard (no token needed)',
    description:
      '`oidc` is null unless OIDC_ISSUER and OIDC_CLIENT_ID are set; then the dashboard signs in ' +
      'with the authorization-code flow and PKCE (S256) against `issuer`, asking for `scope` ' +
      'and, when set, the `resource` indicator (RFC 8707) of this API.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        oidc: {
          type: 'object',
          nullable: true,
          properties: {
            issuer: { type: 'string', example: 'https://id.example.gov.cn' },
            clientId: { type: 'string', example: 'compliance-dashboard' },
            scope: { type: 'string', example: 'openid' },
            resource: { type: 'string', example: 'urn:compliance-monitor' },
          },
        },
      },
    },
  })
  authConfig(@Query() _q: NoQuery) {
    return { oidc: this.config.dashboard.oidc ?? null };
  }
}
