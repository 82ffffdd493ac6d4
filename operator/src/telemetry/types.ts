// Telemetry as the operator consumes it: normalised values with the time they were measured.

export interface HostSample {
  /** "namespace/name" of the MecHost. */
  host: string;
  /** Platform load in [0,1]. */
  load: number;
  /** Epoch ms of the measurement. */
  time: number;
  source: 'prometheus' | 'scrape';
}

export interface LinkSample {
  /** "namespace/name" of the QkdLink. */
  link: string;
  state: 'ACTIVE' | 'PASSIVE' | 'PENDING' | 'OFF';
  secretKeyRate: number;
  storedKeys: number;
  capacityKeys: number;
  keyAvailability: number;
  time: number;
  source: 'kme' | 'prometheus' | 'scrape';
}
