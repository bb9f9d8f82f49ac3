import type { Behaviour, User } from '@app/shared';

/** What a prompt is built from. */
export interface PromptInput {
  user: User;
  behaviours: Behaviour[];
  /** Max characters of the rendered behaviour block; the newest behaviours that fit are kept. */
  budgetChars: number;
  /** Complete event lines already produced, for resume. */
  alreadyProduced?: string[];
  /** A review pass: the produced lines are a first pass to check, not output to continue. */
  review?: boolean;
}

/** Chat messages plus what the behaviour block actually covers. */
export interface BuiltPrompt {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  /** Behaviours rendered into the prompt, oldest first. */
  included: Behaviour[];
  /** How many behaviours the user has in total. */
  total: number;
  truncated: boolean;
}

/** A behaviour as it can be read back from a prompt. */
export type PromptBehaviour = Pick<Behaviour, 'id' | 'ts' | 'action' | 'object' | 'channel' | 'detail'>;

/** What {@link parsePrompt} recovers from the messages of {@link buildPrompt}. */
export interface ParsedPrompt {
  userId: string;
  behaviours: PromptBehaviour[];
  alreadyProduced: string[];
}

const BLOCK = {
  profile: ['<<<PROFILE', 'PROFILE>>>'],
  behaviours: ['<<<BEHAVIOURS', 'BEHAVIOURS>>>'],
  produced: ['<<<PRODUCED', 'PRODUCED>>>'],
} as const;

/** The system prompt: task and the exact line format. */
export const SYSTEM_PROMPT = [
  '你是汽车销售线索分析助手。请阅读一位购车用户的资料和行为日志，把相关行为归纳为“事件”。',
  '输出格式（必须严格遵守）：',
  '1. 每行一个事件，格式为：user_id|event_type|start_time|end_time|source_behavior_ids|summary',
  '2. start_time 和 end_time 的格式为 YYYY-MM-DD HH:mm，end_time 不得早于 start_time。',
  '3. source_behavior_ids 是该事件依据的行为 id，多个 id 用英文逗号分隔，只能引用日志中出现的 id。',
  '4. event_type 取值如：线上看车、到店看车、预约试驾、试驾、询价、下单、其他互动。',
  '5. summary 是一句简短的中文描述，不得包含 | 字符或换行。',
  '6. 只输出事件行：不要输出标题、解释、编号、代码块或任何其他文字。',
  '示例：',
  'user_0007|到店看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01,b0007-02|在门店看了Model Y并咨询配置',
].join('\n');

/** Fields are `|`-separated and one per line, so those characters are replaced, never escaped. */
function clean(s: string): string {
  return s.replace(/\|/g, '｜').replace(/[\r\n]+/g, ' ');
}

export function renderBehaviour(b: Behaviour): string {
  return [b.id, b.ts, b.action, b.object, b.channel, b.detail ?? ''].map(clean).join('|');
}

function block(kind: keyof typeof BLOCK, lines: string[]): string {
  return [BLOCK[kind][0], ...lines, BLOCK[kind][1]].join('\n');
}

/** Builds the chat messages for one user, keeping the most recent behaviours within the budget. */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const { user, budgetChars } = input;
  const sorted = input.behaviours
    .map((b, i) => ({ b, i }))
    .sort((x, y) => (x.b.ts < y.b.ts ? -1 : x.b.ts > y.b.ts ? 1 : x.i - y.i))
    .map((x) => x.b);
  const rendered = sorted.map(renderBehaviour);
  // Walk back from the newest so truncation always drops the oldest history.
  let start = rendered.length;
  let used = 0;
  while (start > 0) {
    const cost = rendered[start - 1]!.length + (used > 0 ? 1 : 0);
    if (used + cost > budgetChars && start < rendered.length) break;
    used += cost;
    start--;
  }
  const included = sorted.slice(start);
  const total = sorted.length;
  const truncated = included.length < total;
  const note = truncated
    ? `（仅包含最近 ${included.length}/${total} 条行为，更早的 ${total - included.length} 条因长度限制被省略）`
    : `（共 ${total} 条行为）`;
  const profile = JSON.stringify({ user_id: user.id, name: user.name, profile: user.profile });
  const parts = [
    `用户 ${user.id} 的资料（JSON）：`,
    block('profile', [profile]),
    `行为日志，按时间排序，每行格式 id|ts|action|object|channel|detail${note}：`,
    block('behaviours', rendered.slice(start)),
  ];
  const produced = (input.alreadyProduced ?? []).flatMap((l) => l.split(/\r?\n/).map((x) => x.trim()));
  const done = produced.filter((l) => l !== '');
  if (input.review)
    parts.push(
      `以下 ${done.length} 行是第一遍抽取出的事件（source_behavior_ids 为其依据的行为）：`,
      block('produced', done),
      '请对照行为日志复查：只输出第一遍遗漏的事件行，以及需要更正的事件的更正后版本（引用相同的行为 id）；' +
        '正确的行不要重复输出；如果没有需要补充或更正的，则不输出任何内容。',
    );
  else if (done.length === 0) parts.push('请按上述格式输出该用户的全部事件行。');
  else
    parts.push(
      `以下 ${done.length} 行事件已经输出过：`,
      block('produced', done),
      '请只继续输出其余的事件行，不要重复上面已经输出过的任何一行；如果没有其余事件，则不输出任何内容。',
    );
  return {
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: parts.join('\n') },
    ],
    included,
    total,
    truncated,
  };
}

/** Lines between a block's markers, or null when the block is missing or unterminated. */
function readBlock(lines: string[], kind: keyof typeof BLOCK): string[] | null {
  const open = lines.indexOf(BLOCK[kind][0]);
  if (open < 0) return null;
  const close = lines.indexOf(BLOCK[kind][1], open + 1);
  return close < 0 ? null : lines.slice(open + 1, close);
}

function parseBehaviour(line: string): PromptBehaviour | null {
  const f = line.split('|');
  if (f.length < 6) return null;
  const [id, ts, action, object, channel] = f as [string, string, string, string, string];
  const detail = f.slice(5).join('|');
  if (!id || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(ts)) return null;
  return { id, ts, action, object, channel, detail: detail === '' ? null : detail };
}

/** Reads a prompt made by {@link buildPrompt} back; null when the messages don't carry one. */
export function parsePrompt(messages: { role: string; content: string }[]): ParsedPrompt | null {
  const user = [...messages]
    .reverse()
    .find((m) => m.role === 'user' && m.content.includes(BLOCK.behaviours[0]));
  if (!user) return null;
  const lines = user.content.split(/\r?\n/);
  const profile = readBlock(lines, 'profile');
  const rows = readBlock(lines, 'behaviours');
  if (!profile || !rows) return null;
  let userId: unknown;
  try {
    userId = (JSON.parse(profile.join('\n')) as { user_id?: unknown }).user_id;
  } catch {
    return null;
  }
  if (typeof userId !== 'string' || userId === '') return null;
  const behaviours: PromptBehaviour[] = [];
  for (const row of rows) {
    if (row.trim() === '') continue;
    const b = parseBehaviour(row);
    if (!b) return null;
    behaviours.push(b);
  }
  const produced = (readBlock(lines, 'produced') ?? []).map((l) => l.trim()).filter((l) => l !== '');
  return { userId, behaviours, alreadyProduced: produced };
}
