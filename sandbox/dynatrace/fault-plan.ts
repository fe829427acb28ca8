import { mulberry32 } from '../seeded-random.js';
import type { SimulatorKnobs } from './knobs.js';

export type Fault = 'none' | 'error500' | 'error429' | 'reset' | 'hang';

export class FaultPlan {
  private random: () => number = Math.random;

  constructor(private faults: SimulatorKnobs['faults']) {
    this.update(faults);
  }

  update(faults: SimulatorKnobs['faults']): void {
    this.faults = faults;
    this.random = faults.seed === undefined ? Math.random : mulberry32(faults.seed);
  }

  decide(routeName: string, environmentId?: string): Fault {
    const f = this.faults;
    if (f.rate500 + f.rate429 + f.rateReset + f.rateHang === 0) return 'none';
    if (f.routes.length > 0 && !f.routes.some((prefix) => routeName.startsWith(prefix))) return 'none';
    if (f.environments.length > 0 && (environmentId === undefined || !f.environments.includes(environmentId)))
      return 'none';
    let roll = this.random();
    for (const [fault, rate] of [
      ['error500', f.rate500],
      ['error429', f.rate429],
      ['reset', f.rateReset],
      ['hang', f.rateHang],
    ] as const) {
      if (roll < rate) return fault;
      roll -= rate;
    }
    return 'none';
  }
}
