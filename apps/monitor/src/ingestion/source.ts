import type { EventSource } from '@app/event-store';
import type { Request } from 'express';

/** Where an HTTP event came from: the authenticated platform when there is one. */
export function sourceOf(req: Request): EventSource {
  const user = (req as Request & { user?: { platformId?: string; sub?: string } }).user;
  return {
    kind: 'http',
    ...(user?.platformId ? { platformId: user.platformId } : {}),
    ...(user?.sub ? { principal: user.sub } : {}),
  };
}
