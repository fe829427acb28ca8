import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { PROBLEM_SEVERITIES, type FleetStatus } from '../shared/fleet-status.js';
import { SEVERITY_COLOURS, severityLabel } from './format.js';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  Filler,
  Legend,
  Tooltip,
);
Chart.defaults.color = '#b0b4ba';
Chart.defaults.borderColor = '#2e3238';
Chart.defaults.animation = false;

/** The two charts beside the grid, created once and fed every status. */
export class FleetCharts {
  private readonly problems: Chart<'line'>;
  private readonly versions: Chart<'bar'>;

  constructor(problemsCanvas: HTMLCanvasElement, versionsCanvas: HTMLCanvasElement) {
    // The page's own fonts: looking up Chart.js's default family as well costs a cold start dearly.
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.font.size = 11;
    this.problems = new Chart(problemsCanvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          x: { ticks: { maxTicksLimit: 6 } },
        },
        // The grid's legend already says which colour is which severity; the chart keeps the room.
        plugins: { legend: { display: false } },
        elements: { point: { radius: 0 } },
      },
    });
    this.versions = new Chart(versionsCanvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ data: [], backgroundColor: '#3e63dd' }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  update(status: FleetStatus): void {
    const points = status.charts.problemsOverTime;
    this.problems.data.labels = points.map((p) => p.at.slice(11, 16));
    this.problems.data.datasets = PROBLEM_SEVERITIES.filter((s) => points.some((p) => p.bySeverity[s])).map(
      (severity, i) => ({
        label: severityLabel(severity),
        data: points.map((p) => p.bySeverity[severity] ?? 0),
        borderColor: SEVERITY_COLOURS[severity],
        backgroundColor: `${SEVERITY_COLOURS[severity]}66`,
        // Each band fills down to the one below it: a stacked area, not overlapping ones.
        fill: i === 0 ? 'origin' : '-1',
        borderWidth: 1,
        tension: 0.2,
      }),
    );
    this.problems.update();
    const versions = status.charts.agentVersions.slice(0, 8);
    this.versions.data.labels = versions.map((v) => v.version);
    this.versions.data.datasets[0]!.data = versions.map((v) => v.hosts);
    this.versions.update();
  }
}
