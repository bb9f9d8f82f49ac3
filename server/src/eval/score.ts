import type { RejectCode } from '@app/shared';

/** What scoring looks at in an event: its type and the behaviours it cites. */
export interface ScoredEvent {
  eventType: string;
  sourceBehaviorIds: readonly string[];
}

/** Precision, recall and F1, each 0–1. */
export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

/** How one user's events compare with the reference extraction. */
export interface Score extends Prf {
  reference: number;
  predicted: number;
  /** One-to-one matches: same type, overlapping sources. */
  matched: number;
  /** The same measures over (event type, cited behaviour) pairs: how well each event is grounded. */
  sources: Prf;
  /** Predicted events whose every source is one of the user's behaviours. */
  grounded: { valid: number; total: number; share: number };
  /** Lines the model wrote that did not become events, by reject code. */
  rejected: { total: number; share: number; byCode: Partial<Record<RejectCode, number>> };
  /** Share of the user's behaviours cited by a grounded predicted event. */
  cited: number;
}

/** What {@link scoreEvents} compares. */
export interface ScoreInput {
  reference: readonly ScoredEvent[];
  predicted: readonly ScoredEvent[];
  /** Every behaviour id of the user. */
  behaviourIds: ReadonlySet<string>;
  /** Codes of the rejected lines of the run (one per line). */
  rejectedCodes?: readonly RejectCode[];
}

const ratio = (n: number, d: number, empty: number): number => (d === 0 ? empty : n / d);

function prf(hits: number, predicted: number, reference: number): Prf {
  // Nothing expected and nothing said is perfect; saying nothing when something was expected is not.
  const precision = ratio(hits, predicted, reference === 0 ? 1 : 0);
  const recall = ratio(hits, reference, 1);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Pairs predicted with reference events one-to-one: a pair needs the same type and at least one
 * shared source; the largest overlaps are taken first (ties: earlier events first). Events citing an
 * id outside `behaviourIds` never match. Returns [reference index, predicted index, overlap].
 */
export function matchEvents(
  reference: readonly ScoredEvent[],
  predicted: readonly ScoredEvent[],
  behaviourIds: ReadonlySet<string>,
): [number, number, number][] {
  const refsOf = new Map<string, number[]>();
  reference.forEach((e, i) => {
    for (const id of new Set(e.sourceBehaviorIds)) {
      if (!refsOf.has(id)) refsOf.set(id, []);
      refsOf.get(id)!.push(i);
    }
  });
  const candidates: [number, number, number][] = [];
  predicted.forEach((e, j) => {
    if (!isGrounded(e, behaviourIds)) return;
    const overlap = new Map<number, number>();
    for (const id of new Set(e.sourceBehaviorIds)) {
      for (const i of refsOf.get(id) ?? []) {
        if (reference[i]!.eventType.trim() === e.eventType.trim()) overlap.set(i, (overlap.get(i) ?? 0) + 1);
      }
    }
    for (const [i, n] of overlap) candidates.push([i, j, n]);
  });
  candidates.sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
  const usedRef = new Set<number>();
  const usedPred = new Set<number>();
  const pairs: [number, number, number][] = [];
  for (const c of candidates) {
    if (usedRef.has(c[0]) || usedPred.has(c[1])) continue;
    usedRef.add(c[0]);
    usedPred.add(c[1]);
    pairs.push(c);
  }
  return pairs;
}

function isGrounded(e: ScoredEvent, behaviourIds: ReadonlySet<string>): boolean {
  return e.sourceBehaviorIds.length > 0 && e.sourceBehaviorIds.every((id) => behaviourIds.has(id));
}

/** (type, source) pairs of a set of events. */
function sourcePairs(events: readonly ScoredEvent[]): Set<string> {
  return new Set(events.flatMap((e) => e.sourceBehaviorIds.map((id) => `${e.eventType.trim()}\u0000${id}`)));
}

/** Scores one user's predicted events against the reference events of the same history. */
export function scoreEvents(input: ScoreInput): Score {
  const { reference, predicted, behaviourIds } = input;
  const matched = matchEvents(reference, predicted, behaviourIds).length;
  const refPairs = sourcePairs(reference);
  const predPairs = sourcePairs(predicted);
  const sharedPairs = [...predPairs].filter((p) => refPairs.has(p)).length;
  const grounded = predicted.filter((e) => isGrounded(e, behaviourIds));
  const cited = new Set(grounded.flatMap((e) => e.sourceBehaviorIds));
  const codes = input.rejectedCodes ?? [];
  const byCode: Partial<Record<RejectCode, number>> = {};
  for (const code of codes) byCode[code] = (byCode[code] ?? 0) + 1;
  return {
    ...prf(matched, predicted.length, reference.length),
    reference: reference.length,
    predicted: predicted.length,
    matched,
    sources: prf(sharedPairs, predPairs.size, refPairs.size),
    grounded: {
      valid: grounded.length,
      total: predicted.length,
      share: ratio(grounded.length, predicted.length, 1),
    },
    rejected: {
      total: codes.length,
      share: ratio(codes.length, codes.length + predicted.length, 0),
      byCode,
    },
    cited: ratio(cited.size, behaviourIds.size, 1),
  };
}
