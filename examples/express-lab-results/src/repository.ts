import { randomUUID } from 'node:crypto';
import type { RecordCipher } from '@phiguard/core/crypto';
import { PATIENTS } from './data.js';
import { ageOn, labResultsView, type LabResultsView } from './view.js';

/**
 * The example's storage: lab-results views with the SSN, the pathologists' conclusions and the
 * technologists' notes encrypted at rest, as a database table would hold them. Each value is
 * bound to its view id and field path; the response pipeline decrypts only what a caller's rule
 * reads.
 */
export interface ResultsRepository {
  /** The stored (encrypted) view of patient `id`, with the age brought up to date. */
  find(id: string): Promise<LabResultsView | undefined>;
}

export function createRepository(records: RecordCipher, now: () => Date = () => new Date()): ResultsRepository {
  let rows: Promise<Map<string, LabResultsView>> | null = null;
  // Filled on first use: encryption needs the keyring, which may be remote.
  const load = async () => {
    const map = new Map<string, LabResultsView>();
    for (const [id, record] of PATIENTS) {
      const view = labResultsView(record, now());
      map.set(id, await records.encryptRecord('PatientResults', view));
    }
    return map;
  };
  return {
    async find(id) {
      rows ??= load().catch((err: unknown) => {
        rows = null; // a key service outage at start-up is retried on the next request
        throw err;
      });
      const stored = (await rows).get(id);
      return stored && { ...stored, patient: { ...stored.patient, age: ageOn(stored.patient.birthDate, now()) } };
    },
  };
}

/** A stored note or portal message. */
export interface Posted {
  readonly id: string;
  readonly patientId: string;
  readonly text: string;
  readonly author?: string;
  readonly createdAt: string;
}

/** Notes and portal messages, in memory, newest last. */
export interface PostStore {
  add(kind: 'notes' | 'messages', post: Omit<Posted, 'id' | 'createdAt'>): Posted;
  list(kind: 'notes' | 'messages'): readonly Posted[];
  /** Deletes a patient's post; undefined when that patient has no post with this id. */
  remove(kind: 'notes' | 'messages', patientId: string, id: string): Posted | undefined;
}

/** What a deletion answers: which note went, from whose chart, by whom and when (not its text). */
export interface Deleted {
  readonly id: string;
  readonly patientId: string;
  readonly deletedBy: string;
  readonly deletedAt: string;
}

export function createPostStore(): PostStore {
  const rows = { notes: [] as Posted[], messages: [] as Posted[] };
  return {
    add(kind, post) {
      const row = { id: randomUUID(), ...post, createdAt: new Date().toISOString() };
      rows[kind].push(row);
      return row;
    },
    list: (kind) => rows[kind],
    remove(kind, patientId, id) {
      const i = rows[kind].findIndex((r) => r.id === id && r.patientId === patientId);
      return i === -1 ? undefined : rows[kind].splice(i, 1)[0];
    },
  };
}
