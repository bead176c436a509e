import type { INestApplication } from '@nestjs/common';
import { ComplianceProjector, PROJECTION_NAME, ProjectorDaemon } from '@app/projections';

/**
 * Runs the projector until its checkpoint has reached the head of the store. One `catchUp()`
 * is not always enough: gap-safe reads wait for every older transaction of the cluster (other
 * suites' too, when they share a PostgreSQL), so a batch can stop short of the newest events.
 */
export async function catchUpFully(app: INestApplication, maxTries = 600): Promise<void> {
  const daemon = app.get(ProjectorDaemon);
  const projector = app.get(ComplianceProjector);
  for (let i = 0; ; i++) {
    await daemon.catchUp();
    if ((await projector.lag(PROJECTION_NAME)).behind === 0) return;
    if (i >= maxTries) throw new Error('the projector did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}
