import { ErrorCodes } from '@app/contracts';
import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppError, ServiceUnavailable } from '../errors';
import { ACCESS_POLICY, type AccessPolicy } from './access-policy';
import { scopeOfPrincipal, type Principal, type PrincipalScope } from './principal';
import { TokenRejected, TokenVerifier } from './token-verifier';

export type AuthenticatedRequest = Request & { user?: Principal; scope?: PrincipalScope };

/** Longer than any token we issue or accept; refuses oversized headers before parsing. */
const MAX_TOKEN_LENGTH = 8192;

export class Unauthorized extends AppError {
  constructor(message: string) {
    super(ErrorCodes.UNAUTHORIZED, message, 401);
  }
}

export class Forbidden extends AppError {
  constructor(message: string) {
    super(ErrorCodes.FORBIDDEN, message, 403);
  }
}

/**
 * Global guard (APP_GUARD): authenticates the bearer token and checks the route's
 * `@Roles(...)`. Fails closed: a route with neither `@Roles` nor `@Public` is refused (403)
 * to every caller. Sets `req.user` (the principal) and `req.scope` (its data scope).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');
  private readonly reported = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (policy?.kind === 'public') return true;
    if (ctx.getType() !== 'http') throw new Forbidden('no access policy for this kind of handler');
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const principal = await this.authenticate(req, res);
    req.user = principal;
    if (!policy) {
      const route = `${ctx.getClass().name}.${ctx.getHandler().name}`;
      if (!this.reported.has(route)) {
        this.reported.add(route);
        this.logger.error(
          `${route} declares no access policy (@Roles or @Public): refused to everyone`,
        );
      }
      throw new Forbidden('this route is not open to any role');
    }
    if (!policy.roles.includes(principal.role)) {
      throw new Forbidden(`the ${principal.role} role may not call this route`);
    }
    req.scope = scopeOfPrincipal(principal);
    return true;
  }

  private async authenticate(req: Request, res: Response): Promise<Principal> {
    const header = req.headers.authorization;
    const m =
      typeof header === 'string' ? /^Bearer[ ]+([A-Za-z0-9_=.-]+)[ ]*$/i.exec(header) : null;
    if (!m || m[1].length > MAX_TOKEN_LENGTH) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new Unauthorized(
        header === undefined
          ? 'a bearer token is required'
          : 'the Authorization header must be "Bearer <token>"',
      );
    }
    try {
      return await this.verifier.verify(m[1]);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      if (err.unavailable) {
        this.logger.warn(`token keys unavailable: ${err.message}`);
        throw new ServiceUnavailable('tokens cannot be verified right now; retry later');
      }
      this.logger.debug(`token refused: ${err.message}`);
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new Unauthorized(err.message);
    }
  }
}
