// Whether a host's location satisfies a wanted location (ETSI GS MEC 016 LocationConstraints). Rule: every
// element the wanted location gives must be matched by the host; an element the host cannot be compared on
// (a host described only by area against a wanted civic address or country, or the reverse) does not match,
// because placement must not guess where a host is.
import type { LocationConstraints } from './common.ts';

type Position = number[];

/** The host satisfies one wanted location. */
export function locationMatches(host: LocationConstraints | undefined, wanted: LocationConstraints): boolean {
  if (!host) return false;
  if (wanted.countryCode !== undefined && host.countryCode !== wanted.countryCode) return false;
  if (wanted.civicAddressElement?.length) {
    const have = host.civicAddressElement ?? [];
    const all = wanted.civicAddressElement.every((w) =>
      have.some((h) => h.caType === w.caType && h.caValue === w.caValue),
    );
    if (!all) return false;
  }
  if (wanted.area) {
    const ring = host.area?.coordinates[0];
    if (!ring) return false;
    // The host's exterior ring vertices (the last one closes the ring) must all lie in the wanted area.
    if (!ring.slice(0, -1).every((p) => inPolygon(p, wanted.area!.coordinates))) return false;
  }
  return true;
}

/**
 * The host may serve this app and this request: in one of the app's locations (any host when the app
 * lists none) and in the location the device app asked for (if any).
 */
export function hostInLocation(
  host: LocationConstraints | undefined,
  appLocation: LocationConstraints[] | undefined,
  requested: LocationConstraints | undefined,
): boolean {
  if (appLocation?.length && !appLocation.some((w) => locationMatches(host, w))) return false;
  return requested === undefined || locationMatches(host, requested);
}

/** Point in a GeoJSON polygon (exterior ring minus holes); points on an edge count as inside. */
export function inPolygon(point: Position, rings: Position[][]): boolean {
  const [exterior, ...holes] = rings;
  if (!exterior || !inRing(point, exterior)) return false;
  return !holes.some((hole) => inRing(point, hole) && !onRing(point, hole));
}

function inRing(point: Position, ring: Position[]): boolean {
  if (onRing(point, ring)) return true;
  const [x, y] = point as [number, number];
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function onRing(point: Position, ring: Position[]): boolean {
  const [x, y] = point as [number, number];
  for (let i = 1; i < ring.length; i++) {
    const [x1, y1] = ring[i - 1] as [number, number];
    const [x2, y2] = ring[i] as [number, number];
    const cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1);
    const within =
      Math.min(x1, x2) <= x && x <= Math.max(x1, x2) && Math.min(y1, y2) <= y && y <= Math.max(y1, y2);
    if (Math.abs(cross) < 1e-12 && within) return true;
  }
  return false;
}
