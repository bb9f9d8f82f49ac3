/**
 * A reference floor below the bare relay (`npm run bench -- --bare node`): node:http in, node:http out,
 * one JSON.parse and one write per piece, no framework, no SDK, no database, no parser. It shows how much
 * of a relay's cost is the runtime's own sockets and HTTP; the targets are set against bare-relay.ts.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const model = new URL(process.env.BENCH_MODEL_URL!);
const agent = new Agent({ keepAlive: true });
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'relay' }], stream: true });

const server = createServer((req, res) => {
  req.resume();
  const upstream = request(
    {
      host: model.hostname,
      port: model.port,
      path: `${model.pathname.replace(/\/$/, '')}/chat/completions`,
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (up) => {
      if (up.statusCode !== 200) {
        up.resume();
        res.writeHead(502).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      up.setEncoding('utf8');
      let buffered = '';
      let seq = 0;
      up.on('data', (text: string) => {
        buffered += text;
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const chunk = JSON.parse(event.slice(6)) as { choices: { delta?: { content?: string } }[] };
          const content = chunk.choices[0]?.delta?.content;
          if (content) res.write(`id: ${++seq}\ndata: ${JSON.stringify({ content })}\n\n`);
        }
      });
      up.on('end', () => res.end());
    },
  );
  upstream.on('error', () => res.destroy());
  upstream.end(body);
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
const stop = () => server.close(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
