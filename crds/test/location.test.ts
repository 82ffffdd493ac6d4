import type { LocationConstraints } from '@mecqkd/crds';
import { expect } from 'chai';
import { hostInLocation, inPolygon, locationMatches } from '../src/location.ts';

const square = (x0: number, y0: number, size: number) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [x0, y0],
      [x0 + size, y0],
      [x0 + size, y0 + size],
      [x0, y0 + size],
      [x0, y0],
    ],
  ],
});

const pisa: LocationConstraints = {
  countryCode: 'IT',
  civicAddressElement: [
    { caType: 1, caValue: 'Toscana' },
    { caType: 3, caValue: 'Pisa' },
  ],
};

describe('placement: location', () => {
  it('matches country codes exactly', () => {
    expect(locationMatches(pisa, { countryCode: 'IT' })).to.be.true;
    expect(locationMatches(pisa, { countryCode: 'FR' })).to.be.false;
  });

  it('needs every wanted civic address element on the host', () => {
    expect(
      locationMatches(pisa, { countryCode: 'IT', civicAddressElement: [{ caType: 3, caValue: 'Pisa' }] }),
    ).to.be.true;
    expect(
      locationMatches(pisa, {
        countryCode: 'IT',
        civicAddressElement: [
          { caType: 3, caValue: 'Pisa' },
          { caType: 6, caValue: 'Via Moruzzi' },
        ],
      }),
    ).to.be.false;
  });

  it('needs the host area inside the wanted area', () => {
    const host: LocationConstraints = { area: square(10.3, 43.6, 0.1) };
    expect(locationMatches(host, { area: square(10, 43, 1) })).to.be.true;
    expect(locationMatches(host, { area: square(10.35, 43, 1) })).to.be.false;
    // A host square touching the edge of the wanted area counts as inside.
    expect(locationMatches({ area: square(10, 43, 0.5) }, { area: square(10, 43, 1) })).to.be.true;
  });

  it('respects holes in the wanted area', () => {
    const withHole = {
      type: 'Polygon' as const,
      coordinates: [square(0, 0, 10).coordinates[0]!, square(4, 4, 2).coordinates[0]!],
    };
    expect(inPolygon([1, 1], withHole.coordinates)).to.be.true;
    expect(inPolygon([5, 5], withHole.coordinates)).to.be.false;
  });

  it('does not match what it cannot compare', () => {
    expect(locationMatches({ area: square(0, 0, 1) }, { countryCode: 'IT' })).to.be.false;
    expect(locationMatches(pisa, { area: square(0, 0, 100) })).to.be.false;
    expect(locationMatches(undefined, { countryCode: 'IT' })).to.be.false;
  });

  it('combines the app locations (any) with the requested location', () => {
    expect(hostInLocation(undefined, undefined, undefined)).to.be.true;
    expect(hostInLocation(pisa, [{ countryCode: 'FR' }, { countryCode: 'IT' }], undefined)).to.be.true;
    expect(hostInLocation(pisa, [{ countryCode: 'FR' }], undefined)).to.be.false;
    expect(hostInLocation(pisa, [], { countryCode: 'IT' })).to.be.true;
    expect(hostInLocation(pisa, [{ countryCode: 'IT' }], { countryCode: 'DE' })).to.be.false;
  });
});
