import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { brokenBody, claimNodeBody } from './node-fetch.js';

/**
 * Reads a streamed chat completion (`stream: true`, taken with the SDK's `.asResponse()`) and calls
 * `onChunk` synchronously for every chunk, as the SDK's stream would yield them: `[DONE]` ends it, a
 * chunk carrying `error` throws the SDK's APIError. Resolves at the end of the body; rejects when the
 * connection breaks or the request is aborted. One callback per piece, no promise per piece.
 */
export function readChatStream(
  response: Response,
  onChunk: (chunk: ChatCompletionChunk) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const res = claimNodeBody(response);
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      if (err === undefined) return resolve();
      res?.destroy(); // stop reading a body we no longer trust
      reject(err);
    };
    const parser = createParser({
      onEvent(msg: EventSourceMessage) {
        if (finished) return;
        if (msg.data.startsWith('[DONE]')) return finish();
        try {
          const data = JSON.parse(msg.data) as ChatCompletionChunk & { error?: unknown };
          if (data?.error) throw new APIError(undefined, data.error as object, undefined, response.headers);
          onChunk(data);
        } catch (err) {
          finish(err);
        }
      },
    });
    if (res) {
      const broken = brokenBody(res);
      if (broken) return finish(broken);
      res.setEncoding('utf8'); // a character split across TCP segments is joined before parsing
      res.on('data', (text: string) => parser.feed(text));
      res.once('end', () => finish());
      res.once('error', (err) => finish(err));
      res.once('close', () => finish(res.complete ? undefined : new Error('terminated')));
      return;
    }
    void readWebBody(response, (text) => parser.feed(text)).then(() => finish(), finish);
  });
}

/** Any other fetch: the standard body, decoded as a stream so split characters survive. */
async function readWebBody(response: Response, feed: (text: string) => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  for await (const bytes of response.body) feed(decoder.decode(bytes, { stream: true }));
  feed(decoder.decode());
}
