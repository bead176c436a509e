import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/**
 * The Prometheus registry of one application instance (prom-client). Every part of the
 * service registers its collectors here, never in prom-client's global default registry:
 * the tests boot several applications in one process, each with its own figures.
 * The process metrics (`process_*`, `nodejs_*`) are collected into it too.
 */
@Injectable()
export class Metrics implements OnApplicationShutdown {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * prom-client keeps the process collectors' observers (GC, event-loop delay) for good, and
   * they reference the registry: emptied, it no longer keeps a closed application's
   * collectors (and through them the application) alive.
   */
  onApplicationShutdown(): void {
    this.registry.clear();
  }

  counter<T extends string>(config: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<T extends string>(config: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<T extends string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return new Histogram({ ...config, registers: [this.registry] });
  }

  /** The text exposition format (0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
