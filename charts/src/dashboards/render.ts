// A dashboard drawn from real query results, headless (vega-lite → SVG, no Grafana): the README's
// pictures. Panels two per row as in Grafana, one line per series named by the legend template.
import { toSvg } from '@mecqkd/placement-lab/plots';
import type { DashboardSpec, PanelSpec } from './model.ts';

/** One Prometheus range-query series: its labels and [unix seconds, value] samples. */
export interface Series {
  metric: Record<string, string>;
  values: [number, string][];
}

/** Grafana's legend template: {{label}} becomes the series' value of that label. */
export const legendOf = (template: string, metric: Record<string, string>) =>
  template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => metric[l] ?? '').trim() || 'value';

/** `results[q]` are the series of the panel's query q; times relative to t0 (unix seconds). */
function panelSpec(panel: PanelSpec, results: Series[][], t0: number) {
  const values = results.flatMap((series, i) =>
    series.flatMap((s) =>
      s.values
        .map(([t, v]) => ({ t: t - t0, v: Number(v), series: legendOf(panel.queries[i]!.legend, s.metric) }))
        .filter((d) => Number.isFinite(d.v)),
    ),
  );
  return {
    title: { text: panel.title, anchor: 'start' as const, fontSize: 12 },
    width: 330,
    height: 130,
    data: { values },
    mark: { type: 'line' as const, strokeWidth: 1.5, interpolate: 'step-after' as const },
    encoding: {
      x: { field: 't', type: 'quantitative' as const, title: 'seconds into the run' },
      y: { field: 'v', type: 'quantitative' as const, title: panel.unit },
      color: {
        field: 'series',
        type: 'nominal' as const,
        title: null,
        legend: { orient: 'bottom' as const, columns: 2, labelLimit: 160 },
      },
    },
    resolve: { scale: { color: 'independent' as const } },
  };
}

/** `results[p][q]`: series of query q of panel p. */
export function dashboardSvg(d: DashboardSpec, results: Series[][][], t0: number): Promise<string> {
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: d.title, anchor: 'start', fontSize: 15 },
    columns: 2,
    concat: d.panels.map((p, i) => panelSpec(p, results[i]!, t0)),
    resolve: { scale: { color: 'independent' } },
    config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' } },
  });
}
