import './styles.css';
import type { FleetStatus } from '../shared/fleet-status.js';
import { FleetCharts } from './charts.js';
import { renderDetails, tooltipHtml } from './details.js';
import { duration, utc } from './format.js';
import { installSeverityColours, renderGrid, renderLegend } from './grid.js';
import { renderActivity, renderIncidents, renderProblems, renderSummary } from './side-panels.js';
import { fetchSession, fetchStatus, NotSignedInError, subscribeToScans } from './status-api.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const view = {
  status: undefined as FleetStatus | undefined,
  /** The moment the slider chose; undefined while live. */
  at: undefined as number | undefined,
  selected: undefined as string | undefined,
  rendered: false,
  signedOut: false,
  loading: 0,
};

const grid = $('grid');
const slider = $<HTMLInputElement>('time-slider');
const tooltip = $('tooltip');
// Made while the first status downloads (see the end), not before its request goes out.
let charts: FleetCharts | undefined;
installSeverityColours();

function notice(text: string | undefined, link?: { href: string; text: string }): void {
  const box = $('notice');
  box.hidden = text === undefined;
  box.textContent = text ?? '';
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.text;
    box.append(' ', a);
  }
}

const makeCharts = () =>
  new FleetCharts($<HTMLCanvasElement>('problems-chart'), $<HTMLCanvasElement>('versions-chart'));

function render(status: FleetStatus): void {
  view.status = status;
  renderSummary($('summary'), status);
  renderLegend($('legend'), status.environments);
  renderGrid(grid, status.environments, view.selected);
  renderProblems($('problems'), $('problem-count'), status);
  renderIncidents($('incidents'), status);
  renderActivity($('activity'), status);
  renderDetails(
    $('details'),
    status.environments.find((e) => e.id === view.selected),
    status,
  );
  charts ??= makeCharts();
  charts.update(status);
  const from = Date.parse(status.history.from);
  const to = Date.parse(status.history.to);
  slider.min = String(from);
  slider.max = String(to);
  slider.step = '1000';
  if (status.live) slider.value = String(to);
  $('status-at').textContent = status.live ? 'live' : `as of ${utc(status.at)} (${status.at})`;
  document.body.classList.toggle('past', !status.live);
  tickDataAge();
  document.body.dataset.renderedAt = status.generatedAt;
  if (!view.rendered) {
    view.rendered = true;
    document.body.dataset.firstRenderMs = String(Math.round(performance.now()));
  }
}

async function load(): Promise<void> {
  const ticket = ++view.loading;
  try {
    const status = await fetchStatus(view.at);
    // A slower answer for an earlier slider position must not replace a newer one.
    if (ticket === view.loading) {
      view.signedOut = false;
      notice(undefined);
      render(status);
    }
  } catch (err) {
    if (err instanceof NotSignedInError) {
      // No automatic redirect: with OIDC there is no sign-in page here, and a loop would hide why.
      view.signedOut = true;
      notice('Not signed in: the fleet server refused this browser.', { href: '/login', text: 'Sign in' });
      return;
    }
    notice(`The fleet server cannot be reached (${(err as Error).message}); showing what was last known.`);
  }
}

function tickDataAge(): void {
  const status = view.status;
  const age = $('data-age');
  if (!status) return;
  if (!status.live) {
    age.textContent = 'history';
    age.className = 'data-age';
    return;
  }
  const last = status.scan.lastScanAt;
  if (!last) {
    age.textContent = 'no scan has finished yet';
    age.className = 'data-age warn';
    return;
  }
  const seconds = (Date.now() - Date.parse(last)) / 1000;
  const stale = status.scan.stale || seconds > 3 * status.scan.intervalSeconds;
  age.textContent = `data ${duration(seconds)} old${stale ? ' — the scan is behind' : ''}`;
  age.className = `data-age${stale ? ' warn' : ''}`;
}

let sliderTimer: number | undefined;
function slid(): void {
  const value = Number(slider.value);
  const live = value >= Number(slider.max) - 2000;
  view.at = live ? undefined : value;
  $('status-at').textContent = live ? 'live' : `as of ${utc(new Date(value).toISOString())} …`;
  window.clearTimeout(sliderTimer);
  sliderTimer = window.setTimeout(() => void load(), 150);
}
slider.addEventListener('input', slid);
slider.addEventListener('change', slid);
$('live-button').addEventListener('click', () => {
  view.at = undefined;
  void load();
});

let hoveredCustomer: Element | null = null;
grid.addEventListener('mouseover', (e) => {
  const group = (e.target as HTMLElement).closest('.customer');
  if (group !== hoveredCustomer) {
    hoveredCustomer?.classList.remove('hovered');
    group?.classList.add('hovered');
    hoveredCustomer = group;
  }
  const target = (e.target as HTMLElement).closest<HTMLElement>('[data-environment-id]');
  const cell = target && view.status?.environments.find((c) => c.id === target.dataset.environmentId);
  if (!cell || !view.status) {
    tooltip.hidden = true;
    return;
  }
  tooltip.innerHTML = tooltipHtml(cell, view.status);
  tooltip.hidden = false;
  const box = target.getBoundingClientRect();
  tooltip.style.left = `${Math.min(window.innerWidth - 260, box.right + 8)}px`;
  tooltip.style.top = `${box.top + window.scrollY - 4}px`;
});
grid.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
  hoveredCustomer?.classList.remove('hovered');
  hoveredCustomer = null;
});
grid.addEventListener('click', (e) => {
  const target = (e.target as HTMLElement).closest<HTMLElement>('[data-environment-id]');
  if (!target || !view.status) return;
  view.selected = target.dataset.environmentId;
  render(view.status);
});
$('details').addEventListener('click', (e) => {
  if (!(e.target as HTMLElement).closest('[data-close-details]') || !view.status) return;
  view.selected = undefined;
  render(view.status);
});

subscribeToScans(
  () => {
    if (view.at === undefined) void load();
  },
  (trouble) => {
    // The event stream fails too when signed out; that message matters more.
    if (view.signedOut) return;
    if (trouble) notice('Live updates interrupted; reconnecting…');
    else if ($('notice').textContent?.startsWith('Live updates')) notice(undefined);
  },
);
/** A browser signed in with a token gets a way to sign out, and sees what its token may do. */
async function showSession(): Promise<void> {
  const session = await fetchSession().catch(() => undefined);
  const form = $('sign-out');
  form.hidden = session?.via !== 'session';
  if (session?.via === 'session') {
    $('session-role').textContent = session.role === 'writer' ? 'signed in · read and write' : 'signed in · read only';
  }
}

window.setInterval(tickDataAge, 1000);
void load();
void showSession();
charts = makeCharts();
