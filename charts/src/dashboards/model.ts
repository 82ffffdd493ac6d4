// A typed subset of Grafana's dashboard JSON (schemaVersion 39): time-series and stat panels over
// one Prometheus data source variable, laid out two per row. Dashboards are written with these
// builders and generated into charts/mecqkd/dashboards/*.json (never edited by hand).
export type Unit = 'short' | 'percentunit' | 's' | 'reqps' | 'ops' | 'bps' | 'bytes' | 'none';

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. "{{host}}". */
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  kind?: 'timeseries' | 'stat';
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Template variables over label values: name → [metric, label]. */
  variables?: Record<string, [string, string]>;
  panels: PanelSpec[];
}

// Grafana's syntax for the data source variable, not a JS template
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable reference
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const WIDTH = 12;
const HEIGHT = 8;

export const q = (expr: string, legend: string): Query => ({ expr, legend });

/** The Grafana JSON of a dashboard; ids and positions follow the panels' order. */
export function toGrafana(d: DashboardSpec): Record<string, unknown> {
  const variables = Object.entries(d.variables ?? {}).map(([name, [metric, label]]) => ({
    name,
    type: 'query',
    datasource: DATASOURCE,
    query: { query: `label_values(${metric}, ${label})`, refId: name },
    definition: `label_values(${metric}, ${label})`,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    refresh: 2,
  }));
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['mecqkd'],
    editable: false,
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        ...variables,
      ],
    },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: p.kind ?? 'timeseries',
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos: { x: (i % 2) * WIDTH, y: Math.floor(i / 2) * HEIGHT, w: WIDTH, h: HEIGHT },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' } },
      targets: p.queries.map((t, j) => ({
        datasource: DATASOURCE,
        expr: t.expr,
        legendFormat: t.legend,
        refId: String.fromCharCode(65 + j),
      })),
    })),
  };
}

/**
 * A panel query as Prometheus itself runs it: Grafana's `$__rate_interval` becomes `window`, and
 * every template variable its "All" value (a multi-value variable is always matched with =~).
 */
export function concreteQuery(expr: string, window = '1m'): string {
  return expr.replace(/\$__rate_interval/g, window).replace(/\$\w+/g, '.*');
}
