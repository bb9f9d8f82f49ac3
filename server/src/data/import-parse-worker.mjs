// Plain JS so it starts as a worker under tsx, vitest and node alike; the parser itself is TypeScript,
// loaded through tsx's API. Decodes, parses and validates one import off the main thread (and its heap).
import { parentPort, workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { packSlices, parseToSlices } = await tsImport('./import-slices.ts', import.meta.url);
const { bytes, format, keepErrors } = workerData;
const { packed, transfer } = packSlices(parseToSlices(new TextDecoder().decode(bytes), format, keepErrors));
parentPort.postMessage(packed, transfer);
