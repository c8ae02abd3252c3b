import type { Producer, KafkaDriver } from '../../runtime/kafka/driver.js';
import type { Logger } from '../../runtime/logger.js';
import { VotestreamError } from '../../statestores/votestream-error.js';
import { decodeElection, nextVersion, parseElection, type Election } from '../election.js';
import { effectiveInstant, publishElectionVersions } from '../election-publisher.js';
import type { VotingErrorCode } from '../error-codes.js';
import { topicNames } from '../topics.js';
import type { ElectionStore } from './election-store.js';

/** A request the admin cannot carry out as asked; the message names the field. */
export class ElectionInvalidError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('ELECTION_INVALID', message);
  }
}

export class ElectionNotFoundError extends VotestreamError<VotingErrorCode> {
  constructor(electionId: string) {
    super('ELECTION_NOT_FOUND', `no election "${electionId}"`);
  }
}

/** What `create` takes: an election without the fields the admin sets. A draft when no window is given. */
export interface ElectionDraft {
  readonly electionId: string;
  readonly title: string;
  readonly candidates: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  readonly regions?: readonly string[];
  readonly opensAt?: number;
  readonly closesAt?: number;
}

export type ElectionChanges = Partial<Pick<Election, 'title' | 'candidates' | 'regions' | 'opensAt' | 'closesAt'>>;

/**
 * A window that includes no instant a vote can have: a draft's, until `open` sets a real one (the
 * schema wants opensAt < closesAt, and a draft must reject every vote as `closed`).
 */
export const DRAFT_OPENS_AT = Number.MAX_SAFE_INTEGER - 1;
export const DRAFT_CLOSES_AT = Number.MAX_SAFE_INTEGER;

export interface ElectionAdminOptions {
  readonly store: ElectionStore;
  readonly producer: Producer;
  readonly logger: Logger;
  readonly prefix?: string;
  readonly nowMs?: () => number;
}

/**
 * Election changes, each a new version (DESIGN section 3): written to DynamoDB first (the source of
 * truth, conditional on the previous version), then published to `elections`. A crash between the
 * two leaves a version that `reconcile` publishes on the next start, so table and topic converge.
 */
export class ElectionAdmin {
  readonly #o: ElectionAdminOptions;

  constructor(options: ElectionAdminOptions) {
    this.#o = options;
  }

  #now(): number {
    return (this.#o.nowMs ?? Date.now)();
  }

  async list(): Promise<Election[]> {
    return [...(await this.#o.store.all()).values()].map((versions) => versions.at(-1)!);
  }

  async show(electionId: string): Promise<{ readonly current: Election; readonly versions: Election[] }> {
    const versions = await this.#o.store.history(electionId);
    if (versions.length === 0) throw new ElectionNotFoundError(electionId);
    return { current: versions.at(-1)!, versions };
  }

  async create(draft: ElectionDraft): Promise<Election> {
    const effectiveAt = effectiveInstant(this.#now());
    const first = valid({
      electionId: draft.electionId,
      version: 1,
      effectiveAt,
      title: draft.title,
      candidates: draft.candidates.map((c) => ({ id: c.id, name: c.name })),
      regions: [...(draft.regions ?? [])],
      opensAt: draft.opensAt ?? DRAFT_OPENS_AT,
      closesAt: draft.closesAt ?? DRAFT_CLOSES_AT,
    });
    return this.#write(first);
  }

  async edit(electionId: string, changes: ElectionChanges): Promise<Election> {
    const { current } = await this.show(electionId);
    return this.#write(valid(nextVersion(current, changes, effectiveInstant(this.#now(), current))));
  }

  /** Opens voting from the new version's effectiveAt, until `closesAt` (default: the window's end already set). */
  async open(electionId: string, closesAt?: number): Promise<Election> {
    const { current } = await this.show(electionId);
    const at = effectiveInstant(this.#now(), current);
    const end = closesAt ?? (current.closesAt === DRAFT_CLOSES_AT ? undefined : current.closesAt);
    if (end === undefined) throw new ElectionInvalidError('closesAt: a draft has no end yet; give one to open it');
    if (end <= at) throw new ElectionInvalidError(`closesAt: must be after the opening instant ${new Date(at).toISOString()}`);
    return this.#write(valid(nextVersion(current, { opensAt: at, closesAt: end }, at)));
  }

  /** Closes voting at the new version's effectiveAt; never retroactively (DESIGN section 3). */
  async close(electionId: string): Promise<Election> {
    const { current } = await this.show(electionId);
    const at = effectiveInstant(this.#now(), current);
    if (current.opensAt >= at) throw new ElectionInvalidError(`election "${electionId}" has not opened: nothing to close`);
    if (current.closesAt < at) throw new ElectionInvalidError(`election "${electionId}" closed already at ${new Date(current.closesAt).toISOString()}`);
    return this.#write(valid(nextVersion(current, { closesAt: at }, at)));
  }

  /**
   * Publishes every version the table has and `elections` lacks (a crash between the two writes),
   * in version order. Returns how many it published.
   */
  async reconcile(driver: KafkaDriver): Promise<number> {
    const onTopic = await publishedVersions(driver, this.#o.prefix);
    const missing = [...(await this.#o.store.all()).values()].flatMap((versions) => versions.filter((v) => !onTopic.has(`${v.electionId}\u0000${v.version}`)));
    if (missing.length === 0) return 0;
    await publishElectionVersions(this.#o.producer, missing, { prefix: this.#o.prefix, logger: this.#o.logger, nowMs: () => this.#now() });
    this.#o.logger.info({ versions: missing.map((v) => `${v.electionId}@${v.version}`) }, 'published election versions the topic lacked');
    return missing.length;
  }

  async #write(version: Election): Promise<Election> {
    await this.#o.store.append(version);
    await publishElectionVersions(this.#o.producer, [version], { prefix: this.#o.prefix, logger: this.#o.logger, nowMs: () => this.#now() });
    this.#o.logger.info({ electionId: version.electionId, version: version.version, effectiveAt: version.effectiveAt }, 'election version written and published');
    return version;
  }
}

function valid(candidate: Election): Election {
  const parsed = parseElection(candidate);
  if (!parsed.ok) throw new ElectionInvalidError(parsed.error);
  return parsed.election;
}

async function publishedVersions(driver: KafkaDriver, prefix: string | undefined): Promise<Set<string>> {
  const topic = topicNames(prefix).elections;
  const reader = await driver.createReader({ partitions: [{ topic, partition: 0, from: 'earliest' }], isolation: 'read_committed', clientId: 'votestream-admin' });
  const seen = new Set<string>();
  try {
    await reader.readToEnd((batch) => {
      for (const r of batch) {
        const parsed = decodeElection(r.value);
        if (parsed.ok) seen.add(`${parsed.election.electionId}\u0000${parsed.election.version}`);
      }
    });
  } finally {
    await reader.close();
  }
  return seen;
}
