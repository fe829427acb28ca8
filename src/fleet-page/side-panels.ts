import type { FleetStatus } from '../shared/fleet-status.js';
import { duration, escapeHtml, SEVERITY_COLOURS, severityLabel, utc } from './format.js';

const MAX_PROBLEMS = 200;

export function renderProblems(list: HTMLElement, count: HTMLElement, status: FleetStatus): void {
  count.textContent = String(status.problems.length);
  const shown = status.problems.slice(0, MAX_PROBLEMS);
  list.innerHTML =
    shown
      .map(
        (p) =>
          `<li data-problem-id="${escapeHtml(p.problemId)}" data-environment-id="${escapeHtml(p.environmentId)}">` +
          `<span class="dot" style="background:${SEVERITY_COLOURS[p.severity] ?? '#8b8d98'}"></span>` +
          `<span class="duration">${duration(p.openSeconds)}</span>` +
          `<span class="title">${escapeHtml(p.title)}</span>` +
          `<span class="where">${escapeHtml(p.environmentId)} · ${escapeHtml(p.displayId)} · ${escapeHtml(severityLabel(p.severity))}${p.incidentId ? ' · incident' : ''}</span></li>`,
      )
      .join('') +
      (status.problems.length > MAX_PROBLEMS
        ? `<li class="more">… and ${status.problems.length - MAX_PROBLEMS} more</li>`
        : '') || '<li class="empty">No open problem.</li>';
}

export function renderIncidents(list: HTMLElement, status: FleetStatus): void {
  list.innerHTML =
    status.incidents
      .map(
        (i) =>
          `<li data-incident-id="${escapeHtml(i.id)}" data-problem-type="${escapeHtml(i.problemType)}" class="${i.open ? 'open' : 'closed'}">` +
          `<span class="title">${escapeHtml(i.problemType)}</span>` +
          `<span class="where">${i.environments.length} environments · since ${utc(i.openedAt)}${i.closedAt ? ` · over at ${utc(i.closedAt)}` : ''}</span>` +
          `<span class="envs">${i.environments.slice(0, 12).map(escapeHtml).join(', ')}${i.environments.length > 12 ? ', …' : ''}</span></li>`,
      )
      .join('') || '<li class="empty">None.</li>';
}

export function renderActivity(container: HTMLElement, status: FleetStatus): void {
  const a = status.autopilot;
  if (!a) {
    container.innerHTML = '<p class="empty">Shown for the present only.</p>';
    return;
  }
  const running = Object.entries(a.running)
    .map(([kind, n]) => `<span class="stat"><b>${n}</b> ${escapeHtml(kind)}</span>`)
    .join('');
  const phases = Object.entries(a.remediationsByPhase)
    .map(([phase, n]) => `<span class="stat"><b>${n}</b> ${escapeHtml(phase)}</span>`)
    .join('');
  container.innerHTML =
    `<div class="stats">${running}</div>` +
    (phases ? `<div class="stats"><span class="label">remediations:</span>${phases}</div>` : '') +
    `<div class="stats"><span class="stat${a.needingAttention ? ' warn' : ''}"><b>${a.needingAttention}</b> waiting for an operator</span></div>`;
}

export function renderSummary(container: HTMLElement, status: FleetStatus): void {
  const withProblems = status.environments.filter((e) => e.openProblems > 0).length;
  const healing = status.environments.filter((e) => e.healing).length;
  container.innerHTML =
    `<span><b>${status.environments.length}</b> environments</span>` +
    `<span><b>${withProblems}</b> with problems</span>` +
    `<span><b>${status.problems.length}</b> open problems</span>` +
    `<span><b>${healing}</b> healing</span>` +
    `<span><b>${status.driftedEnvironments}</b> drifted</span>` +
    `<span><b>${status.incidents.filter((i) => i.open).length}</b> incidents</span>`;
}
