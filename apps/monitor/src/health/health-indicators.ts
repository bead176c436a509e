import { Injectable } from '@nestjs/common';

/** Roles (consumer, projector) report their state here; /health shows it. */
@Injectable()
export class HealthIndicators {
  private readonly parts = new Map<string, () => unknown>();

  register(name: string, report: () => unknown): void {
    this.parts.set(name, report);
  }

  report(): Record<string, unknown> {
    return Object.fromEntries([...this.parts].map(([k, f]) => [k, f()]));
  }
}
