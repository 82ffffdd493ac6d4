// Inputs and outputs of placement and optimisation. Pure data: the reconcilers build these from the
// cached CRs and the telemetry store; the functions in this folder never perform I/O.
import type { LinkState, LocationConstraints } from '@mecqkd/crds';

export interface HostView {
  /** MecHost name (namespace implied: placement works within one namespace). */
  name: string;
  /** Ready condition True and telemetry fresh. */
  ready: boolean;
  labels: Record<string, string>;
  location?: LocationConstraints;
  kmeId: string;
  /** Projected platform load in [0,1]: last measurement plus the estimated load of contexts placed since. */
  load: number;
  /** AppContexts placed here now. */
  contexts: number;
  maxContexts?: number;
  memoryMb: number;
}

export interface LinkView {
  name: string;
  /** The two KME IDs; links are used in both directions. */
  ends: [string, string];
  state: LinkState;
  /** Stored keys / capacity, in [0,1]. */
  keyAvailability: number;
  /** Secret key rate, bits/s. */
  secretKeyRate: number;
  /** Key rate already committed to placed contexts routed over this link, bits/s. */
  committedKeyRate: number;
  /** Key stored for this link and ready to deliver, bits (QkdLink status); absent when not measured. */
  storedKeyBits?: number;
  /** Telemetry of this link is fresh enough to trust. */
  fresh: boolean;
}

export interface AppDemand {
  /** MecApp name. */
  app: string;
  hostSelector?: Record<string, string>;
  /** Locations the app may run in (MEC 016 appInfo.appLocation); any host when absent. */
  appLocation?: LocationConstraints[];
  maxLoad: number;
  minKeyAvailability: number;
  /** Key consumption of one context in bits/s: invocations/s ÷ invocationsPerKey × keySizeBits. */
  keyRate: number;
  /** Load one context adds to a host, in [0,1] of that host (estimated from invocations/s and action memory). */
  loadPerContext: number;
}

export interface PlacementRequest {
  context: string;
  clientKmeId: string;
  demand: AppDemand;
  /** Location the device app asked for (AppContext.spec.appLocation). */
  requestedLocation?: LocationConstraints;
}

export interface ScoreWeights {
  load: number;
  keyAvailability: number;
  pathLength: number;
  contexts: number;
  /** Spare key rate left on the path's tightest hop (see score.ts). */
  keyHeadroom: number;
}

export type ChoicePolicy = 'best' | 'weighted-random';

export interface Candidate {
  host: string;
  /** KME IDs from the client KME to the host KME (length = hops + 1). */
  path: string[];
  /** Bottleneck key availability over the path. */
  keyAvailability: number;
  /** Bottleneck spare key rate over the path, bits/s. */
  spareKeyRate: number;
  score: number;
}

export type PlacementDecision =
  | { kind: 'placed'; host: string; path: string[]; score: number }
  /** reason is CamelCase (a condition reason); message says which hosts failed which check. */
  | { kind: 'infeasible'; reason: string; message: string };

export interface PlacedContext {
  context: string;
  host: string;
  clientKmeId: string;
  demand: AppDemand;
  requestedLocation?: LocationConstraints;
  /** Epoch ms of the last placement or migration (for the cool-down). */
  placedAt: number;
  /**
   * KME IDs of the key path chosen at placement (PlacementDecision.path). When absent, the path is
   * re-derived: the shortest path meeting minKeyAvailability, else the shortest ACTIVE one.
   */
  path?: string[];
}

export interface OptimiseOptions {
  maxMigrationsPerRound: number;
  /** A context only moves when the target scores at least this much better (hysteresis). */
  minScoreGain: number;
  /** A context that moved within this many ms stays put (anti-oscillation). */
  cooldownMs: number;
  now: number;
  weights: ScoreWeights;
  /** Hysteresis: a target's load must end at least this far below the ceiling (default 0.1). */
  loadMargin?: number;
  /** Hysteresis: a target path's key availability must exceed the minimum by this much (default 0.1). */
  keyMargin?: number;
  /**
   * Hysteresis: an over-committed hop sheds contexts until its committed key rate is at most
   * (1 − keyRateMargin) × its secret key rate (default 0.1).
   */
  keyRateMargin?: number;
  /**
   * A draining hop (over-committed) is short of key when its stored key runs out within this many ms
   * at the current drain, and sheds contexts only until it lasts this long (default 60 s: one
   * optimisation period plus the telemetry age, so the next round acts before the buffer runs dry).
   * Needs LinkView.storedKeyBits; without it, or with 0, a draining hop is short when its availability
   * is below the context's minKeyAvailability and sheds down to the keyRateMargin.
   */
  drainHorizonMs?: number;
  /** Most QKD hops of a key path (default 3). */
  maxHops?: number;
}

export interface Migration {
  context: string;
  from: string;
  to: string;
  path: string[];
  /** CamelCase: HostOverloaded, KeysLow, HostNotReady. */
  reason: string;
}
