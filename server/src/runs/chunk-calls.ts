import { formatEventLine, type Behaviour, type User } from '@app/shared';
import { buildPrompt } from '../llm/prompt.js';
import type { ChatMessages } from './call-model.js';
import type { Call } from './execute-run.js';
import type { Run } from './run.js';

/** A prompt of these behaviours, none cut: a chunk was planned to fit, and a resume keeps its run's. */
export function promptOf(
  user: User,
  behaviours: Behaviour[],
  alreadyProduced: string[] = [],
  review = false,
): ChatMessages {
  return buildPrompt({ user, behaviours, budgetChars: Number.MAX_SAFE_INTEGER, alreadyProduced, review })
    .messages;
}

/**
 * The calls of a chunked run from chunk `from` (1-based) on. With two passes, chunk N + i reviews chunk i
 * against the events so far (its prompt is built when it starts, after chunk i is done); the chunk
 * `from` continues from `alreadyProduced` when it is a first-pass chunk.
 */
export function chunkCalls(
  run: Run,
  user: User,
  behaviourOf: (id: string) => Behaviour | undefined,
  from: number,
  alreadyProduced: string[],
): Call[] {
  const sizes = run.chunkSizes!;
  const n = sizes.length;
  const chunks: Behaviour[][] = [];
  let at = 0;
  for (const size of sizes) {
    chunks.push(run.behaviourIds.slice(at, (at += size)).flatMap((id) => behaviourOf(id) ?? []));
  }
  const calls: Call[] = [];
  for (let index = from; index <= n * run.passes; index++) {
    const i = (index - 1) % n;
    if (index <= n) {
      calls.push({
        chunk: index,
        messages: promptOf(user, chunks[i]!, index === from ? alreadyProduced : []),
      });
      continue;
    }
    const ids = new Set(chunks[i]!.map((b) => b.id));
    const firstPass = calls.findIndex((c) => c.chunk === i + 1);
    calls.push({
      chunk: index,
      after: firstPass >= 0 ? firstPass : undefined,
      messages: () => {
        const lines = run
          .liveEvents()
          .filter((e) => e.sourceBehaviorIds.some((id) => ids.has(id)))
          .map((e) => formatEventLine(e));
        return promptOf(user, chunks[i]!, lines, true);
      },
    });
  }
  return calls;
}
