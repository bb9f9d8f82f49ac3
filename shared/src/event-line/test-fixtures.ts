import type { ValidationContext } from './validate-event-line.js';

/** Shared by the tests: user_0007 with behaviours b0007-01 … b0007-06. */
export const CTX: ValidationContext = {
  runId: 'run_test0001',
  userId: 'user_0007',
  behaviourIds: new Set(['b0007-01', 'b0007-02', 'b0007-03', 'b0007-04', 'b0007-05', 'b0007-06']),
};

/**
 * Realistic model output: CRLF and LF endings, a prose line, a blank line, an invalid line, an extra `|`
 * in a summary, an emoji (surrogate pair), a duplicate, and a final line without a newline.
 */
export const SAMPLE = [
  '以下是抽象出的事件：\r\n',
  'user_0007|浏览车型|2026-01-14 20:00|2026-01-14 20:45|b0007-01，b0007-02|晚上在App里反复浏览Model Y和Model 3的配置页\r\n',
  '\r\n',
  'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-03, b0007-04|在门店看了Model Y并咨询配置🚗\r\n',
  'user_0007|试驾|2026-01-16 14:00|2026-01-16 13:00|b0007-05|试驾后觉得续航满意\r\n',
  'user_0007|预约|2026-01-17 09:30|2026-01-17 09:30|b0007-06|电话预约交付咨询|备注：关注价格\n',
  'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-04,b0007-03|重复的看车事件\r\n',
  'user_0007|关注优惠|2026-01-18 08:00|2026-01-18 08:10|b0007-01|查看了金融方案',
].join('');

/** Deterministic PRNG so "random" splits are reproducible. */
export { mulberry32 as seededRandom } from '../random.js';
