import type { AdoptedEnvironment, AdoptionProgress } from '../../shared/environments.js';

/** How far an adoption has come: what the cluster matched and what is done. */
export class Adoption {
  readonly progress: AdoptionProgress;

  constructor(cluster: string, selector: string, matched: number) {
    this.progress = { cluster, selector, matched, done: 0, adopted: 0, alreadyRegistered: 0 };
  }

  add(results: AdoptedEnvironment[]): void {
    for (const r of results) {
      this.progress.done++;
      if (r.action === 'adopted') this.progress.adopted++;
      else this.progress.alreadyRegistered++;
    }
  }

  summary(): string {
    const p = this.progress;
    return `${p.done} of ${p.matched} environment(s) matching ${p.selector} on ${p.cluster}: ${p.adopted} adopted, ${p.alreadyRegistered} already registered`;
  }
}
