import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config';
import { AuthGuard } from './auth.guard';
import { PrincipalThrottlerGuard, throttlerOptions } from './rate-limit';
import { TokenVerifier } from './token-verifier';

/**
 * Authentication, authorization and rate limits for every route of the application.
 * Needs APP_CONFIG from a global module. The guards run in the order listed: the principal
 * is known before the rate limit picks its budget.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => throttlerOptions(c),
    }),
  ],
  providers: [
    {
      provide: TokenVerifier,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => {
        const log = new Logger('Auth');
        return TokenVerifier.create(c.auth, (file, created) => {
          const what = `${created ? 'generated' : 'using'} the HS256 token secret in ${file}`;
          if (c.auth.warnOnGeneratedSecret) {
            log.warn(
              `${what}: no JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL is configured while DATABASE_URL is set; configure one for production`,
            );
          } else {
            log.log(
              `${what} (set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL to configure one); npm run token prints tokens`,
            );
          }
        });
      },
    },
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
  ],
  exports: [TokenVerifier],
})
export class AuthModule {}
