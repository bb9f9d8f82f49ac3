import { startBuiltinModel } from './server.js';

// Standalone run for manual testing: `BUILTIN_MODEL_FAULT=429x2 PORT=8787 npx tsx server/src/model/main.ts`.
const model = await startBuiltinModel({
  port: Number(process.env.PORT ?? 8787),
  ...(process.env.PIECES_PER_SECOND ? { piecesPerSecond: Number(process.env.PIECES_PER_SECOND) } : {}),
});
console.log(`built-in model ${model.modelName} listening at ${model.baseURL}`);
model.events.on('closed', (e: { id: string; piecesSent: number; completed: boolean; byClient: boolean }) =>
  console.log(`${e.id} closed: ${e.piecesSent} pieces, completed=${e.completed}, byClient=${e.byClient}`),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void model.close());
