import { readFileSync } from 'node:fs';

export interface OpenFilesLimit {
  readonly soft: number;
  readonly hard: number;
}

/** This process's open-files limit (children inherit it), from /proc/self/limits; undefined off Linux. */
export function openFilesLimit(): OpenFilesLimit | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m === null) return undefined;
    const n = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return undefined;
  }
}

/** Descriptors a server keeps for itself (listening sockets, Redis, Kafka, DynamoDB, files, stdio). */
export const RESERVED_DESCRIPTORS = 256;

/**
 * The most connections a server can hold without running out of descriptors: above it, accept()
 * fails with EMFILE and every client (and the server's own Redis reconnect) fails with no reason
 * given, instead of the clear "too many connections" close the server's own limit gives.
 */
export function connectionCapFor(requested: number, limit: OpenFilesLimit | undefined): number {
  if (limit === undefined || !Number.isFinite(limit.soft)) return requested;
  return Math.max(1, Math.min(requested, limit.soft - RESERVED_DESCRIPTORS));
}
