// Every dashboard the chart ships, in the order the README shows them.
import { faas } from './faas.ts';
import type { DashboardSpec } from './model.ts';
import { mx2 } from './mx2.ts';
import { overview } from './overview.ts';
import { qkd } from './qkd.ts';

export const DASHBOARDS: DashboardSpec[] = [overview, qkd, mx2, faas];
