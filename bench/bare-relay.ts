/**
 * The floor of this stack: Hono's streamSSE plus the openai SDK, nothing else (no database, no parser,
 * no frame log). POST /relay streams the model's pieces as `data: {"content":…}` messages.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import OpenAI from 'openai';

const llm = new OpenAI({ baseURL: process.env.BENCH_MODEL_URL, apiKey: 'bench', maxRetries: 0 });
const app = new Hono();

app.post('/relay', (c) =>
  streamSSE(c, async (stream) => {
    const completion = await llm.chat.completions.create({
      model: 'bench',
      messages: [{ role: 'user', content: 'relay' }],
      stream: true,
    });
    let seq = 0;
    for await (const chunk of completion) {
      const content = chunk.choices[0]?.delta?.content;
      if (content) await stream.writeSSE({ id: String(++seq), data: JSON.stringify({ content }) });
    }
  }),
);

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send?.({ ready: true, url: `http://127.0.0.1:${info.port}` });
});
const stop = () => server.close(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
