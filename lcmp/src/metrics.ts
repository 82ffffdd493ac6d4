// LCMP metrics, in the runtime's registry so one /metrics shows them next to the apiserver client's.
// Labels are bounded: the operation (a fixed set), the status code, the notification type.
import { registry } from '@mecqkd/kube/metrics';
import { Counter, Histogram } from 'prom-client';

const registers = [registry];

export const OPERATIONS = [
  'app_list',
  'create_context',
  'update_context',
  'delete_context',
  'location_availability',
  'token',
  'openapi',
  'unmatched',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export const lcmpMetrics = {
  requests: new Counter({
    name: 'mecqkd_lcmp_requests_total',
    help: 'Mx2 (and token endpoint) requests by operation and status code',
    labelNames: ['operation', 'status'],
    registers,
  }),
  latency: new Histogram({
    name: 'mecqkd_lcmp_request_duration_seconds',
    help: 'Time to answer a request, by operation and status code',
    labelNames: ['operation', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  delivered: new Counter({
    name: 'mecqkd_lcmp_notifications_delivered_total',
    help: 'Notifications the device app acknowledged with a 2xx',
    labelNames: ['type'],
    registers,
  }),
  retried: new Counter({
    name: 'mecqkd_lcmp_notifications_retried_total',
    help: 'Failed notification attempts that will be retried',
    labelNames: ['type'],
    registers,
  }),
  abandoned: new Counter({
    name: 'mecqkd_lcmp_notifications_abandoned_total',
    help: 'Notifications given up on after the give-up time',
    labelNames: ['type'],
    registers,
  }),
  connectionsRefused: new Counter({
    name: 'mecqkd_lcmp_connections_refused_total',
    help: 'Mx2 connections closed at once: too many open from their remote address',
    registers,
  }),
};
