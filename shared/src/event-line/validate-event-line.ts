import type { ExtractedEvent, RejectCode, RejectedLine } from '../domain.js';
import { EVENT_LINE_FIELDS } from './event-line-fields.js';
import { isValidMinuteTime } from './is-valid-minute-time.js';
import { splitBehaviourIds } from './split-behaviour-ids.js';

/** What a line is checked against: the run it belongs to and the behaviours its user really has. */
export interface ValidationContext {
  runId: string;
  userId: string;
  behaviourIds: ReadonlySet<string>;
}

/** The outcome for one line of model output. */
export type ParsedLine =
  | { kind: 'event'; event: ExtractedEvent }
  | { kind: 'rejected'; line: RejectedLine }
  | { kind: 'blank'; lineNo: number };

/** Builds a rejection result. */
export function rejectLine(lineNo: number, text: string, code: RejectCode, reason: string): ParsedLine {
  return { kind: 'rejected', line: { lineNo, text, code, reason } };
}

/**
 * Validates one line (without its terminator) on its own; duplicate detection needs the parser.
 * Blank lines give `blank`; everything else gives an event or a rejection with a code and a reason.
 */
export function validateEventLine(text: string, lineNo: number, ctx: ValidationContext): ParsedLine {
  const line = text.trim();
  if (line === '') return { kind: 'blank', lineNo };
  const reject = (code: RejectCode, reason: string): ParsedLine => rejectLine(lineNo, line, code, reason);

  if (!line.includes('|')) return reject('prose', '不是事件行：没有 | 分隔符');
  const parts = line.split('|');
  if (parts.length < EVENT_LINE_FIELDS.length) {
    return reject(
      'field_count',
      `字段数 ${parts.length}，应为 ${EVENT_LINE_FIELDS.length}（${EVENT_LINE_FIELDS.join('|')}）`,
    );
  }
  // Extra `|` can only come from the summary, the last field.
  const [userId = '', eventType = '', startTime = '', endTime = '', idsField = '', ...rest] = parts.map((p) =>
    p.trim(),
  );
  const summary = rest.join('|').trim();

  const required = {
    user_id: userId,
    event_type: eventType,
    start_time: startTime,
    end_time: endTime,
    summary,
  };
  const empty = Object.entries(required).filter(([, value]) => value === '');
  if (empty.length > 0) return reject('empty_field', `字段为空：${empty.map(([name]) => name).join(', ')}`);

  if (userId !== ctx.userId)
    return reject('user_mismatch', `user_id ${userId} 不是本次运行的用户 ${ctx.userId}`);

  for (const [name, value] of [
    ['start_time', startTime],
    ['end_time', endTime],
  ] as const) {
    if (!isValidMinuteTime(value))
      return reject('bad_time', `${name} ${value} 不是有效的 YYYY-MM-DD HH:mm 时间`);
  }
  // Fixed-width zero-padded times compare correctly as strings.
  if (endTime < startTime)
    return reject('end_before_start', `end_time ${endTime} 早于 start_time ${startTime}`);

  const sourceBehaviorIds = splitBehaviourIds(idsField);
  if (sourceBehaviorIds.length === 0)
    return reject('no_sources', 'source_behavior_ids 为空：事件必须引用至少一条行为');
  const unknown = sourceBehaviorIds.filter((id) => !ctx.behaviourIds.has(id));
  if (unknown.length > 0) {
    return reject('unknown_behaviour', `source_behavior_ids 引用了该用户不存在的行为：${unknown.join(', ')}`);
  }

  return {
    kind: 'event',
    event: { runId: ctx.runId, userId, eventType, startTime, endTime, sourceBehaviorIds, summary, lineNo },
  };
}
