/** Prometheus gauges for queue mode, read from Redis at scrape time (so every replica reports the fleet-wide values). */
import { Gauge, type Registry } from 'prom-client';
import type { QueueDepth } from './queue-scheduler.js';

/**
 * Registers `tableau_export_queue_jobs{state="waiting|delayed|active"}` and `tableau_export_active_runs` on
 * `registry`; both call `depth()` when scraped. A failing `depth()` (Redis down) fails the scrape, which is what a
 * monitoring system should see.
 */
export function registerQueueMetrics(registry: Registry, depth: () => Promise<QueueDepth>): void {
  new Gauge({
    name: 'tableau_export_queue_jobs',
    help: 'Export runs in the queue by state, across all workers',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const d = await depth();
      this.set({ state: 'waiting' }, d.waiting);
      this.set({ state: 'delayed' }, d.delayed);
      this.set({ state: 'active' }, d.active);
    },
  });
  new Gauge({
    name: 'tableau_export_active_runs',
    help: 'Export runs being processed now, across all workers',
    registers: [registry],
    async collect() {
      this.set((await depth()).active);
    },
  });
}
