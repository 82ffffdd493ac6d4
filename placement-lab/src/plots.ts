// Vega-Lite specs rendered to SVG headless (vega's View.toSVG, no browser).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

type Datum = Record<string, string | number>;

const FONT = { config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' } } } as const;

/** Mean with a 95% CI bar per x, one colour per series, optionally in facet columns. */
export function linesWithCi(o: {
  data: Datum[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  series: string;
  order?: string[];
  column?: string;
  title: string;
  logY?: boolean;
}): TopLevelSpec {
  const color = { field: o.series, type: 'nominal', title: null, ...(o.order ? { sort: o.order } : {}) };
  const layer = {
    layer: [
      {
        mark: { type: 'line', point: true, strokeWidth: 1.5 },
        encoding: {
          x: { field: o.x, type: 'quantitative', title: o.xTitle, scale: { zero: false } },
          y: {
            field: o.y,
            type: 'quantitative',
            title: o.yTitle,
            ...(o.logY ? { scale: { type: 'symlog', constant: 0.01 } } : {}),
          },
          color,
        },
      },
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: {
          x: { field: o.x, type: 'quantitative' },
          y: { field: `${o.y}Lo`, type: 'quantitative', title: o.yTitle },
          y2: { field: `${o.y}Hi` },
          color,
        },
      },
    ],
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    data: { values: o.data },
    ...(o.column
      ? {
          facet: { column: { field: o.column, type: 'nominal', title: null } },
          spec: { width: 300, height: 240, ...layer },
        }
      : { width: 480, height: 300, ...layer }),
    ...FONT,
  } as TopLevelSpec;
}

/** Horizontal dots with 95% CI bars per category, in facet columns/rows. */
export function dotsWithCi(o: {
  data: Datum[];
  x: string;
  xTitle: string;
  y: string;
  order: string[];
  column?: string;
  row?: string;
  title: string;
  highlight?: string;
}): TopLevelSpec {
  const y = { field: o.y, type: 'nominal', sort: o.order, title: null };
  const color = {
    condition: { test: `datum['${o.y}'] === '${o.highlight ?? ''}'`, value: '#d62728' },
    value: '#4c78a8',
  };
  const layer = {
    layer: [
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: {
          y,
          x: { field: `${o.x}Lo`, type: 'quantitative', title: o.xTitle },
          x2: { field: `${o.x}Hi` },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { y, x: { field: o.x, type: 'quantitative' }, color },
      },
    ],
  };
  const facet: Record<string, unknown> = {};
  if (o.column) facet.column = { field: o.column, type: 'nominal', title: null };
  if (o.row) facet.row = { field: o.row, type: 'nominal', title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    data: { values: o.data },
    ...(o.column || o.row
      ? { facet, spec: { width: 220, height: 200, ...layer } }
      : { width: 420, height: 240, ...layer }),
    ...FONT,
  } as TopLevelSpec;
}

/** One point per series: x against y, labelled. */
export function scatter(o: {
  data: Datum[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  label: string;
  title: string;
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    data: { values: o.data },
    width: 480,
    height: 300,
    layer: [
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: o.x, type: 'quantitative', title: o.xTitle },
          y: { field: o.y, type: 'quantitative', title: o.yTitle },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 },
        encoding: {
          x: { field: o.x, type: 'quantitative' },
          y: { field: o.y, type: 'quantitative' },
          text: { field: o.label },
        },
      },
    ],
    ...FONT,
  } as TopLevelSpec;
}
