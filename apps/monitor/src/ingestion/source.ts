import type { EventSource } from '@app/event-store';
import type { Principal } from '@app/platform';

/** Where an HTTP event came from: the authenticated platform (and its subject). */
export function sourceOf(user: Principal | undefined): EventSource {
  return {
    kind: 'http',
    ...(user?.platformId ? { platformId: user.platformId } : {}),
    ...(user?.sub ? { principal: user.sub } : {}),
  };
}
